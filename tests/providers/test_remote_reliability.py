"""Remote tasks (Runway, answered by the fake) hold no worker and survive a lost one: real
forking workers SIGKILLed after the submit, during a check and during the download; the
provider's failure, a task it no longer knows, a cancel and the overall deadline."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db.models import F

from creations import queues, services
from creations.jobs import entrypoints, recovery, remote
from creations.models import Creation
from tests.conftest import run_worker_burst, start_worker, stop_worker, wait_for
from tests.providers.conftest import fresh, refunds, runway_worker_env, submit_video
from tokens.services import ledger_discrepancies

pytestmark = pytest.mark.django_db(transaction=True)


def redis():
    return queues.get_queue("default").connection


def balance(user) -> int:
    user.token_account.refresh_from_db()
    return user.token_account.balance


def past_the_job_deadline(creation: Creation):
    """Where the old deadline (job timeout plus grace from the claim) would have failed it."""
    seconds = django_settings.PHOENIX_JOB_TIMEOUT["video"] + django_settings.PHOENIX_DEADLINE_GRACE
    return fresh(creation).processing_at + timedelta(seconds=seconds + 1)


def assert_a_paid_draft(creation: Creation, user) -> None:
    creation = fresh(creation)
    assert (creation.status, creation.progress, refunds(creation)) == ("draft", 100, 0)
    assert balance(user) == 90
    assert ledger_discrepancies() == []


def assert_failed_with_one_refund(creation: Creation, user, code: str) -> None:
    creation = fresh(creation)
    assert (creation.status, creation.error_code, refunds(creation)) == ("failed", code, 1)
    assert balance(user) == 100
    assert ledger_discrepancies() == []


@pytest.mark.slow
def test_worker_killed_after_the_submit_and_during_a_check_the_video_still_becomes_a_draft(
    alice, fake_runway, settings
):
    fake_runway.task_delay = 2
    worker = start_worker(**runway_worker_env(settings))
    try:
        creation = submit_video(alice)
        wait_for(lambda: fresh(creation).provider_task_id, what="the job to submit")
        queues.get_queue("light").enqueue(entrypoints.check_remote_tasks)
        wait_for(lambda: fake_runway.count("task_asked") == 1, what="a check in flight")
    finally:
        stop_worker(worker)  # SIGKILL to the worker and its work horse

    assert fresh(creation).status == "processing"
    # Past the job timeout: the task still lives at Runway, so recovery leaves it alone.
    later = past_the_job_deadline(creation)
    assert recovery.creations_recover(now=later) == {"reenqueued": 0, "failed": 0, "published": 0}

    fake_runway.task_delay = 0
    # The killed check's lock holds the next ones back until it expires (check_lock_ttl)...
    assert remote.remote_tasks_check()["succeeded"] == 0
    assert 0 < redis().ttl(remote.CHECK_LOCK) <= remote.check_lock_ttl()
    redis().delete(remote.CHECK_LOCK)
    assert remote.remote_tasks_check()["succeeded"] == 1  # ...then the next carries on
    run_worker_burst()  # the fetch

    assert_a_paid_draft(creation, alice)
    assert fake_runway.count("submit") == 1 and fake_runway.count("cancel") == 0


@pytest.mark.slow
def test_worker_killed_during_the_download_the_fetch_is_sent_again_and_it_becomes_a_draft(
    alice, fake_runway, settings
):
    fake_runway.output_delay = 2
    worker = start_worker(**runway_worker_env(settings))
    try:
        creation = submit_video(alice)
        wait_for(lambda: fresh(creation).provider_task_id, what="the job to submit")
        assert remote.remote_tasks_check()["succeeded"] == 1  # sends the fetch
        wait_for(lambda: fake_runway.count("output_asked") == 1, what="a download in flight")
    finally:
        stop_worker(worker)

    assert fresh(creation).status == "processing"
    # A fetch sent lately is not sent twice while it may still be running...
    assert remote.remote_tasks_check()["succeeded"] == 1
    assert queues.get_queue("light").count == 0
    # ...and is sent again once it has had its time.
    had_its_time = remote.fetch_resend_after() + timedelta(seconds=1)
    Creation.objects.filter(pk=creation.pk).update(fetch_sent_at=F("fetch_sent_at") - had_its_time)
    fake_runway.output_delay = 0
    remote.remote_tasks_check()
    assert queues.get_queue("light").count == 1
    run_worker_burst()

    assert_a_paid_draft(creation, alice)
    assert fake_runway.count("submit") == 1


def submitted(user) -> Creation:
    """A video whose job has submitted its task (run in this process)."""
    creation = submit_video(user)
    run_worker_burst()
    assert fresh(creation).provider_task_id
    return creation


def test_progress_reaches_the_card_while_the_task_runs(alice, fake_runway):
    # Half of an hour-long task: the fake's progress (rounded to 0.01) stays 0.50 for 18 s
    # of wall time, plenty for a loaded machine.
    fake_runway.duration = 3600
    creation = submitted(alice)
    assert fresh(creation).progress == 2
    fake_runway.tasks[fresh(creation).provider_task_id].submitted -= 1800

    assert remote.remote_tasks_check()["running"] == 1

    assert fresh(creation).progress in (2 + 88 * 50 // 100, 2 + 88 * 51 // 100)
    assert fresh(creation).status == "processing"
    assert queues.queue_for_kind("video").count == 0  # nothing holds a worker meanwhile


def test_the_provider_failing_the_task_fails_it_with_one_refund(alice, fake_runway):
    fake_runway.failure_code = "SAFETY.INPUT.TEXT"
    creation = submitted(alice)

    assert remote.remote_tasks_check()["failed"] == 1
    assert remote.remote_tasks_check()["failed"] == 0  # no longer in flight

    assert_failed_with_one_refund(creation, alice, "safety_filter")


def test_a_task_the_provider_no_longer_knows_fails_with_one_refund(alice, fake_runway):
    creation = submitted(alice)
    fake_runway.forget = True

    assert remote.remote_tasks_check()["gone"] == 1
    remote.remote_tasks_check()

    assert_failed_with_one_refund(creation, alice, "task_lost")


def test_a_cancel_reaches_the_provider_once_and_nothing_is_fetched(alice, fake_runway):
    # The task has already succeeded at Runway: only the cancel keeps it from being fetched.
    creation = submitted(alice)

    services.creation_cancel(creation=fresh(creation))
    remote.remote_tasks_check()
    run_worker_burst()

    assert fake_runway.count("cancel") == 1
    assert fake_runway.count("output") == 0
    creation = fresh(creation)
    assert (creation.status, refunds(creation), balance(alice)) == ("canceled", 1, 100)


def test_a_fetch_that_lands_after_a_cancel_is_discarded_with_its_files(alice, fake_runway):
    creation = submitted(alice)
    remote.remote_tasks_check()  # succeeded: the fetch is queued
    services.creation_cancel(creation=fresh(creation))

    run_worker_burst()

    creation = fresh(creation)
    assert (creation.status, creation.media.name, refunds(creation)) == ("canceled", "", 1)


def test_a_task_past_the_overall_deadline_is_failed_and_canceled_at_the_provider(
    alice, fake_runway
):
    fake_runway.duration = 3600
    creation = submitted(alice)
    deadline = fresh(creation).deadline
    assert deadline > past_the_job_deadline(creation)

    assert recovery.creations_recover(now=deadline - timedelta(seconds=1))["failed"] == 0
    assert recovery.creations_recover(now=deadline + timedelta(seconds=1))["failed"] == 1

    assert_failed_with_one_refund(creation, alice, "timed_out")
    assert fake_runway.count("cancel") == 1


def test_a_job_lost_before_it_recorded_a_task_is_worker_lost(alice, fake_runway):
    creation = submit_video(alice)
    services.creation_claim(creation_id=creation.id)  # claimed, then its worker died

    assert recovery.creations_recover(now=past_the_job_deadline(creation))["failed"] == 1

    assert_failed_with_one_refund(creation, alice, "worker_lost")


def test_the_periodic_check_is_scheduled_in_rqcron(db):
    from django_rq.cron import DjangoCronScheduler

    scheduler = DjangoCronScheduler()
    scheduler.load_config_from_file("phoenix.cron")
    check = {job.func_name: job for job in scheduler.get_jobs()}[
        "creations.jobs.entrypoints.check_remote_tasks"
    ]
    assert check.interval == django_settings.PHOENIX_REMOTE_CHECK_INTERVAL == 5
    assert check.queue_name == "light"


def test_with_a_local_video_provider_the_check_asks_no_one(alice, settings):
    settings.PHOENIX_VIDEO_PROVIDER = "local"
    creation = submit_video(alice)
    run_worker_burst()
    assert fresh(creation).status == "draft"
    assert remote.remote_tasks_check() == dict.fromkeys(
        ("running", "succeeded", "failed", "gone", "unknown"), 0
    )


def test_results_that_succeed_together_are_fetched_in_batches_each_on_its_own(alice, fake_runway):
    videos = [submit_video(alice) for _ in range(5)]
    run_worker_burst()  # five submits

    assert remote.remote_tasks_check()["succeeded"] == 5
    assert queues.get_queue("light").count == 2  # batches of FETCH_BATCH (4) and 1
    services.creation_cancel(creation=fresh(videos[0]))  # canceled while its fetch waits
    run_worker_burst()

    assert [fresh(v).status for v in videos] == ["canceled"] + ["draft"] * 4
    assert fresh(videos[0]).media.name == ""
    assert fake_runway.count("submit") == 5 and fake_runway.count("output") == 4
    assert balance(alice) == 100 - 4 * 10
    assert ledger_discrepancies() == []


def test_a_task_failed_by_the_providers_internal_error_is_submitted_again(alice, fake_runway):
    fake_runway.failure_code = "INTERNAL"
    creation = submitted(alice)
    first_task = fresh(creation).provider_task_id

    assert remote.remote_tasks_check()["failed"] == 1
    fake_runway.failure_code = None
    assert fresh(creation).provider_task_id != first_task
    assert remote.remote_tasks_check()["succeeded"] == 1
    run_worker_burst()

    assert_a_paid_draft(creation, alice)
    assert fake_runway.count("submit") == 2


def test_internal_errors_every_time_fail_it_once_retries_run_out(alice, fake_runway, settings):
    fake_runway.failure_code = "INTERNAL"
    creation = submitted(alice)

    for _ in range(settings.PHOENIX_TRANSIENT_RETRIES + 2):
        remote.remote_tasks_check()

    assert_failed_with_one_refund(creation, alice, "provider_unavailable")
    assert fake_runway.count("submit") == 1 + settings.PHOENIX_TRANSIENT_RETRIES
