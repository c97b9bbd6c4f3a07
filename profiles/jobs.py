"""RQ entry points of profiles: thin wrappers around services."""

from django.db import close_old_connections

from . import services


def grant_held_welcomes() -> int:
    """Hourly: welcome grants held back by a capped day, oldest first, within today's cap."""
    close_old_connections()
    try:
        return services.held_welcomes_grant()
    finally:
        close_old_connections()
