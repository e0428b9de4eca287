"""What a long-running process (a web worker, the scheduler) does once its app is loaded,
before its first request or job."""

from __future__ import annotations

import gc
import logging
import os

from flask import Response

log = logging.getLogger(__name__)


def settle() -> None:
    """Load the chart fonts, then take every object alive out of the garbage collector's walks.

    A worker holds some 190,000 objects once the app is loaded: modules, SQLAlchemy's
    mappers, matplotlib and its font list, all alive until the process ends. A full
    collection walks every one of them (about 85 ms on the machines measured), and the
    cycles a chart's figure leaves behind set one off every few dozen charts: that
    collection was the slowest chart's whole excess over the others. Frozen
    (``gc.freeze``), these objects are no longer walked, and a full collection walks only
    what requests have left.

    Without the CJK font the worker still serves everything else; its charts answer with
    the font's error, as they would have anyway.
    """
    from .charts import draw, fonts

    try:
        draw.warm()
    except fonts.FontMissing as e:
        log.warning("charts cannot be drawn: %s", e)
    gc.collect()
    gc.freeze()


def resident_mb() -> float:
    """This process's resident memory in MB (Linux: ``/proc/self/statm``), 0 where unknown."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def collect_when_sent(response: Response) -> Response:
    """Have a full collection run once ``response`` has gone out (at the WSGI ``close``).

    A drawn figure is a web of reference cycles: some 12,000 objects, 190 of whose texts hold
    the renderer and its picture (10 MB for a board drawn at 150 dpi). The collector's own
    runs reached such figures only several charts later: a process that had drawn 20 charts
    stood 81 MB above where it started, one that collected after each 14 MB. The collection
    walks what requests left, not the frozen rest (``settle``): 8-10 ms, once the client has
    its answer.
    """
    response.call_on_close(gc.collect)
    return response
