"""subtree roll-ups: per-ancestor member points, score counts, unit totals, roster stats

Revision ID: 0006_subtree_rollups
Revises: 0005_activities_flags

Every member's period points are also kept once per ancestor unit, ordered by points, so a
subtree's board is an index range; score counts give a member's rank without counting every
member above; unit totals serve unit boards. Roster stats are cached per period and checked
against a version that triggers bump whenever memberships, active dates or the tree change.
The new tables are filled from ``period_points`` here.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_subtree_rollups'
down_revision = '0005_activities_flags'
branch_labels = None
depends_on = None

BAND = 32

# (table, when): the changes that can alter a roster or a subtree.
TRIGGERS = [
    ("membership", "INSERT"),
    ("membership", "UPDATE"),
    ("membership", "DELETE"),
    ("member", "UPDATE OF active_from, active_to"),
    ("unit", "UPDATE OF path, parent_id"),
]


def upgrade():
    op.create_table('subtree_points',
    sa.Column('ancestor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('reported_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ancestor_id'], ['unit.id'], name=op.f('fk_subtree_points_ancestor_id_unit')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_subtree_points_member_id_member')),
    sa.PrimaryKeyConstraint('ancestor_id', 'kind', 'period_start', 'member_id', name=op.f('pk_subtree_points'))
    )
    op.create_index('ix_subtree_points_board', 'subtree_points', ['ancestor_id', 'kind', 'period_start', sa.literal_column('points').desc(), 'member_id'], unique=False)
    op.create_table('subtree_score',
    sa.Column('ancestor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('floor', sa.Integer(), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ancestor_id'], ['unit.id'], name=op.f('fk_subtree_score_ancestor_id_unit')),
    sa.PrimaryKeyConstraint('ancestor_id', 'kind', 'period_start', 'width', 'floor', name=op.f('pk_subtree_score'))
    )
    op.create_table('subtree_totals',
    sa.Column('ancestor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('reported_days', sa.Integer(), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ancestor_id'], ['unit.id'], name=op.f('fk_subtree_totals_ancestor_id_unit')),
    sa.PrimaryKeyConstraint('ancestor_id', 'kind', 'period_start', name=op.f('pk_subtree_totals'))
    )
    op.create_table('roster_stats',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('elapsed_end', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('roster', sa.Integer(), nullable=False),
    sa.Column('active_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_roster_stats_unit_id_unit')),
    sa.PrimaryKeyConstraint('unit_id', 'kind', 'period_start', name=op.f('pk_roster_stats'))
    )
    op.create_table('roster_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_version'))
    )
    op.execute("INSERT INTO roster_version (id, version) VALUES (1, 0)")
    _create_triggers()
    fill_subtree_rollups(op.execute)


def downgrade():
    _drop_triggers()
    op.drop_table('roster_version')
    op.drop_table('roster_stats')
    op.drop_table('subtree_totals')
    op.drop_table('subtree_score')
    op.drop_index('ix_subtree_points_board', table_name='subtree_points')
    op.drop_table('subtree_points')


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _trigger_name(table: str, when: str) -> str:
    return f"roster_version_{table}_{when.split()[0].lower()}"


def _create_triggers():
    if _postgres():
        op.execute(
            "CREATE FUNCTION bump_roster_version() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN UPDATE roster_version SET version = version + 1; RETURN NULL; END $$"
        )
        for table, when in TRIGGERS:
            op.execute(
                f"CREATE TRIGGER {_trigger_name(table, when)} AFTER {when} ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION bump_roster_version()"
            )
        return
    for table, when in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {_trigger_name(table, when)} AFTER {when} ON {table} "
            "BEGIN UPDATE roster_version SET version = version + 1; END"
        )


def _drop_triggers():
    for table, when in TRIGGERS:
        if _postgres():
            op.execute(f"DROP TRIGGER IF EXISTS {_trigger_name(table, when)} ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {_trigger_name(table, when)}")
    if _postgres():
        op.execute("DROP FUNCTION IF EXISTS bump_roster_version()")


def fill_subtree_rollups(execute):
    """The same statements as ``tracker.services.rollups.rebuild_subtrees`` (kept in step)."""
    execute(
        "CREATE TEMPORARY TABLE unit_ancestor_fill AS "
        "SELECT u.id AS unit_id, a.id AS ancestor_id FROM unit u "
        "JOIN unit a ON a.path = substr(u.path, 1, length(a.path))"
    )
    execute("CREATE INDEX ix_unit_ancestor_fill ON unit_ancestor_fill (unit_id, ancestor_id)")
    execute(
        "INSERT INTO subtree_points "
        "(ancestor_id, kind, period_start, member_id, points, reported_days) "
        "SELECT a.ancestor_id, p.kind, p.period_start, p.member_id, SUM(p.points), "
        "SUM(p.reported_days) "
        "FROM period_points p JOIN unit_ancestor_fill a ON a.unit_id = p.unit_id "
        "GROUP BY a.ancestor_id, p.kind, p.period_start, p.member_id"
    )
    execute("DROP TABLE unit_ancestor_fill")
    execute(
        "INSERT INTO subtree_score (ancestor_id, kind, period_start, width, floor, members) "
        "SELECT ancestor_id, kind, period_start, 1, points, COUNT(*) FROM subtree_points "
        "WHERE points <> 0 GROUP BY ancestor_id, kind, period_start, points"
    )
    execute(
        "INSERT INTO subtree_score (ancestor_id, kind, period_start, width, floor, members) "
        f"SELECT ancestor_id, kind, period_start, {BAND}, band, COUNT(*) FROM ("
        f"SELECT ancestor_id, kind, period_start, points - ((points % {BAND}) + {BAND}) % {BAND} "
        "AS band FROM subtree_points WHERE points <> 0) AS s "
        "GROUP BY ancestor_id, kind, period_start, band"
    )
    execute(
        "INSERT INTO subtree_totals "
        "(ancestor_id, kind, period_start, points, reported_days, participants) "
        "SELECT ancestor_id, kind, period_start, SUM(points), SUM(reported_days), "
        "SUM(CASE WHEN reported_days > 0 THEN 1 ELSE 0 END) FROM subtree_points "
        "GROUP BY ancestor_id, kind, period_start"
    )
