"""When accounts' periodic job runs: registered with rqcron by phoenix/cron.py."""

from creations.jobs.housekeeping import HOUSEKEEPING_BATCH_TIMEOUT

from . import entrypoints


def register_schedule(cron) -> None:
    # Daily at 03:30 UTC: data exports past PHOENIX_EXPORT_DAYS removed (file and row), the
    # purge of any deleted account whose job was lost finished, and exports whose job was
    # lost sent again. Idempotent.
    cron.register(
        entrypoints.accounts_housekeeping,
        queue_name="housekeeping",
        cron="30 3 * * *",
        job_timeout=HOUSEKEEPING_BATCH_TIMEOUT,
    )
