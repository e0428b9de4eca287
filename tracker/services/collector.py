"""Pausing Python's cycle collector while a bulk job builds many objects.

An import builds several objects per row: the sheet's cells, the parsed row, the validated
report, the stored day and the audit entry's before and after. Each collection of the oldest
generation walks every object alive, and the collector starts one each time the objects
that survived the younger generations grow by a quarter, so on a 100,000-row file it walked
the growing plan again and again: about a third of an import's Python time. These objects
hold no reference cycles, so reference counting frees them without the collector; the few
cycles a job may leave are collected at the first collection after it.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # jobs running with the collector paused (threads of one worker may overlap)
_resume = False  # whether the collector ran before the first of them


@contextmanager
def paused():
    """Run the body with the cycle collector off; it resumes when the last such body ends,
    unless it was off before the first began."""
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
