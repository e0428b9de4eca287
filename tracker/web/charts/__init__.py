"""Chart, export and quarterly-review URLs: pages, downloads and their /api/v1 twins."""

from .routes import bp

__all__ = ["bp"]
