"""RQ entry points: thin wrappers around services. Every job Phoenix runs starts here, and
is enqueued by function (never by a dotted string)."""

from django.db import close_old_connections

from . import generation, recovery, services
from .providers import cancel_remote_task


def run_generation(creation_id: str) -> str:
    """A creation's job: claim it and generate it (or, for a remote provider, submit its
    task and return)."""
    # A long-lived worker may hold a connection the server has closed since the last job.
    close_old_connections()
    try:
        return generation.creation_generate(creation_id=creation_id)
    finally:
        close_old_connections()


# Jobs queued before the rename still name the old function: kept for one release.
generate_creation = run_generation


def check_remote_tasks() -> dict[str, int]:
    """Run by rqcron every PHOENIX_REMOTE_CHECK_INTERVAL (on `light`): one look at every
    remote task in flight, in a batch, no sooner than an interval after the last."""
    close_old_connections()
    try:
        return generation.remote_tasks_check(paced=True)
    finally:
        close_old_connections()


def fetch_remote_results(items: list[tuple[str, str]]) -> dict[str, str]:
    """A short job, sent by the check for remote tasks that succeeded: download, store and
    complete each ((creation id, output URL) pairs)."""
    close_old_connections()
    try:
        return generation.remote_results_fetch(items=items)
    finally:
        close_old_connections()


def recover_creations() -> dict[str, int]:
    close_old_connections()
    return recovery.creations_recover()


def publish_scheduled_creation(creation_id: str) -> bool:
    """Run by RQ's scheduler at a scheduled post's time."""
    close_old_connections()
    try:
        return services.creation_publish_due(creation_id=creation_id)
    finally:
        close_old_connections()


def cancel_provider_task(kind: str, task_id: str) -> None:
    """After a cancel: stop the provider's task (it bills while it runs)."""
    close_old_connections()
    try:
        cancel_remote_task(kind, task_id)
    finally:
        close_old_connections()
