"""Charts: data built from the rankings (``data``), drawn to PNG/SVG/PDF (``render``)."""

from .data import (
    BarChart,
    TrendChart,
    fingerprint,
    member_chart,
    member_trend,
    unit_chart,
    unit_trend,
)
from .draw import FORMATS, render

__all__ = [
    "FORMATS",
    "BarChart",
    "TrendChart",
    "fingerprint",
    "member_chart",
    "member_trend",
    "render",
    "unit_chart",
    "unit_trend",
]
