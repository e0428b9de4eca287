"""Fair-play flags: soft signals for the leaders of a member's subtree, never blocking a report.

Cheap checks run inside the report's transaction (``checks.after_report``); ``scan`` looks
over a period's history and adds what is missing; leaders list flags and mark them reviewed.
"""

from .checks import SavedDay, after_report
from .leaders import FlagView, can_see, review, visible
from .scan import scan

__all__ = ["FlagView", "SavedDay", "after_report", "can_see", "review", "scan", "visible"]
