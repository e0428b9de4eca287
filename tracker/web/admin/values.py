"""Reading form fields and JSON values into typed values, collecting per-field errors."""

from __future__ import annotations

from datetime import date
from typing import Any

from tracker.web.params import EARLIEST, LATEST

MAX_INT = 2**31 - 1  # ids and points fit a 32-bit column


def day(value: Any, field: str, errors: dict, *, required: bool = True) -> date | None:
    text = value.strip() if isinstance(value, str) else value
    if text in (None, ""):
        if required:
            errors[field] = "请填写日期"
        return None
    if not isinstance(text, str):
        errors[field] = "日期应为 YYYY-MM-DD"
        return None
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        errors[field] = f"“{text}”不是有效的日期（应为 YYYY-MM-DD）"
        return None
    if not EARLIEST <= parsed <= LATEST:
        errors[field] = f"日期应在 {EARLIEST.isoformat()} 至 {LATEST.isoformat()} 之间"
        return None
    return parsed


def integer(value: Any, field: str, errors: dict, *, required: bool = True) -> int | None:
    if isinstance(value, bool):
        errors[field] = "应为整数"
        return None
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            errors[field] = "数值过大"
            return None
        return value
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        if required:
            errors[field] = "请填写"
        return None
    sign = -1 if text[0] in "-−" else 1
    digits = text.lstrip("+-−")
    if not digits.isdigit():
        errors[field] = f"“{text}”不是整数"
        return None
    if len(digits) > 10 or int(digits) > MAX_INT:
        errors[field] = "数值过大"
        return None
    return sign * int(digits)


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""
