"""JSON API under /api/v1 (SPEC §6)."""

from . import activities, fairplay, onboarding, privacy  # noqa: F401  (route modules add to the blueprint)
from .routes import bp

__all__ = ["bp"]
