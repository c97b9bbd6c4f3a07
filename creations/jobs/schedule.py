"""When creations' periodic jobs run: registered with rqcron by phoenix/cron.py (exactly one
rqcron in a deployment). Each goes to the queue of its size: recovery on `default` (a
forking worker of its own, never behind a long video), the remote-task check on `light` (a
non-forking worker: a fork per check every few seconds cost more than the check), the
daily housekeeping on `housekeeping` (a worker of its own, so nothing waits behind it)."""

from django.conf import settings

from . import entrypoints
from .housekeeping import HOUSEKEEPING_BATCH_TIMEOUT
from .remote import CHECK_JOB_TIMEOUT


def register_schedule(cron) -> None:
    cron.register(entrypoints.recover_creations, queue_name="default", interval=60, job_timeout=300)
    # Every remote task in flight (Runway) is looked at once per interval, in one batch job:
    # one short job per interval rather than one per task, and nothing to lose with a worker
    # (the next run reads the task ids from the database again). rqcron queues one every
    # interval whatever happens: a check that finds another still running, or that comes too
    # soon after the last one (queued up behind something), returns at once.
    cron.register(
        entrypoints.check_remote_tasks,
        queue_name="light",
        interval=settings.PHOENIX_REMOTE_CHECK_INTERVAL,
        job_timeout=CHECK_JOB_TIMEOUT,
    )
    # Provider cancels that failed (Runway down, 5xx), tried again with back-off until
    # acknowledged: a task left running bills.
    cron.register(
        entrypoints.retry_provider_cancels, queue_name="light", interval=60, job_timeout=120
    )
    # Daily at 03:30 UTC: expired drafts to the trash, trash older than PHOENIX_TRASH_DAYS
    # purged, PHOENIX_HOUSEKEEPING_BATCH at a time (each batch queues the next). Idempotent,
    # so a missed or doubled run does no harm.
    cron.register(
        entrypoints.expire_drafts_job,
        queue_name="housekeeping",
        cron="30 3 * * *",
        job_timeout=HOUSEKEEPING_BATCH_TIMEOUT,
    )
    # Daily at 03:40 UTC: the copies of the stills of videos that failed or were canceled
    # more than PHOENIX_SOURCE_COPY_DAYS ago are deleted (few rows; idempotent).
    cron.register(
        entrypoints.drop_source_copies_job,
        queue_name="housekeeping",
        cron="40 3 * * *",
        job_timeout=HOUSEKEEPING_BATCH_TIMEOUT,
    )
