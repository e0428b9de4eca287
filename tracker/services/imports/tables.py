"""Reading an uploaded sheet (CSV or XLSX) into numbered rows, and writing blank templates.

CSV may be UTF-8 (with or without BOM) or GB18030, as Excel on Chinese Windows saves it.
Exports often carry a title line above the header ("学习报表 2026年11月"), so the header is the
first of the top rows that names a column the import needs.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

HEADER_SEARCH_ROWS = 20
XLSX_MAGIC = b"PK\x03\x04"


class TableError(ValueError):
    """The file as a whole cannot be read (wrong type, encoding, no header)."""


@dataclass
class Table:
    headers: list[str]
    header_row: int  # 1-based, as a spreadsheet shows it
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)  # (row number, cells)

    def letter(self, index: int) -> str:
        from openpyxl.utils import get_column_letter

        return get_column_letter(index + 1)


def normalise_header(text: Any) -> str:
    """``" 今日积分（分）\\n"`` → ``"今日积分"``: no spaces, half-width brackets, no unit suffix."""
    if text is None:
        return ""
    value = str(text).strip().replace("（", "(").replace("）", ")")
    value = re.sub(r"\s+", "", value)
    return re.sub(r"\((分|元|次)\)$", "", value)


def read_table(filename: str, data: bytes, wanted: Iterable[str]) -> Table:
    """Rows of the first sheet; ``wanted`` are header texts of which one marks the header row."""
    if not data:
        raise TableError("文件是空的")
    is_xlsx = data.startswith(XLSX_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm"))
    # One pass: the header search stops at the header, the body carries on from there.
    raw = _xlsx_rows(data) if is_xlsx else _csv_rows(data)
    wanted = set(wanted)
    for number, cells in raw:
        headers = [normalise_header(c) for c in cells]
        if wanted & set(headers):
            table = Table(headers=headers, header_row=number)
            break
        if number >= HEADER_SEARCH_ROWS:
            raise TableError(
                f"前 {HEADER_SEARCH_ROWS} 行中没有找到表头（应含有 {'、'.join(sorted(wanted))} 之一）"
            )
    else:
        raise TableError(f"没有找到表头（应含有 {'、'.join(sorted(wanted))} 之一）")
    width = len(table.headers)
    for number, cells in raw:
        cells = list(cells[:width]) + [None] * (width - len(cells))
        if any(_filled(c) for c in cells):
            table.rows.append((number, cells))
    return table


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and value.strip() == "")


def _xlsx_rows(data: bytes):
    # calamine (Rust) reads a 100,000-row sheet in well under a second; openpyxl took ~9 s.
    # It gives "" for an empty cell where openpyxl gave None; rows keep the None convention.
    # The spreadsheet libraries load on first use (see ``exports.to_xlsx``).
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        cells = book.get_sheet_by_index(0).iter_rows()
    except (CalamineError, ValueError, IndexError, OSError) as e:
        raise TableError("无法读取该 Excel 文件，请另存为 .xlsx 后重试") from e

    def rows():
        try:
            for number, row in enumerate(cells, start=1):
                yield number, [None if c == "" else c for c in row]
        except (CalamineError, ValueError) as e:
            raise TableError("无法读取该 Excel 文件，请另存为 .xlsx 后重试") from e

    return rows()


def _csv_rows(data: bytes):
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8", errors="strict")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError as e:
                raise TableError("无法识别文件编码，请保存为 UTF-8 或 GB18030 的 CSV") from e
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return enumerate(reader, start=1)


# Cell values -------------------------------------------------------------------------------

DATE_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def cell_date(value: Any) -> date | None:
    """A date from an Excel date cell or from text such as 2026-11-23, 2026/11/23, 2026年11月23日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    m = DATE_TEXT.fullmatch(text) or (
        re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text) if text.isdigit() else None
    )
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def cell_number(value: Any) -> Any:
    """What validation expects: ints as ints, whole floats (Excel's 5.0) as ints, text as text."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


# Templates ---------------------------------------------------------------------------------


def template_bytes(fmt: str, headers: Sequence[str], example: Sequence[Sequence[Any]]) -> bytes:
    """A blank sheet with the header and example rows, as XLSX or as UTF-8 CSV with a BOM."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(headers)
        writer.writerows([cell_text(v) for v in row] for row in example)
        return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.append(list(headers))
    for row in example:
        sheet.append(list(row))
    for i, h in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = max(10, len(h) * 2 + 2)
    out_b = io.BytesIO()
    book.save(out_b)
    return out_b.getvalue()
