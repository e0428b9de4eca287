"""Administration: the unit tree, members, rules, locks, awards, the audit log and imports —
as server-rendered pages under /admin and as JSON under /api/v1/admin."""

from .api import bp as api_bp
from .pages import bp

__all__ = ["api_bp", "bp"]
