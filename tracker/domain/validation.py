"""Validation of a daily report against the rules in force on its date (SPEC §1).

Every check yields a message per field; a report with any error is rejected whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from .rules import RuleVersion

MAX_NOTE = 500
_INTEGER_TEXT = re.compile(r"-?[0-9]+")
# Bounds for numbers that no category cap limits, well inside a 32-bit column.
MAX_CUMULATIVE = 100_000_000
MAX_QUIZ = {"questions": 100_000, "correct": 100_000, "seconds": 7 * 86_400}
MAX_QUIZ_KIND = 40
QUIZ_KINDS = ("每日答题", "每周答题", "专项答题", "挑战答题", "知识竞赛", "双人对战", "四人赛")


class ValidationError(Exception):
    """A rejected input; ``errors`` maps a field path to a message."""

    def __init__(self, errors: Mapping[str, str], title: str = "提交的内容有误") -> None:
        super().__init__(title)
        self.errors = dict(errors)
        self.title = title


@dataclass
class Quiz:
    kind: str
    questions: int
    correct: int
    seconds: int


@dataclass
class ReportInput:
    """What a member submits for one day, in one of the three forms."""

    items: dict[str, Any] | None = None
    total: Any = None
    cumulative: Any = None
    note: str = ""
    quizzes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ReportContext:
    """What the checks need to know about the world around the report."""

    day: date
    today: date
    rules: RuleVersion | None
    backfill_days: int
    locked: bool
    active: bool
    # Points per category already reported on other days of the same ISO week.
    week_items: Mapping[str, int] = field(default_factory=dict)
    # The latest platform total (总积分) reported before the day, and the earliest after it.
    previous_cumulative: int | None = None
    next_cumulative: int | None = None


@dataclass
class ValidReport:
    form: str  # "items", "total" or "cumulative"
    total: int
    items: dict[str, int]
    cumulative: int | None
    note: str
    quizzes: list[Quiz]


def parse_int(value: Any, *, allow_text: bool) -> int | None:
    """An integer or None. Text is accepted only from HTML forms, where every value is text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if allow_text and isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    return None


def validate_report(
    data: ReportInput, ctx: ReportContext, *, from_form: bool = False
) -> ValidReport:
    errors: dict[str, str] = {}
    _check_date(ctx, errors)
    if errors:
        raise ValidationError(errors)
    rules = ctx.rules
    assert rules is not None  # _check_date reported a missing version

    given = [name for name in ("items", "total", "cumulative") if _present(getattr(data, name))]
    items: dict[str, int] = {}
    typed_total = None
    cumulative = None

    if data.items is not None and not isinstance(data.items, Mapping):
        errors["items"] = "分项积分应为“类别代码: 分数”的对象"
    elif _present(data.items):
        items = _check_items(data.items, ctx, errors, from_form)
    if _present(data.total):
        typed_total = _non_negative(data.total, "total", "今日积分", errors, from_form)
    if _present(data.cumulative):
        cumulative = _non_negative(data.cumulative, "cumulative", "总积分", errors, from_form)
        if cumulative is not None and cumulative > MAX_CUMULATIVE:
            errors["cumulative"] = f"总积分 {cumulative} 不合理（最多 {MAX_CUMULATIVE}）"
            cumulative = None

    if not given:
        errors["items"] = "请填写分项积分、今日积分或总积分中的一种"
    if _present(data.items) and _present(data.cumulative):
        errors["cumulative"] = "填写了分项积分时不能再填总积分"

    form = (
        "items"
        if _present(data.items)
        else ("cumulative" if _present(data.cumulative) else "total")
    )
    total = 0
    if form == "items" and not any(k.startswith("items") for k in errors):
        total = sum(items.values())
        if typed_total is not None and typed_total != total:
            errors["total"] = f"今日积分 {typed_total} 与分项合计 {total} 不一致"
    elif form == "total" and typed_total is not None:
        total = typed_total
    elif form == "cumulative" and cumulative is not None:
        total = _from_cumulative(cumulative, typed_total, ctx, errors)

    maximum = rules.day_maximum(ctx.day)
    if not errors and total > maximum:
        target = "items" if form == "items" else form
        errors[target] = f"当日积分 {total} 超过当日上限 {maximum}"

    note = data.note if isinstance(data.note, str) else None
    if note is None:
        errors["note"] = "备注应为文字"
    elif len(note) > MAX_NOTE:
        errors["note"] = f"备注最多 {MAX_NOTE} 字"

    quizzes = _check_quizzes(data.quizzes, errors, from_form)
    if errors:
        raise ValidationError(errors)
    return ValidReport(
        form=form,
        total=total,
        items=items if form == "items" else {},
        cumulative=cumulative,
        note=(note or "").strip(),
        quizzes=quizzes,
    )


