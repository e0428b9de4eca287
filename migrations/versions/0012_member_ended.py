"""members whose active span has ended, in id order: boards pass over them when they look for
members without points

Revision ID: 0012_member_ended
Revises: 0011_subtree_points_key_covers

On SQLite a member without points is found next to another in all members' id order: the ids
of memberships less those holding points. A member who left before the period keeps an open
membership and holds no points, so each was asked whether they are on the period's roster:
at the root of a year of province data, 296 such members against 57 on the roster, 6 ms for
one member's rank. This partial index holds only the members who have left (a few hundred), so
those gone before the period are passed over in the same merge.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_member_ended'
down_revision = '0011_subtree_points_key_covers'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_member_ended',
        'member',
        ['id', 'active_to'],
        unique=False,
        sqlite_where=sa.text('active_to IS NOT NULL'),
        postgresql_where=sa.text('active_to IS NOT NULL'),
    )


def downgrade():
    op.drop_index('ix_member_ended', table_name='member')
