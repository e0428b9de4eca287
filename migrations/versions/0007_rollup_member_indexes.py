"""roll-ups by member: a member's rebuild finds their rows without scanning every member's

Revision ID: 0007_rollup_member_indexes
Revises: 0006_subtree_rollups

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007_rollup_member_indexes'
down_revision = '0006_subtree_rollups'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_period_points_member_id', 'period_points', ['member_id'], unique=False)
    op.create_index('ix_subtree_points_member_id', 'subtree_points', ['member_id'], unique=False)


def downgrade():
    op.drop_index('ix_subtree_points_member_id', table_name='subtree_points')
    op.drop_index('ix_period_points_member_id', table_name='period_points')
