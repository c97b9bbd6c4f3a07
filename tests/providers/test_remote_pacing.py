"""The periodic check keeps to the provider's polling guidance (one look per task per
PHOENIX_REMOTE_CHECK_INTERVAL) even when checks queued up behind something and run back
to back; a finished task still becomes a draft at the next check."""

import pytest
from django.conf import settings

from creations import queues
from creations.jobs import entrypoints, remote
from tests.conftest import run_worker_burst
from tests.providers.conftest import fresh, submit_video

pytestmark = pytest.mark.django_db(transaction=True)


def redis():
    return queues.get_queue("light").connection


def redis_now() -> float:
    seconds, micros = redis().time()
    return seconds + micros / 1e6


def queue_checks(count: int) -> list:
    """What rqcron leaves on `light` while its worker was busy or down: a check per tick."""
    return [queues.get_queue("light").enqueue(entrypoints.check_remote_tasks) for _ in range(count)]


def running_video(user, fake_runway):
    fake_runway.duration = 3600
    creation = submit_video(user)
    run_worker_burst()  # the job submits the task and returns
    assert fresh(creation).provider_task_id
    return creation


def test_checks_that_queued_up_ask_the_provider_once(alice, fake_runway):
    creation = running_video(alice, fake_runway)

    checks = queue_checks(4)
    run_worker_burst()

    answers = [job.return_value() for job in checks]
    assert answers[0]["running"] == 1
    assert all(sum(answer.values()) == 0 for answer in answers[1:])
    assert fake_runway.count("task", fresh(creation).provider_task_id) == 1


def test_a_check_an_interval_after_the_last_asks_again(alice, fake_runway):
    creation = running_video(alice, fake_runway)
    (first,) = queue_checks(1)
    run_worker_burst()

    # The next tick, an interval later.
    interval = settings.PHOENIX_REMOTE_CHECK_INTERVAL
    redis().set(remote.CHECK_LAST, f"{redis_now() - interval - 0.01:.6f}")
    (second,) = queue_checks(1)
    run_worker_burst()

    assert first.return_value()["running"] == second.return_value()["running"] == 1
    assert fake_runway.count("task", fresh(creation).provider_task_id) == 2


def test_a_check_a_moment_early_waits_for_its_time_rather_than_skip_an_interval(alice, fake_runway):
    """rqcron's ticks and the worker's pick-up wobble: a check due in a fraction of a second
    asks then, instead of leaving the tasks an interval longer."""
    creation = running_video(alice, fake_runway)
    interval = settings.PHOENIX_REMOTE_CHECK_INTERVAL
    last = redis_now() - interval + 0.2
    redis().set(remote.CHECK_LAST, f"{last:.6f}")

    (check,) = queue_checks(1)
    run_worker_burst()

    assert check.return_value()["running"] == 1
    assert fake_runway.count("task", fresh(creation).provider_task_id) == 1
    assert float(redis().get(remote.CHECK_LAST)) >= last + interval


def test_a_task_that_finished_becomes_a_draft_at_the_next_check_after_a_backlog(alice, fake_runway):
    creation = running_video(alice, fake_runway)
    queue_checks(3)
    run_worker_burst()  # one asks (running), the others stop at once
    assert fresh(creation).status == "processing"

    fake_runway.tasks[fresh(creation).provider_task_id].submitted -= 3600  # done now
    interval = settings.PHOENIX_REMOTE_CHECK_INTERVAL
    redis().set(remote.CHECK_LAST, f"{redis_now() - interval - 0.01:.6f}")
    queue_checks(1)  # the next tick
    run_worker_burst()  # the check sends the fetch to the front of `light`: it runs next

    assert fresh(creation).status == "draft"
