"""a subtree roll-up's primary key holds its points on PostgreSQL: a member's row is one lookup

Revision ID: 0011_subtree_points_key_covers
Revises: 0010_membership_member_span

Boards look up single members' rows (the member's own place, last period's points of the
members shown) by the full key. Once the table is vacuumed, PostgreSQL can read the board
index alone but the key index only with the table, and a prepared statement's generic plan
expects a few dozen rows per subtree and period, so it chose the board index and filtered by
member: 11 ms for one member at the root of province data, 19 ms for twenty. With the points
in the key index both are read alone and the key wins. SQLite keeps these rows in their key's
b-tree already (migration 0008).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011_subtree_points_key_covers'
down_revision = '0010_membership_member_span'
branch_labels = None
depends_on = None

KEY = "ancestor_id, kind, period_start, member_id"


def _primary_key(include: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE subtree_points DROP CONSTRAINT pk_subtree_points, "
        f"ADD CONSTRAINT pk_subtree_points PRIMARY KEY ({KEY}){include}"
    )


def upgrade():
    _primary_key(" INCLUDE (points, reported_days)")


def downgrade():
    _primary_key("")
