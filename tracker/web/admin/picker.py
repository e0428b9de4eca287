"""Choosing a unit in a form: a list while there are few, a search field past that.

A province has 5,000 units: a ``<select>`` of all of them made every member's page 300 KB and
the units page 1 MB, and was no way to find one unit anyway. Past ``UNIT_PICKER_FROM``
choices the field is a text input that names a unit by its trail (``省委 › 机关党委 ›
第一支部``) or, where that is unique, by its name alone; ``app.js`` offers matching trails as
the leader types (``lookup``). Without JavaScript, typing the name works the same, and so
does the end of a trail (``机关党委/第一支部``), as in an import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import current_app, url_for
from flask_login import current_user

from tracker.domain.units import SEPARATORS, path_ids
from tracker.models import Unit
from tracker.services import access
from tracker.services.admin import audit_log, units
from tracker.services.org import UnitRow

from . import values

SEPARATOR = " › "
SHOWN = 20  # trails offered for what has been typed
NAMED_IN_ERROR = 5


@dataclass
class Picker:
    """The units a field offers (``choices``, in tree order) and every unit's name, for trails."""

    field: str
    choices: Sequence[UnitRow]
    names: dict[int, str]
    lookup: str = ""  # the URL that offers trails as the leader types
    _trails: dict[int, tuple[str, ...]] = field(default_factory=dict, repr=False)

    @property
    def searching(self) -> bool:
        """Whether the field is a search field rather than a list."""
        return len(self.choices) >= current_app.config["UNIT_PICKER_FROM"]

    @property
    def typed_field(self) -> str:
        return f"{self.field}_name"

    def names_of(self, unit: UnitRow) -> tuple[str, ...]:
        """The names from the top of the tree down to the unit."""
        found = self._trails.get(unit.id)
        if found is None:
            found = self._trails[unit.id] = tuple(
                self.names.get(i, "?") for i in path_ids(unit.path)
            )
        return found

    def trail(self, unit: UnitRow) -> str:
        return SEPARATOR.join(self.names_of(unit))

    def label(self, unit_id) -> str:
        """The trail of the chosen unit's id (as a form holds it), or '' if it is not a choice."""
        for u in self.choices:
            if str(u.id) == str(unit_id):
                return self.trail(u)
        return ""

    def matching(self, typed: str) -> list[UnitRow]:
        """Choices whose name or trail holds what was typed, closest first: the name itself,
        then names that start with it, then the rest, each in tree order."""
        typed = " ".join(typed.split())
        if not typed:
            return []
        found = [u for u in self.choices if typed in u.name or typed in self.trail(u)]
        return sorted(found, key=lambda u: (u.name != typed, not u.name.startswith(typed), u.path))

    def resolve(self, typed: str, errors: dict) -> int | None:
        """The id of the unit typed into the search field: its name, or its trail or the end
        of it (``机关党委/第一支部``, with any of the separators an import takes); an error
        under ``field`` if none or several fit."""
        parts = tuple(p for p in SEPARATORS.split(typed.strip()) if p)
        if not parts:
            errors[self.field] = "请填写单位"
            return None
        fits = [u for u in self.choices if self.names_of(u)[-len(parts) :] == parts]
        if len(fits) == 1:
            return fits[0].id
        typed = SEPARATOR.join(parts)
        if fits:
            shown = "；".join(self.trail(u) for u in fits[:NAMED_IN_ERROR])
            more = "等" if len(fits) > NAMED_IN_ERROR else ""
            errors[self.field] = (
                f"有 {len(fits)} 个单位名为“{typed}”：{shown}{more}。请写出上级单位，"
                f"如“{self.trail(fits[0])}”"
            )
            return None
        close = self.matching(parts[-1])
        hint = (
            f"，相近的有：{'；'.join(self.trail(u) for u in close[:NAMED_IN_ERROR])}"
            if close
            else ""
        )
        errors[self.field] = f"没有可选的单位“{typed}”{hint}"
        return None

    def chosen(self, form, errors: dict, *, required: bool = True) -> int | None:
        """The unit id a submitted form chose: typed into the search field, or picked from the
        list (an id)."""
        if self.typed_field in form:
            typed = values.text(form.get(self.typed_field))
            if not typed.strip() and not required:
                return None
            return self.resolve(typed, errors)
        return values.integer(form.get(self.field), self.field, errors, required=required)


def _placeable_units(tree: list[UnitRow]) -> list[UnitRow]:
    """Units the current user may put members in."""
    if current_user.is_admin:
        return _live(tree)
    paths = access.led_paths(current_user)
    return [u for u in _live(tree) if any(u.path.startswith(p) for p in paths)]


def placeable(tree: list[UnitRow] | None = None) -> Picker:
    """The field choosing a unit for a member (to join, move to, lead)."""
    tree = units.tree() if tree is None else tree
    lookup = url_for("admin.unit_lookup", scope="placeable")
    return picker("unit", _placeable_units(tree), tree, lookup)


def parents(tree: list[UnitRow], outside: Unit | None = None) -> Picker:
    """The field choosing a parent unit: any unit in use, outside ``outside``'s subtree."""
    choices = _live(tree)
    if outside is not None:
        choices = [u for u in choices if not u.path.startswith(outside.path)]
    lookup = url_for("admin.unit_lookup", scope="live", outside=outside.id if outside else None)
    return picker("parent", choices, tree, lookup)


def channel_units(tree: list[UnitRow]) -> Picker:
    """A reminder channel's unit: any unit, a retired one a channel still names included,
    or none (the whole organisation)."""
    return picker("unit_id", tree, tree, url_for("admin.unit_lookup", scope="every"))


def audit_units(tree: list[UnitRow]) -> Picker:
    """The audit log's unit filter: every unit the viewer sees entries of, retired ones too."""
    paths = audit_log.require_viewer(current_user)
    choices = [u for u in tree if paths is None or any(u.path.startswith(p) for p in paths)]
    return picker("unit", choices, tree, url_for("admin.unit_lookup", scope="audit"))


def _live(tree: list[UnitRow]) -> list[UnitRow]:
    return [u for u in tree if u.retired_on is None]


def picker(name: str, choices: Sequence[UnitRow], every: Sequence[UnitRow], lookup: str) -> Picker:
    """A picker offering ``choices``, their trails named from ``every`` unit."""
    return Picker(name, choices, {u.id: u.name for u in every}, lookup)
