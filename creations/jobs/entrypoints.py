"""RQ entry points of creations: thin wrappers around the job bodies and services. Every
job creations runs starts here; creations/jobs/sending.py sends them, creations/jobs/schedule.py
says when the periodic ones run."""

from creations import services
from phoenix.jobs import job_entrypoint

from . import generation, housekeeping, recovery, remote


@job_entrypoint
def run_generation(creation_id: str) -> str:
    """A creation's job: claim it and generate it (or, for a remote provider, submit its
    task and return)."""
    return generation.creation_generate(creation_id=creation_id)


# Jobs queued before the rename still name the old function: kept for one release.
generate_creation = run_generation


@job_entrypoint
def check_remote_tasks() -> dict[str, int]:
    """Run by rqcron every PHOENIX_REMOTE_CHECK_INTERVAL (on `light`): one look at every
    remote task in flight, in a batch, no sooner than an interval after the last."""
    return remote.remote_tasks_check(paced=True)


@job_entrypoint
def fetch_remote_results(items: list[tuple[str, str]]) -> dict[str, str]:
    """A short job, sent by the check for remote tasks that succeeded: download, store and
    complete each ((creation id, output URL) pairs)."""
    return remote.remote_results_fetch(items=items)


@job_entrypoint
def recover_creations() -> dict[str, int]:
    return recovery.creations_recover()


@job_entrypoint
def publish_scheduled_creation(creation_id: str) -> bool:
    """Run by RQ's scheduler at a scheduled post's time."""
    return services.creation_publish_due(creation_id=creation_id)


@job_entrypoint
def cancel_provider_task(kind: str, task_id: str) -> bool:
    """After a cancel: stop the provider's task (it bills while it runs). A cancel the
    provider did not acknowledge is tried again by retry_provider_cancels."""
    return services.remote_cancel_attempt(kind=kind, task_id=task_id)


@job_entrypoint
def retry_provider_cancels() -> dict[str, int]:
    """Run by rqcron every minute: provider cancels not yet acknowledged, tried again."""
    return remote.remote_cancels_retry()


@job_entrypoint
def expire_drafts_job(
    now: str | None = None, stage: str = housekeeping.EXPIRE, after: str | None = None
) -> dict[str, int]:
    """RQ cron entry point (no arguments): one batch of the daily expiry or purge, which
    queues the next batch itself."""
    return housekeeping.housekeeping_run(now=now, stage=stage, after=after)


@job_entrypoint
def drop_source_copies_job() -> int:
    """RQ cron entry point: the stills' copies of long-failed or canceled videos deleted."""
    return housekeeping.source_copies_drop()
