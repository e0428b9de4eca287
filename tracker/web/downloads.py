"""Downloads: Content-Disposition for files with Chinese names, valid on every HTTP server
(RFC 6266), and tables sent as files."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from urllib.parse import quote

from flask import Response

from tracker import serving
from tracker.services import exports


def disposition(filename: str, *, attachment: bool = True) -> str:
    """``attachment; filename="…"; filename*=UTF-8''…``: ASCII fallback plus the UTF-8 name.

    Header values must be Latin-1 on the wire; a raw Chinese name makes the server fail.
    """
    kind = "attachment" if attachment else "inline"
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = "".join(c for c in ascii_name if c.isprintable() and c not in '"\\')
    ascii_name = re.sub(r"([-_ ])[-_ ]+", r"\1", ascii_name).strip("-_ ")
    _, dot, ext = filename.rpartition(".")
    if not ascii_name.strip(" .-_") or ascii_name == f".{ext}":
        ascii_name = f"download{dot}{ext}" if dot else "download"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def send_table(table: exports.Table, fmt: str) -> Response:
    """A table as an XLSX or CSV attachment named by its title, never kept by a cache."""
    return _send(table.title, exports.render(table, fmt), fmt)


def send_ranking(make: Callable[[], exports.Table], fmt: str) -> Response:
    """A ranking's table, made and written in a child process (``serving.in_child``): a
    leader's export of a whole organisation ranks every member, memory a worker would keep."""
    title, data = serving.in_child(lambda: _written(make(), fmt))
    return _send(title, data, fmt)


def _written(table: exports.Table, fmt: str) -> tuple[str, bytes]:
    return table.title, exports.render(table, fmt)


def _send(title: str, data: bytes, fmt: str) -> Response:
    response = serving.collect_when_sent(Response(data, mimetype=exports.FORMATS[fmt]))
    response.headers["Content-Disposition"] = disposition(f"{title}.{fmt}")
    response.headers["Cache-Control"] = "private, no-store"
    return response
