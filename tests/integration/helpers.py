"""Helpers for integration tests: API clients as a member, and a snapshot of all points data."""

from __future__ import annotations

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import AuditEntry, DailyReport, PeriodPoints, QuizResult, ReportItem
from tracker.security import issue_token


class Api:
    """A test client that speaks to /api/v1 as one member, with a Bearer token."""

    def __init__(self, client, member) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {issue_token(member)}"}

    def get(self, path: str, **params):
        return self.client.get(f"/api/v1{path}", query_string=params, headers=self.headers)

    def put(self, path: str, body, **params):
        return self.client.put(
            f"/api/v1{path}", json=body, query_string=params, headers=self.headers
        )


def snapshot() -> tuple:
    """Everything a report write can change; equal snapshots mean nothing changed."""
    return (
        db.session.execute(
            select(
                DailyReport.member_id, DailyReport.day, DailyReport.total, DailyReport.note
            ).order_by(DailyReport.member_id, DailyReport.day)
        ).all(),
        db.session.execute(
            select(ReportItem.report_id, ReportItem.code, ReportItem.points).order_by(
                ReportItem.report_id, ReportItem.code
            )
        ).all(),
        db.session.execute(select(func.count()).select_from(QuizResult)).scalar_one(),
        db.session.execute(
            select(
                PeriodPoints.kind,
                PeriodPoints.period_start,
                PeriodPoints.member_id,
                PeriodPoints.unit_id,
                PeriodPoints.points,
                PeriodPoints.reported_days,
            ).order_by(
                PeriodPoints.kind,
                PeriodPoints.period_start,
                PeriodPoints.member_id,
                PeriodPoints.unit_id,
            )
        ).all(),
        db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
    )
