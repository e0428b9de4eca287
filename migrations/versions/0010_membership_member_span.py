"""memberships by member hold their unit and dates: a board's members' spans come from the index

Revision ID: 0010_membership_member_span
Revises: 0009_membership_unit_span

Every board reads the memberships of the members it shows (their active days this period and
last, their unit's name), and every report the member's unit on its day. The index by member
alone sent each of them to the table for the unit and dates; this one holds them.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010_membership_member_span'
down_revision = '0009_membership_unit_span'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_membership_member_span',
        'membership',
        ['member_id', 'unit_id', 'valid_from', 'valid_to'],
        unique=False,
    )
    op.drop_index('ix_membership_member_id', table_name='membership')


def downgrade():
    op.create_index('ix_membership_member_id', 'membership', ['member_id'], unique=False)
    op.drop_index('ix_membership_member_span', table_name='membership')
