"""Migrations are the schema; the CLI seeds, rebuilds and issues tokens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tracker.domain.periods import period_of
from tracker.extensions import db
from tracker.models import AuditEntry, Member
from tracker.services import clock, org, rankings, rollups


def test_models_and_migrations_do_not_drift(app):
    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_demo_organisation_loads_once_and_rebuild_keeps_its_rankings(app, ctx):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed", "demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "units" in result.output and "members" in result.output
    members = db.session.execute(select(func.count()).select_from(Member)).scalar_one()
    assert 140 <= members <= 160
    again = runner.invoke(args=["seed", "demo", "--if-empty"])
    assert again.exit_code == 0 and "already" in again.output
    assert db.session.execute(select(func.count()).select_from(Member)).scalar_one() == members
    # 4 levels above the branches, 8 支部, 党小组 under some; retired members belong too.
    root = org.root_unit()
    party_committee = org.children(org.children(root)[0])[0]
    assert [u.kind for u in org.ancestors(party_committee)] == ["党组", "党组", "党委"]
    assert len(org.children(party_committee)) == 8
    assert db.session.execute(select(func.count()).where(Member.retired)).scalar_one() >= 10
    # Every board has something to show on first start, including twelve weeks back.
    week = period_of("week", clock.today())
    for back in (1, 11):
        past = period_of("week", week.start - timedelta(weeks=back))
        board = rankings.unit_board(past, party_committee, "avg")
        assert sum(s.stats.points for s in board) > 0
    before = rollups.stored()
    result = runner.invoke(args=["rollups", "rebuild"])
    assert result.exit_code == 0, result.output
    assert rollups.stored() == before
    token = runner.invoke(args=["users", "token", "member"])
    assert token.exit_code == 0 and len(token.output.strip()) >= 40
    client = app.test_client()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.output.strip()}"})
    assert me.get_json()["name"] == "李学习"
    entry = (
        db.session.execute(
            select(AuditEntry)
            .where(AuditEntry.action == "member.token")
            .order_by(AuditEntry.id.desc())
        )
        .scalars()
        .first()
    )
    assert entry.actor_id is None  # the command line, not the member
    assert entry.member_id == me.get_json()["id"]
