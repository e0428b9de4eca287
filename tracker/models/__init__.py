"""SQLAlchemy 2 typed models, one module per aggregate."""

from . import reminders  # noqa: F401  (registers the reminder tables)
from .activities import Activity, ActivityKind, Attendance  # noqa: F401
from .audit import AuditEntry, LoginFailure
from .fairplay import FairPlayFlag, TokenWrite  # noqa: F401
from .onboarding import Invitation  # noqa: F401
from .org import LeaderRole, Member, Membership, Unit
from .reports import Adjustment, DailyReport, PeriodLock, QuizResult, ReportItem
from .review import QuarterlyReview, ReviewAward  # noqa: F401  (the quarterly review)
from .rollups import (
    PeriodPoints,
    RosterStats,
    RosterVersion,
    SubtreePoints,
    SubtreeScore,
    SubtreeTotals,
)
from .rules import RuleCategory, RuleVersion
from .settings import OrgSetting, PrivacyPrefs  # noqa: F401

__all__ = [
    "Adjustment",
    "AuditEntry",
    "DailyReport",
    "LeaderRole",
    "LoginFailure",
    "Member",
    "Membership",
    "PeriodLock",
    "PeriodPoints",
    "QuizResult",
    "ReportItem",
    "RosterStats",
    "RosterVersion",
    "RuleCategory",
    "RuleVersion",
    "SubtreePoints",
    "SubtreeScore",
    "SubtreeTotals",
    "Unit",
]
