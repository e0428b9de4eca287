"""What a long-running process (a web worker, the scheduler) does once its app is loaded,
before its first request or job."""

from __future__ import annotations

import gc
import logging
import os
import pickle
import signal
import threading
import traceback
from collections.abc import Callable
from functools import cache
from typing import TypeVar

from flask import Response

log = logging.getLogger(__name__)
T = TypeVar("T")


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
    malloc_trim()  # ctypes loaded now, with the rest of what is frozen
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
    """Have a full collection run once ``response`` has gone out (at the WSGI ``close``), and
    the heap's free pages handed back to the system.

    A drawn figure is a web of reference cycles: some 12,000 objects, 190 of whose texts hold
    the renderer and its picture (10 MB for a board drawn at 150 dpi). The collector's own
    runs reached such figures only several charts later: a process that had drawn 20 charts
    stood 81 MB above where it started, one that collected after each 14 MB. The collection
    walks what requests left, not the frozen rest (``settle``): 8-10 ms, once the client has
    its answer.

    The pictures freed then are large blocks which glibc's allocator gives from its heap once
    it has seen one freed (its mapping threshold rises), and pages freed inside the heap stay
    resident. ``malloc_trim`` returns them (0.1-0.2 ms): a worker that had drawn the day's
    charts at a province 146 → 136 MB, its charts no slower.
    """
    response.call_on_close(collect_and_trim)
    return response


def collect_and_trim() -> None:
    """A full collection, then the heap's free pages handed back (see ``collect_when_sent``)."""
    gc.collect()
    trim = malloc_trim()
    if trim is not None:
        trim(0)


@cache
def malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``; None on a C library without it."""
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


class ChildFailed(RuntimeError):
    """Work done in a child process failed in a way that could not be sent back as it was."""


# In a child: the worker's sessions and connection pools, kept referenced so that nothing of
# the worker's is closed or rolled back from the child (only ``os._exit`` ends a child).
_inherited: list = []


def in_child(work: Callable[[], T]) -> T:
    """``work()`` done in a forked child process; its result (or its exception) returned.

    For the few requests that take a lot of memory at once: a leader's export of a whole
    organisation ranks every member (at 100,000 members, +130 MB) and a review's PDF
    subsets the CJK font (+50 to +78 MB). Memory freed in a worker stays resident, scattered
    through its heap; a child's goes back to the system when it exits. A child that does
    nothing takes 10-20 ms (the fork, and the child's own connection); it shares the
    worker's pages until either writes to them.

    The child opens its own database connections and never uses the worker's: the objects
    the request had loaded move to a fresh session of the child's (those with changes not yet
    flushed are left detached, so that the child writes nothing of the worker's). A child is
    for reading; ``work``'s result must pickle.

    Without ``os.fork``, or in a process running other threads (a fork keeps only the
    calling thread, and whatever locks the others held), the work is done in-process; a
    thread marked ``fork_safe`` (SQLite's checkpointer) is paused by the fork instead.
    """
    if not hasattr(os, "fork") or any(
        t is not threading.current_thread() and not getattr(t, "fork_safe", False)
        for t in threading.enumerate()
    ):
        return work()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; its outcome is what the tests check
        _run_in_child(work, read_end, write_end)
    os.close(write_end)
    with open(read_end, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not payload:
        raise ChildFailed(f"the child process ended without an answer (status {status})")
    outcome = pickle.loads(payload)
    if outcome[0] == "ok":
        return outcome[1]
    if outcome[0] == "raised":  # rebuilt without calling its __init__, as the child had it
        _, kind, args, state = outcome
        error = kind.__new__(kind, *args)
        error.args = args
        error.__dict__.update(state)
        raise error
    raise ChildFailed(outcome[1])


# A child still running after this long is ended by the system (SIGALRM's default action),
# so that none outlives a worker that the server's own timeout (120 s) has replaced.
CHILD_SECONDS = 600


def _run_in_child(work: Callable, read_end: int, write_end: int) -> None:  # pragma: no cover
    status = 1
    try:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(CHILD_SECONDS)
        os.close(read_end)
        from flask import has_app_context

        database = has_app_context()  # outside the app, no database to keep apart
        if database:
            _own_connections()
        try:
            payload = pickle.dumps(("ok", work()), pickle.HIGHEST_PROTOCOL)
            status = 0
        except BaseException as e:
            try:
                raised = ("raised", type(e), e.args, vars(e))
                payload = pickle.dumps(raised, pickle.HIGHEST_PROTOCOL)
            except Exception:  # a class pickle cannot find again, or what it holds
                payload = pickle.dumps(("failed", traceback.format_exc()))
        finally:
            if database:
                _close_own_connections()
        with open(write_end, "wb") as pipe:
            pipe.write(payload)
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(status)


def _own_connections() -> None:
    """In a child: fresh connection pools and a fresh session, the worker's left untouched."""
    from .extensions import db

    registry = db.session.registry
    loaded = []
    if registry.has():
        inherited = registry()
        _inherited.append(inherited)
        changed = set(inherited.dirty) | set(inherited.new) | set(inherited.deleted)
        loaded = [o for o in inherited.identity_map.values() if o not in changed]
        inherited.expunge_all()
        registry.clear()
    for engine in db.engines.values():
        _inherited.append(engine.pool)
        engine.dispose(close=False)
    session = db.session()
    for instance in loaded:
        session.add(instance)  # persistent again, in a session whose connections are its own


def _close_own_connections() -> None:
    from .extensions import db

    db.session.remove()
    for engine in db.engines.values():
        engine.dispose()
