"""What every import shares: row errors, the preview of changes, columns, unit references."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from tracker.domain.units import SEPARATORS, retired_conflict
from tracker.extensions import db
from tracker.models import Member, Unit

from .tables import Table

Progress = Callable[[int], None]


@dataclass(frozen=True)
class RowError:
    row: int  # the row number a spreadsheet shows
    column: str  # the header text, "" for the whole row
    letter: str  # the column letter, "" for the whole row
    reason: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行" + (f" {self.letter} 列（{self.column}）" if self.column else "")
        return f"{where}：{self.reason}"

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "letter": self.letter,
            "reason": self.reason,
        }


@dataclass
class Change:
    row: int
    action: str  # 新增, 替换, 不变
    text: str

    def as_dict(self) -> dict:
        return {"row": self.row, "action": self.action, "text": self.text}


@dataclass
class Result:
    """A dry run's or a commit's outcome; nothing was written unless ``committed``."""

    kind: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def counts(self) -> dict[str, int]:
        out = {"新增": 0, "替换": 0, "不变": 0}
        for c in self.changes:
            out[c.action] = out.get(c.action, 0) + 1
        return out

    def as_dict(self, limit: int = 500) -> dict:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "committed": self.committed,
            "counts": self.counts,
            "errors": [e.as_dict() for e in self.errors[:limit]],
            "error_count": len(self.errors),
            "changes": [c.as_dict() for c in self.changes[:limit]],
            "ignored_columns": self.ignored_columns,
        }


class ImportRejected(Exception):
    """A commit refused because of bad rows; nothing was written."""

    def __init__(self, result: Result) -> None:
        super().__init__(f"{len(result.errors)} 处错误，未导入任何数据")
        self.result = result


class Columns:
    """Which column holds which field, from the header and a table of accepted names."""

    def __init__(self, table: Table, aliases: dict[str, tuple[str, ...]]) -> None:
        self.table = table
        self.index: dict[str, int] = {}
        self.unused: dict[str, int] = {}
        lookup = {name: key for key, names in aliases.items() for name in names}
        for i, header in enumerate(table.headers):
            key = lookup.get(header)
            if key and key not in self.index:
                self.index[key] = i
            elif header:
                self.unused[header] = i

    def has(self, key: str) -> bool:
        return key in self.index

    def get(self, cells: list, key: str):
        i = self.index.get(key)
        return cells[i] if i is not None else None

    def error(self, row: int, key: str | int | None, reason: str) -> RowError:
        i = self.index.get(key) if isinstance(key, str) else key
        if i is None:
            return RowError(row, "", "", reason)
        return RowError(row, self.table.headers[i], self.table.letter(i), reason)


# Unit references ---------------------------------------------------------------------------


class UnitIndex:
    """Finds a unit by its name, or by a path of names ("机关党委/第一支部") where names repeat."""

    def __init__(self) -> None:
        rows = db.session.execute(
            select(Unit.id, Unit.name, Unit.parent_id, Unit.path, Unit.retired_on)
        ).all()
        self.units: dict[int, tuple[str, int | None, str]] = {
            i: (name, parent, path) for i, name, parent, path, _ in rows
        }
        self.retired: dict[int, date] = {i: day for i, _, _, _, day in rows if day is not None}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        for i, (name, _, _) in self.units.items():
            self.by_name[name].append(i)
        self._found: dict[str, tuple[int | None, str]] = {}  # a file names few units, often

    def add(self, unit_id: int, name: str, parent_id: int | None, path: str) -> None:
        self.units[unit_id] = (name, parent_id, path)
        self.by_name[name].append(unit_id)
        self._found.clear()

    def path(self, unit_id: int) -> str:
        return self.units[unit_id][2]

    def retired_conflict(self, unit_id: int, first: date, last: date | None = None) -> str | None:
        """Why nobody may belong to the unit from ``first`` to ``last`` (see the domain rule)."""
        return retired_conflict(self.units[unit_id][0], self.retired.get(unit_id), first, last)

    def label(self, unit_id: int) -> str:
        names, current = [], unit_id
        while current is not None:
            name, parent, _ = self.units[current]
            names.append(name)
            current = parent
        return "/".join(reversed(names))

    def find(self, text: str) -> tuple[int | None, str]:
        """(unit id, "") or (None, why not)."""
        if text not in self._found:
            self._found[text] = self._find(text)
        return self._found[text]

    def _find(self, text: str) -> tuple[int | None, str]:
        parts = [p for p in SEPARATORS.split(text.strip()) if p]
        if not parts:
            return None, "单位不能为空"
        found = [i for i in self.by_name.get(parts[-1], ()) if self._ends_with(i, parts)]
        if not found:
            return None, f"没有名为“{text}”的单位"
        if len(found) > 1:
            return (
                None,
                f"有 {len(found)} 个名为“{text}”的单位，请写出上级，如“{self.label(found[0])}”",
            )
        return found[0], ""

    def _ends_with(self, unit_id: int, parts: list[str]) -> bool:
        current: int | None = unit_id
        for name in reversed(parts):
            if current is None or self.units[current][0] != name:
                return False
            current = self.units[current][1]
        return True


def within(path: str, allowed: list[str] | None) -> bool:
    """Whether a unit path lies in one of the actor's subtrees (``None``: everywhere)."""
    return allowed is None or any(path.startswith(p) for p in allowed)


def allowed_paths(actor: Member | None) -> list[str] | None:
    """Where the actor may import: everywhere for admins and the command line, else led subtrees."""
    from tracker.services import access

    if actor is None or actor.is_admin:
        return None
    return access.led_paths(actor)
