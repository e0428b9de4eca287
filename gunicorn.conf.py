"""gunicorn settings for the web: `gunicorn -c gunicorn.conf.py 'tracker:create_app()'`.

gunicorn reads this file by itself when started from this directory; settings given on the
command line (workers, bind address, …) win over it.
"""

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
