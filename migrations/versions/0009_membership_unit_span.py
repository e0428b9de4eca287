"""memberships by unit hold their member and dates: a subtree's roster is read from the index

Revision ID: 0009_membership_unit_span
Revises: 0008_rollups_without_rowid

A subtree's roster, and its members without points, are read as its units' memberships. The
index by unit alone sent each of them to the table for the member and dates (half of the
time of finding a 950-member subtree's members without points); this one holds them.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009_membership_unit_span'
down_revision = '0008_rollups_without_rowid'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_membership_unit_span',
        'membership',
        ['unit_id', 'member_id', 'valid_from', 'valid_to'],
        unique=False,
    )
    op.drop_index('ix_membership_unit_id', table_name='membership')


def downgrade():
    op.create_index('ix_membership_unit_id', 'membership', ['unit_id'], unique=False)
    op.drop_index('ix_membership_unit_span', table_name='membership')
