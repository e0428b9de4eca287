"""Rankings exported to XLSX and CSV: what the viewer may see on the boards, as a table.

CSV is UTF-8 with a byte order mark, so Excel opens the Chinese columns correctly.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask import current_app

from tracker.domain.periods import Period
from tracker.models import Unit

from . import boards

MOTTO = "排名仅用于激励学习，不作考核依据"
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True)
class Column:
    title: str
    key: str
    width: int
    number_format: str = "General"


MEMBER_COLUMNS = [
    Column("排名", "rank", 6, "0"),
    Column("姓名", "name", 12),
    Column("支部", "unit", 28),
    Column("积分", "points", 9, "#,##0"),
    Column("日均分", "daily_avg", 9, "0.0"),
    Column("活跃天数", "reported_days", 9, "0"),
    Column("在册天数", "active_days", 9, "0"),
    Column("目标", "target", 8, "#,##0"),
    Column("达标", "met", 6),
    Column("变化", "change", 6, "+0;-0;0"),
]

UNIT_COLUMNS = [
    Column("排名", "rank", 6, "0"),
    Column("单位", "name", 30),
    Column("成员数", "roster", 8, "0"),
    Column("参学人数", "participants", 9, "0"),
    Column("参与率", "participation", 9, "0.0%"),
    Column("人均积分", "avg", 10, "0.00"),
    Column("总积分", "points", 10, "#,##0"),
    Column("活跃度", "activity", 9, "0.0%"),
    Column("变化", "change", 6, "+0;-0;0"),
]


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: list[dict]
    note: str = MOTTO  # the line under the table
    sheet: str = "排名"

    def values(self) -> list[list]:
        return [[row.get(c.key) for c in self.columns] for row in self.rows]


def member_table(viewer, period: Period, unit: Unit) -> Table:
    """Every roster member for a leader; the top of the board for anyone else (as on the page)."""
    view = boards.member_board(viewer, period, unit, limit=20, every_row=True)
    daily = current_app.config["DAILY_TARGET"]
    rows = []
    for r in view.rows:
        active = r.target // daily if daily else None
        rows.append(
            {
                "rank": r.rank,
                "name": r.name,
                "unit": r.unit_name,
                "points": r.points,
                "daily_avg": round(r.points / active, 2) if active else None,
                "reported_days": r.reported_days,
                "active_days": active,
                "target": r.target,
                "met": None if r.below_target is None else ("否" if r.below_target else "是"),
                "change": r.change,
            }
        )
    columns = MEMBER_COLUMNS
    if not view.full:  # below-target marks are the leader's to see
        columns = [c for c in MEMBER_COLUMNS if c.key != "met"]
    return Table(f"{unit.name} 个人学习榜 {period.key}", columns, rows)


def unit_table(viewer, period: Period, parent: Unit, metric: str = "avg") -> Table:
    rows = boards.unit_board(viewer, period, parent, metric)
    columns = list(UNIT_COLUMNS)
    if any(r["below_target"] is not None for r in rows):
        columns.append(Column("人均达标", "met", 8))
    for r in rows:
        r["met"] = None if r["below_target"] is None else ("否" if r["below_target"] else "是")
    return Table(f"{parent.name} 单位学习榜 {period.key}", columns, rows)


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.title for c in table.columns])
    for values in table.values():
        writer.writerow(["" if v is None else v for v in values])
    writer.writerow([])
    writer.writerow([table.note])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    """The sheet streamed row by row (openpyxl's write-only mode): a leader's export of the
    whole organisation is 100,000 rows, which a workbook held in memory took 14 s and
    385 MiB to write.

    openpyxl is loaded on first use, not with the app: a web worker that never writes or reads
    a spreadsheet stays about 6 MB smaller (with calamine, which reads them)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(table.sheet)
    for i, column in enumerate(table.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = column.width + 2
    ws.freeze_panes = "A2"
    last = get_column_letter(len(table.columns))
    ws.auto_filter.ref = f"A1:{last}{len(table.rows) + 1}"
    header = []
    for column in table.columns:
        cell = WriteOnlyCell(ws, value=column.title)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="C0392B")
        cell.alignment = Alignment(horizontal="center")
        header.append(cell)
    ws.append(header)
    # One styled cell per column, given each row's value in turn: the sheet is written as
    # rows are appended, so a cell can carry the next row's value once it is written.
    cells = []
    for column in table.columns:
        cell = WriteOnlyCell(ws)
        cell.number_format = column.number_format
        cells.append(cell)
    keys = [c.key for c in table.columns]
    for row in table.rows:
        for cell, key in zip(cells, keys, strict=True):
            cell.value = row.get(key)
        ws.append(cells)
    ws.append([])
    note = WriteOnlyCell(ws, value=f"{table.title} · {table.note}")
    note.font = Font(italic=True, color="888888")
    ws.append([note])
    wb.properties.title = table.title
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render(table: Table, fmt: str) -> bytes:
    if fmt == "xlsx":
        return to_xlsx(table)
    if fmt == "csv":
        return to_csv(table)
    raise ValueError(f"unknown export format {fmt!r}; expected xlsx or csv")
