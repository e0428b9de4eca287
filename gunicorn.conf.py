"""gunicorn settings for the web: `gunicorn -c gunicorn.conf.py 'tracker:create_app()'`.

gunicorn reads this file by itself when started from this directory; settings given on the
command line (workers, bind address, …) win over it.
"""


def post_worker_init(worker) -> None:
    """Runs in each worker once it has loaded the app."""
    from tracker.serving import settle

    settle()
