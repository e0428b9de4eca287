"""Rules about the unit tree that need no database."""

from __future__ import annotations

import re
from datetime import date

# Between the names of a unit and the units above it, as people write a unit's trail
# ("机关党委/第一支部", "省委 › 机关党委"): imports and unit search fields take any of them.
SEPARATORS = re.compile(r"\s*[/／>＞›»\\]\s*")


def retired_conflict(
    name: str, retired_on: date | None, first: date, last: date | None = None
) -> str | None:
    """Why nobody may belong to a unit retired on ``retired_on`` from ``first`` to ``last``
    (open-ended if ``None``); ``None`` when the stay ends before the unit is retired."""
    if retired_on is None or (last is not None and last < retired_on):
        return None
    if first >= retired_on:
        return f"“{name}”已撤销（{retired_on.isoformat()} 起），不能再有党员"
    return f"“{name}”自 {retired_on.isoformat()} 起撤销，此后不能再有党员"


def path_ids(path: str) -> list[int]:
    """The unit ids of a materialised path such as ``/1/4/9/``, root first."""
    return [int(i) for i in path.strip("/").split("/") if i]
