"""The scheduler process: job definitions (``jobs``) and the APScheduler runner (``runner``)."""
