"""gunicorn settings for the web: `gunicorn -c gunicorn.conf.py 'tracker:create_app()'`.

gunicorn reads this file by itself when started from this directory; settings given on the
command line (workers, bind address, …) win over it.
"""

import os

# Two sync workers, one a core: a chart or a long board in one does not hold up the other's
# requests. (On SQLite one worker alone writes about as many reports a second: see README.)
workers = 2

# The longest requests are an admin's: committing a 100,000-row import took 11-21 s on the
# machines measured, exporting the whole organisation's ranking 15 s. gunicorn's default
# (30 s) would kill a sync worker that busy on a slower machine, and the import with it.
timeout = 120


def post_worker_init(worker) -> None:
    """Runs in each worker once it has loaded the app."""
    from tracker.serving import settle

    settle()


# A worker whose resident memory has grown past this (MB) by the end of a response finishes
# and is replaced by a fresh one, as uWSGI's reload-on-rss does. A worker settles at about
# 120 MB and stays under 140 MB serving boards, charts, reports, exports and reviews (the
# last two are made in a child process: serving.in_child); the ceiling is the backstop for
# whatever else leaves memory behind, which only a new process gives back. 0 turns it off.
MAX_RSS_MB = int(os.environ.get("TRACKER_WORKER_MAX_RSS_MB", "200"))


def post_request(worker, req, environ, resp) -> None:
    """Runs in the worker after each response has been sent."""
    from tracker.serving import resident_mb

    if MAX_RSS_MB and (used := resident_mb()) > MAX_RSS_MB:
        worker.log.info(
            "worker %s holds %.0f MB, over %d MB: replaced after this request",
            worker.pid,
            used,
            MAX_RSS_MB,
        )
        worker.alive = False  # as for max_requests: the loop ends, the master starts another
