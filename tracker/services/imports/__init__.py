"""Imports of units, members and daily reports from CSV and XLSX: a dry run, then all or nothing.

    result = imports.preview("reports", "11月.xlsx", data, actor)   # what would change
    result = imports.commit("reports", "11月.xlsx", data, actor)    # or ImportRejected

``actor`` None is the command line, which may import anywhere.
"""

from __future__ import annotations

from tracker.models import Member
from tracker.services import clock, collector, rules

from . import reports, roster
from .common import Change, ImportRejected, Progress, Result, RowError
from .tables import Table, TableError, read_table, template_bytes

KINDS = ("units", "members", "reports")
LABELS = {"units": "单位", "members": "党员名册", "reports": "每日积分"}
FORMATS = ("xlsx", "csv")
_MARKS = {
    "units": roster.UNIT_MARKS,
    "members": roster.MEMBER_MARKS,
    "reports": reports.HEADER_MARKS,
}


@collector.paused()
def read(kind: str, filename: str, data: bytes) -> Table:
    _check_kind(kind)
    return read_table(filename, data, _MARKS[kind])


@collector.paused()
def preview(kind: str, filename: str, data: bytes, actor: Member | None, **options) -> Result:
    """What the file would change, and every bad row; writes nothing. Raises ``TableError``."""
    return run(kind, read(kind, filename, data), actor, commit=False, source=filename, **options)


@collector.paused()
def commit(kind: str, filename: str, data: bytes, actor: Member | None, **options) -> Result:
    """Write every row in one transaction, or nothing: raises ``ImportRejected`` with the errors."""
    return run(kind, read(kind, filename, data), actor, commit=True, source=filename, **options)


@collector.paused()
def run(
    kind: str,
    table: Table,
    actor: Member | None,
    *,
    commit: bool,
    source: str = "",
    backfill_days: int | None = None,
    progress: Progress | None = None,
) -> Result:
    """A dry run or a commit of a table already read (the command line counts its rows first)."""
    if kind == "units":
        if commit:
            return roster.commit_units(table, actor, source=source, progress=progress)
        return roster.preview_units(table, actor, progress)
    if kind == "members":
        if commit:
            return roster.commit_members(table, actor, source=source, progress=progress)
        return roster.preview_members(table, actor, progress)
    if commit:
        return reports.commit(
            table, actor, source=source, backfill_days=backfill_days, progress=progress
        )
    return reports.preview(table, actor, backfill_days=backfill_days, progress=progress)


def template(kind: str, fmt: str) -> bytes:
    """A blank file to fill in, with the header the import reads and one example row."""
    _check_kind(kind)
    if fmt not in FORMATS:
        raise ValueError(f"unknown template format {fmt!r}")
    today = clock.today()
    if kind == "units":
        headers, example = roster.unit_template()
    elif kind == "members":
        headers, example = roster.member_template(today)
    else:
        headers, example = reports.template(rules.versions(), today)
    return template_bytes(fmt, headers, example)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}")


__all__ = [
    "FORMATS",
    "KINDS",
    "LABELS",
    "Change",
    "ImportRejected",
    "Result",
    "RowError",
    "TableError",
    "commit",
    "preview",
    "read",
    "run",
    "template",
]
