"""Jobs already in Redis name their function by the dotted path it had when they were
queued (a scheduled post can wait a year; e-mail retries and generation jobs outlive a
deploy). Every old name still resolves, through RQ's own lookup, to today's entry point;
and the entry points keep their own names (the cron table and the dashboard show them)."""

import pytest
from rq.utils import import_attribute

from creations.jobs import entrypoints

OLD_NAMES = {
    "creations.jobs.run_generation": "creations.jobs.entrypoints.run_generation",
    "creations.jobs.generate_creation": "creations.jobs.entrypoints.run_generation",
    "creations.jobs.check_remote_tasks": "creations.jobs.entrypoints.check_remote_tasks",
    "creations.jobs.fetch_remote_results": "creations.jobs.entrypoints.fetch_remote_results",
    "creations.jobs.recover_creations": "creations.jobs.entrypoints.recover_creations",
    "creations.jobs.publish_scheduled_creation": (
        "creations.jobs.entrypoints.publish_scheduled_creation"
    ),
    "creations.jobs.cancel_provider_task": "creations.jobs.entrypoints.cancel_provider_task",
    "notifications.jobs.send_notification_email": (
        "notifications.jobs.entrypoints.send_notification_email"
    ),
    "accounts.jobs.send_account_email": "accounts.jobs.entrypoints.send_account_email",
    "accounts.jobs.build_data_export": "accounts.jobs.entrypoints.build_data_export",
    "accounts.jobs.purge_deleted_account": "accounts.jobs.entrypoints.purge_deleted_account",
    "accounts.jobs.accounts_housekeeping": "accounts.jobs.entrypoints.accounts_housekeeping",
}


@pytest.mark.parametrize(("old", "new"), OLD_NAMES.items())
def test_a_job_queued_under_its_old_name_runs_todays_entry_point(old, new):
    assert import_attribute(old) is import_attribute(new)


def test_an_unknown_name_in_a_jobs_package_fails_as_in_any_module():
    with pytest.raises(Exception) as in_a_module:
        import_attribute("creations.jobs.entrypoints.no_such_job")
    with pytest.raises(type(in_a_module.value)):
        import_attribute("creations.jobs.no_such_job")


def test_the_job_decorator_keeps_the_entry_points_name():
    assert entrypoints.recover_creations.__module__ == "creations.jobs.entrypoints"
    assert entrypoints.recover_creations.__name__ == "recover_creations"
