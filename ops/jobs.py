"""RQ entry points of ops, run by rqcron (phoenix/cron.py): thin wrappers around services.
(Ops sends no job of its own: an entry-point module is all it needs.)"""

from phoenix.jobs import job_entrypoint

from . import alerting, rollup


@job_entrypoint
def run_alert_checks() -> dict:
    """Run by rqcron every minute: the checks, their incidents, and who is told."""
    return alerting.alerts_run()


@job_entrypoint
def run_rollups() -> dict:
    """Run by rqcron every minute: the figures' running sums brought up to date."""
    return rollup.rollup_run()


def register_schedule(cron) -> None:
    """When these run: registered with rqcron by phoenix/cron.py."""
    # Every minute: the alert checks, their incidents, and whoever is to be told (e-mail,
    # webhook). A doubled run waits for the other's lock and sends nothing twice.
    cron.register(run_alert_checks, queue_name="light", interval=60, job_timeout=300)
    # Every minute: the running sums the figures read (ops.rollup), so a scrape or an alert
    # run reads the rollup plus a minute of rows, never the whole ledger. Each step is a
    # short transaction; a doubled run waits for the other's row lock and finds nothing
    # left to add. The figures stay exact while it lags (rollup + the rows since), so it
    # waits with the rest of the housekeeping.
    cron.register(run_rollups, queue_name="housekeeping", interval=60, job_timeout=600)
