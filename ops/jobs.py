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
