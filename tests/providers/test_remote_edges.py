"""The edges of remote tasks (Runway, answered by the fake): a check that runs long or finds
another running, recovery racing a fetch, a storage failure during a fetch, a task replaced
under a check, a fetch resent too early, a cancel during the submit, and jobs queued under
the old name."""

import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from creations import queues, services
from creations.jobs import entrypoints, recovery, remote
from creations.models import Creation
from creations.providers import RemoteTask, remote_provider
from tests.conftest import run_worker_burst, start_worker, stop_worker, wait_for
from tests.providers.conftest import fresh, refunds, runway_worker_env, submit_video
from tokens.services import ledger_discrepancies

pytestmark = pytest.mark.django_db(transaction=True)


def submitted(user, count: int = 1) -> list[Creation]:
    """Videos whose jobs have submitted their tasks (run in this process)."""
    videos = [submit_video(user) for _ in range(count)]
    run_worker_burst()
    assert all(fresh(v).provider_task_id for v in videos)
    return videos


def redis():
    return queues.get_queue("default").connection


def assert_a_paid_draft(creation: Creation) -> None:
    creation = fresh(creation)
    assert (creation.status, creation.progress, refunds(creation)) == ("draft", 100, 0)
    assert ledger_discrepancies() == []


def test_a_check_that_finds_another_running_returns_at_once_and_asks_no_one(alice, fake_runway):
    submitted(alice)
    running = redis().lock(remote.CHECK_LOCK, timeout=60)
    assert running.acquire(blocking=False)
    try:
        # What rqcron queued every 5 s behind a long check: each one returns at once.
        assert sum(remote.remote_tasks_check().values()) == 0
        assert sum(remote.remote_tasks_check().values()) == 0
    finally:
        running.release()

    assert fake_runway.count("task_asked") == 0
    assert remote.remote_tasks_check()["succeeded"] == 1


@pytest.mark.slow
def test_a_check_stops_asking_at_its_budget_writes_what_it_heard_and_the_next_goes_on(
    alice, fake_runway, settings
):
    settings.PHOENIX_COSTS = {**settings.PHOENIX_COSTS, "video": 5}  # 12 within 100 tokens
    fake_runway.duration = 3600
    videos = submitted(alice, 12)
    for task in fake_runway.tasks.values():
        task.submitted -= 1800  # halfway: each answer moves its card's progress
    # The fake answers one look at a time, 0.4 s each: 8 looks start at once, one more
    # after the first answer (0.4 s), none after the budget (0.7 s).
    fake_runway.task_delay = 0.4
    settings.PHOENIX_REMOTE_CHECK_BUDGET = 0.7

    started = time.monotonic()
    answered = sum(remote.remote_tasks_check().values())
    took = time.monotonic() - started

    assert 1 <= answered <= 9 < len(videos)
    # Every answer heard was written, though the check stopped asking.
    assert sum(fresh(v).progress > 2 for v in videos) == answered
    assert took < 0.7 + 9 * 0.4 + 3
    # The next check starts with the tasks this one did not reach.
    remote.remote_tasks_check()
    assert all(fake_runway.count("task", fresh(v).provider_task_id) >= 1 for v in videos)
    assert all(fresh(v).status == "processing" for v in videos)


def test_recovery_leaves_a_task_whose_result_is_being_fetched(alice, fake_runway):
    (creation,) = submitted(alice)
    assert remote.remote_tasks_check()["succeeded"] == 1  # the fetch is queued
    deadline = fresh(creation).deadline
    # The fetch was sent just before the deadline and is still running (or retrying).
    Creation.objects.filter(pk=creation.pk).update(fetch_sent_at=deadline - timedelta(seconds=10))

    assert recovery.creations_recover(now=deadline + timedelta(seconds=1))["failed"] == 0
    run_worker_burst()

    assert_a_paid_draft(creation)
    assert fake_runway.count("cancel") == 0


def test_recovery_fetches_a_task_that_succeeded_at_its_deadline_instead_of_failing_it(
    alice, fake_runway
):
    (creation,) = submitted(alice)  # succeeded at Runway; no check has seen it yet
    deadline = fresh(creation).deadline

    assert recovery.creations_recover(now=deadline + timedelta(seconds=1))["failed"] == 0
    assert queues.get_queue("light").count == 1  # its fetch
    run_worker_burst()

    assert_a_paid_draft(creation)
    assert fake_runway.count("cancel") == 0 and fake_runway.count("output") == 1


def test_past_the_fetch_grace_recovery_fails_it_after_all(alice, fake_runway, settings):
    (creation,) = submitted(alice)
    grace = remote.FETCH_GRACE_TIMEOUTS * settings.PHOENIX_REMOTE_FETCH_TIMEOUT
    late = fresh(creation).deadline + timedelta(seconds=grace + 1)

    assert recovery.creations_recover(now=late)["failed"] == 1

    creation = fresh(creation)
    assert (creation.status, creation.error_code, refunds(creation)) == ("failed", "timed_out", 1)