def _from_cumulative(
    cumulative: int, typed_total: int | None, ctx: ReportContext, errors: dict[str, str]
) -> int:
    """The day's points from the platform total: the difference to the last one reported.

    The first time, there is nothing to subtract, so the day's points are typed beside it.
    """
    if ctx.next_cumulative is not None and cumulative > ctx.next_cumulative:
        errors["cumulative"] = f"总积分 {cumulative} 大于之后一天填报的 {ctx.next_cumulative}"
    if ctx.previous_cumulative is None:
        if typed_total is None:
            errors.setdefault("total", "第一次填写总积分时，请同时填写今日积分")
            return 0
        if typed_total > cumulative:
            errors["total"] = f"今日积分 {typed_total} 不能大于总积分 {cumulative}"
        return typed_total
    if cumulative < ctx.previous_cumulative:
        errors["cumulative"] = f"总积分 {cumulative} 小于此前填报的 {ctx.previous_cumulative}"
        return 0
    derived = cumulative - ctx.previous_cumulative
    if typed_total is not None and typed_total != derived:
        errors["total"] = (
            f"今日积分 {typed_total} 与总积分之差 {derived}（{cumulative} − "
            f"{ctx.previous_cumulative}）不一致"
        )
    return derived


def _check_date(ctx: ReportContext, errors: dict[str, str]) -> None:
    if ctx.day > ctx.today:
        errors["date"] = f"{ctx.day.isoformat()} 是未来的日期，不能填报"
    elif ctx.day < ctx.today - timedelta(days=ctx.backfill_days):
        earliest = ctx.today - timedelta(days=ctx.backfill_days)
        errors["date"] = f"只能补填 {earliest.isoformat()} 及以后的日期"
    elif ctx.locked:
        errors["date"] = f"{ctx.day.isoformat()} 所在的时段已锁定，不能修改"
    elif not ctx.active:
        errors["date"] = f"{ctx.day.isoformat()} 不在该党员的在册期间"
    elif ctx.rules is None:
        errors["date"] = f"{ctx.day.isoformat()} 没有生效的积分规则"


def _check_items(
    raw: Mapping[str, Any], ctx: ReportContext, errors: dict[str, str], from_form: bool
) -> dict[str, int]:
    rules = ctx.rules
    assert rules is not None
    items: dict[str, int] = {}
    for code, value in raw.items():
        key = f"items.{code}"
        category = rules.category(code)
        if category is None:
            errors[key] = f"{ctx.day.isoformat()} 的积分规则中没有类别“{code}”"
            continue
        points = parse_int(value, allow_text=from_form)
        if points is None:
            if from_form and (value is None or str(value).strip() == ""):
                continue
            errors[key] = f"{category.label}：积分必须是整数"
            continue
        if points < 0:
            errors[key] = f"{category.label}：积分不能为负数"
        elif points > 0 and not category.counts_on(ctx.day):
            errors[key] = f"{category.label}只在{category.weekdays_label()}计分"
        elif points > category.daily_cap:
            errors[key] = f"{category.label}：{points} 超过每日上限 {category.daily_cap}"
        elif category.weekly_cap is not None:
            used = ctx.week_items.get(code, 0)
            if used + points > category.weekly_cap:
                errors[key] = (
                    f"{category.label}：本周其他日已得 {used}，加上 {points} 超过每周上限 "
                    f"{category.weekly_cap}"
                )
        if key not in errors and points > 0:
            items[code] = points
    return items


def _non_negative(
    value: Any, key: str, label: str, errors: dict[str, str], from_form: bool
) -> int | None:
    number = parse_int(value, allow_text=from_form)
    if number is None:
        errors[key] = f"{label}必须是整数"
    elif number < 0:
        errors[key] = f"{label}不能为负数"
    return number if key not in errors else None


def _check_quizzes(raw: Any, errors: dict[str, str], from_form: bool) -> list[Quiz]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors["quizzes"] = "答题记录应为列表"
        return []
    quizzes = []
    for i, q in enumerate(raw):
        prefix = f"quizzes[{i}]"
        if not isinstance(q, Mapping):
            errors[prefix] = "每条答题记录应为对象"
            continue
        kind = q.get("kind")
        if not isinstance(kind, str) or not kind.strip() or len(kind) > MAX_QUIZ_KIND:
            errors[f"{prefix}.kind"] = f"答题类型应为 1–{MAX_QUIZ_KIND} 字的文字"
        numbers = {}
        for name, label in (("questions", "题数"), ("correct", "答对"), ("seconds", "用时（秒）")):
            n = parse_int(q.get(name, 0 if name == "seconds" else None), allow_text=from_form)
            if n is None or n < 0:
                errors[f"{prefix}.{name}"] = f"{label}必须是非负整数"
                n = None
            elif n > MAX_QUIZ[name]:
                errors[f"{prefix}.{name}"] = f"{label}最多 {MAX_QUIZ[name]}"
                n = None
            numbers[name] = n
        questions, correct = numbers["questions"], numbers["correct"]
        if questions is not None and questions == 0 and f"{prefix}.questions" not in errors:
            errors[f"{prefix}.questions"] = "题数至少为 1"
        if (
            questions is not None
            and correct is not None
            and correct > questions
            and f"{prefix}.correct" not in errors
        ):
            errors[f"{prefix}.correct"] = f"答对 {correct} 题多于题数 {questions}"
        if not any(k.startswith(prefix) for k in errors):
            quizzes.append(Quiz(kind.strip(), questions, correct, numbers["seconds"]))  # type: ignore[arg-type]
    return quizzes


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip() != ""
    if isinstance(value, Mapping):
        return any(_present(v) for v in value.values())
    return True
