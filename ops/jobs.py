"""RQ entry points of ops: thin wrappers around services."""

from django.db import close_old_connections

from . import alerting, rollup


def run_alert_checks() -> dict:
    """Run by rqcron every minute: the checks, their incidents, and who is told."""
    # A long-lived worker may hold a connection the server has closed since the last job.
    close_old_connections()
    try:
        return alerting.alerts_run()
    finally:
        close_old_connections()


def run_rollups() -> dict:
    """Run by rqcron every minute: the figures' running sums brought up to date."""
    close_old_connections()
    try:
        return rollup.rollup_run()
    finally:
        close_old_connections()