def test_a_storage_failure_during_the_fetch_refunds_nothing_and_the_fetch_is_sent_again(
    alice, fake_runway, settings
):
    (creation,) = submitted(alice)
    working = settings.STORAGES
    settings.STORAGES = {
        **working,
        "default": {
            "BACKEND": "tests.creations.fakes.BrokenStorage",
            "OPTIONS": {"location": str(settings.MEDIA_ROOT)},
        },
    }
    remote.remote_tasks_check()
    run_worker_burst()  # the fetch: downloaded, but the storage refuses it

    assert (fresh(creation).status, refunds(creation)) == ("processing", 0)
    # Not sent again at once...
    remote.remote_tasks_check()
    assert queues.get_queue("light").count == 0
    # ...but after a pause, and then it lands.
    settings.STORAGES = working
    pause = timedelta(seconds=remote.FETCH_RETRY_PAUSE + 1)
    Creation.objects.filter(pk=creation.pk).update(fetch_sent_at=F("fetch_sent_at") - pause)
    remote.remote_tasks_check()
    run_worker_burst()

    assert_a_paid_draft(creation)
    assert fake_runway.count("submit") == 1 and fake_runway.count("output") == 2


@pytest.mark.parametrize("answer", [RemoteTask.FAILED, RemoteTask.GONE])
def test_an_answer_about_a_task_replaced_meanwhile_fails_nothing(alice, fake_runway, answer):
    (creation,) = submitted(alice)
    as_checked = fresh(creation)
    # Another check resubmitted it between this check's look and its write.
    Creation.objects.filter(pk=creation.pk).update(provider_task_id="a-newer-task")

    remote.record_answer(as_checked, RemoteTask(answer), remote_provider("video"), succeeded=[])

    creation = fresh(creation)
    assert (creation.status, creation.provider_task_id, refunds(creation)) == (
        "processing",
        "a-newer-task",
        0,
    )


def test_a_fetch_sent_one_fetch_timeout_ago_is_not_sent_twice(alice, fake_runway):
    (creation,) = submitted(alice)
    remote.remote_tasks_check()
    queue = queues.get_queue("light")
    assert queue.count == 1
    queue.empty()  # a worker took it, and may run it for its whole job timeout
    one_timeout = timedelta(seconds=django_settings.PHOENIX_REMOTE_FETCH_TIMEOUT + 1)
    Creation.objects.filter(pk=creation.pk).update(fetch_sent_at=F("fetch_sent_at") - one_timeout)

    remote.remote_tasks_check()

    assert queue.count == 0


@pytest.mark.slow
def test_a_cancel_while_the_submit_is_in_flight_still_cancels_the_task_once(
    alice, fake_runway, settings
):
    fake_runway.submit_delay = 2
    worker = start_worker(**runway_worker_env(settings))
    try:
        creation = submit_video(alice)
        wait_for(lambda: fake_runway.count("submit_asked") == 1, what="a submit in flight")
        services.creation_cancel(creation=fresh(creation))
        # The job is left to finish its submit: it sees the cancel and cancels the task.
        wait_for(lambda: fake_runway.count("cancel") == 1, what="the task canceled")
    finally:
        stop_worker(worker)

    creation = fresh(creation)
    assert (creation.status, refunds(creation)) == ("canceled", 1)
    assert fake_runway.count("submit") == 1 and fake_runway.count("cancel") == 1
    assert ledger_discrepancies() == []


def test_a_job_queued_under_the_old_name_still_runs(alice, settings):
    settings.PHOENIX_VIDEO_PROVIDER = "local"
    creation = submit_video(alice)
    queue = queues.queue_for_kind("video")
    queue.empty()
    # As a deploy finds it: queued by the previous release, under the job's old name.
    queue.enqueue("creations.jobs.generate_creation", str(creation.id))
    assert entrypoints.generate_creation is entrypoints.run_generation

    run_worker_burst()

    assert fresh(creation).status == "draft"


def test_recovery_with_no_time_left_to_ask_leaves_the_task_for_its_next_pass(
    alice, fake_runway, monkeypatch
):
    (creation,) = submitted(alice)
    monkeypatch.setattr(recovery, "RECOVERY_ASK_SECONDS", 0)  # as if Runway took it all
    deadline = fresh(creation).deadline

    assert recovery.creations_recover(now=deadline + timedelta(seconds=1))["failed"] == 0

    assert fake_runway.count("task_asked") == 0
    assert (fresh(creation).status, refunds(creation)) == ("processing", 0)


def test_a_fetch_marks_when_it_started_so_a_long_wait_in_the_queue_is_not_held_against_it(
    alice, fake_runway
):
    (creation,) = submitted(alice)
    task_id = fresh(creation).provider_task_id
    waited = timezone.now() - timedelta(hours=1)
    Creation.objects.filter(pk=creation.pk).update(fetch_sent_at=waited)
    fake_runway.output_delay = 1

    def fetch():
        try:
            remote.remote_result_fetch(
                creation_id=creation.id, output_url=f"{fake_runway.base_url}/outputs/{task_id}.mp4"
            )
        finally:
            connection.close()

    fetching = threading.Thread(target=fetch)
    fetching.start()
    try:
        wait_for(lambda: fake_runway.count("output_asked") == 1, what="a download in flight")
        assert fresh(creation).fetch_sent_at > waited
    finally:
        fetching.join()
    assert_a_paid_draft(creation)
