"""RQ entry points: thin wrappers around services."""

from django.db import close_old_connections

from . import generation, services


def generate_creation(creation_id: str) -> str:
    # A long-lived worker may hold a connection the server has closed since the last job.
    close_old_connections()
    try:
        return generation.creation_generate(creation_id=creation_id)
    finally:
        close_old_connections()


def recover_creations() -> dict[str, int]:
    close_old_connections()
    return services.creations_recover()


def publish_scheduled_creation(creation_id: str) -> bool:
    """Run by RQ's scheduler at a scheduled post's time."""
    close_old_connections()
    try:
        return services.creation_publish_due(creation_id=creation_id)
    finally:
        close_old_connections()
