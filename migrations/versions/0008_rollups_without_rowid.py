"""roll-ups clustered by their keys on SQLite (WITHOUT ROWID); the board index covers boards

Revision ID: 0008_rollups_without_rowid
Revises: 0007_rollup_member_indexes

Every saved report updates about a hundred roll-up rows. As rowid tables, each row lived in
two b-trees, the table and its primary key's index, and every write dirtied a page of both.
Clustered by the primary key, a row lives once, and the rows one report touches share
pages: a report's write commits fewer pages.

The subtree board index also holds ``reported_days``, so a board or a member's neighbours
are read from the index alone, on either database (a clustered table is found by its key,
dearer than by rowid).
"""
import re

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008_rollups_without_rowid'
down_revision = '0007_rollup_member_indexes'
branch_labels = None
depends_on = None

TABLES = ("period_points", "subtree_points", "subtree_score", "subtree_totals")
SUFFIX = " WITHOUT ROWID"


def _rebuild(clustered: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table in TABLES:
        create = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).scalar_one()
        indexes = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL ORDER BY name",
            (table,),
        ).scalars().all()
        if create.upper().endswith(SUFFIX) == clustered:
            continue
        body = create[: -len(SUFFIX)] if create.upper().endswith(SUFFIX) else create
        # The name is quoted once a table has been renamed.
        body = re.sub(rf'^CREATE TABLE "?{table}"?', f"CREATE TABLE _new_{table}", body)
        op.execute(body + (SUFFIX if clustered else ""))
        op.execute(f"INSERT INTO _new_{table} SELECT * FROM {table}")
        op.execute(f"DROP TABLE {table}")
        op.execute(f"ALTER TABLE _new_{table} RENAME TO {table}")
        for sql in indexes:
            op.execute(sql)


def _board_index(*extra: str) -> None:
    op.drop_index("ix_subtree_points_board", table_name="subtree_points")
    op.create_index(
        "ix_subtree_points_board",
        "subtree_points",
        ["ancestor_id", "kind", "period_start", sa.literal_column("points").desc(), "member_id"]
        + list(extra),
        unique=False,
    )


def upgrade():
    _rebuild(clustered=True)
    _board_index("reported_days")


def downgrade():
    _board_index()
    _rebuild(clustered=False)
