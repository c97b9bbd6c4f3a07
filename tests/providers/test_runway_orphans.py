"""Runway tasks billed with no record: the intent to submit is committed before the request
leaves, a lost answer is never sent again without an idempotency key, recovery adopts or
fails+refunds the orphan of a killed worker, provider cancels are retried until
acknowledged, and staff's "Fail and refund" cancels the task too. Against the fake Runway,
which counts the tasks it started (each one billed)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from creations import services
from creations.jobs import generation, recovery, remote
from creations.models import Creation, ProviderSubmission
from creations.providers import TransientProviderError
from creations.providers.runway_video import RunwayVideoProvider
from tests.conftest import run_worker_burst, start_worker, stop_worker, wait_for
from tests.providers.conftest import fresh, refunds, runway_worker_env, submit_video
from tokens.services import ledger_discrepancies

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "Idempotency-Key"


class Killed(BaseException):
    """What a SIGKILL does to the rest of the job, in-process: nothing after it runs."""


def balance(user) -> int:
    user.token_account.refresh_from_db()
    return user.token_account.balance


def past_the_job_deadline(creation: Creation):
    return fresh(creation).deadline + timedelta(seconds=1)


def claimed_video(user) -> Creation:
    creation = submit_video(user)
    return services.creation_claim(creation_id=creation.id)


def assert_failed_unconfirmed_once(creation: Creation, user) -> None:
    creation = fresh(creation)
    assert (creation.status, creation.error_code, refunds(creation)) == (
        "failed",
        "submission_unconfirmed",
        1,
    )
    assert balance(user) == 100
    assert ledger_discrepancies() == []
    assert list(creation.submissions.values_list("state", flat=True)) == ["possibly_submitted"]


def test_the_intent_is_committed_with_its_key_before_the_request_leaves(
    alice, fake_runway, monkeypatch
):
    creation = claimed_video(alice)
    seen = []
    real_submit = RunwayVideoProvider.submit_video

    def watch(self, **kwargs):
        row = ProviderSubmission.objects.get(creation=creation)
        seen.append(
            (row.state, str(row.key), kwargs["idempotency_key"], connection.in_atomic_block)
        )
        return real_submit(self, **kwargs)

    monkeypatch.setattr(RunwayVideoProvider, "submit_video", watch)

    assert generation.submit_remote_task(creation, RunwayVideoProvider()) == "submitted"

    ((state, key, sent_key, in_transaction),) = seen
    assert (state, sent_key, in_transaction) == ("intent", key, False)
    row = ProviderSubmission.objects.get(creation=creation)
    assert (row.state, row.task_id) == ("submitted", fresh(creation).provider_task_id)
    assert fake_runway.billed == 1


def test_a_lost_answer_is_not_sent_again_and_is_failed_and_refunded_once(
    alice, fake_runway, settings
):
    """Before: the read timeout was a transient error, sent again with back-off: every
    retry started (and billed) another task, none of them recorded."""
    settings.PHOENIX_RUNWAY_REQUEST_TIMEOUT = 0.3
    fake_runway.answer_delay = 1.0
    creation = claimed_video(alice)

    assert generation.submit_remote_task(creation, RunwayVideoProvider()) == "failed"

    assert fake_runway.billed == 1
    assert_failed_unconfirmed_once(creation, alice)
    # A later recovery pass has nothing more to do with it.
    assert recovery.creations_recover(now=timezone.now() + timedelta(days=1))["failed"] == 0
    assert refunds(fresh(creation)) == 1


def test_with_an_idempotency_header_a_lost_answer_is_sent_again_under_the_same_key(
    alice, fake_runway, settings
):
    settings.PHOENIX_RUNWAY_REQUEST_TIMEOUT = 0.3
    settings.PHOENIX_RUNWAY_IDEMPOTENCY_HEADER = HEADER
    fake_runway.idempotency_header = HEADER
    fake_runway.answer_delay = 1.0
    fake_runway.slow_answers = 1
    creation = claimed_video(alice)

    assert generation.submit_remote_task(creation, RunwayVideoProvider()) == "submitted"

    (task_id,) = fake_runway.tasks
    assert fake_runway.billed == 1
    assert fake_runway.count("submit_replayed") >= 1  # the same task, answered again
    creation = fresh(creation)
    assert (creation.status, creation.provider_task_id) == ("processing", task_id)
    row = creation.submissions.get()
    assert (row.state, row.task_id) == ("submitted", task_id)


def kill_before_the_record(monkeypatch):
    def killed(**kwargs):
        raise Killed()

    monkeypatch.setattr(services, "submission_record_task", killed)


def test_a_job_killed_between_submit_and_record_is_failed_refunded_once_by_recovery(
    alice, fake_runway, monkeypatch
):
    creation = claimed_video(alice)
    kill_before_the_record(monkeypatch)
    with pytest.raises(Killed):
        generation.submit_remote_task(creation, RunwayVideoProvider())
    monkeypatch.undo()
    assert fake_runway.billed == 1
    assert fresh(creation).submissions.get().state == "intent"

    later = past_the_job_deadline(creation)
    assert recovery.creations_recover(now=later)["failed"] == 1
    assert recovery.creations_recover(now=later)["failed"] == 0

    assert fake_runway.billed == 1
    assert_failed_unconfirmed_once(creation, alice)


def test_with_an_idempotency_header_recovery_adopts_the_orphan_and_it_becomes_a_draft(
    alice, fake_runway, settings, monkeypatch
):
    settings.PHOENIX_RUNWAY_IDEMPOTENCY_HEADER = HEADER
    fake_runway.idempotency_header = HEADER
    creation = claimed_video(alice)
    kill_before_the_record(monkeypatch)
    with pytest.raises(Killed):
        generation.submit_remote_task(creation, RunwayVideoProvider())
    monkeypatch.undo()

    assert recovery.creations_recover(now=past_the_job_deadline(creation))["failed"] == 0

    (task_id,) = fake_runway.tasks
    assert fake_runway.billed == 1
    assert fresh(creation).provider_task_id == task_id
    assert remote.remote_tasks_check()["succeeded"] == 1
    run_worker_burst()  # the fetch
    creation = fresh(creation)
    assert (creation.status, refunds(creation), balance(alice)) == ("draft", 0, 90)
    assert fake_runway.billed == 1
    assert ledger_discrepancies() == []


@pytest.mark.slow
def test_a_real_worker_killed_while_the_submit_waits_for_its_answer_bills_one_task_refunds_once(
    alice, fake_runway, settings
):
    fake_runway.answer_delay = 3
    worker = start_worker(**runway_worker_env(settings))
    try:
        creation = submit_video(alice)
        wait_for(lambda: fake_runway.billed == 1, what="the task to start at Runway")
    finally:
        stop_worker(worker)  # SIGKILL to the worker and its work horse

    creation = fresh(creation)
    assert (creation.status, creation.provider_task_id) == ("processing", "")
    assert creation.submissions.get().state == "intent"
    later = past_the_job_deadline(creation)
    assert recovery.creations_recover(now=later)["failed"] == 1
    assert recovery.creations_recover(now=later)["failed"] == 0

    assert fake_runway.billed == 1
    assert_failed_unconfirmed_once(creation, alice)


def submitted(user) -> Creation:
    creation = submit_video(user)
    run_worker_burst()
    assert fresh(creation).provider_task_id
    return creation


def test_a_cancel_that_fails_is_retried_with_backoff_until_acknowledged(
    alice, fake_runway, settings
):
    """Before: a failed DELETE was logged and forgotten while the task ran on, billing."""
    settings.PHOENIX_PROVIDER_CANCEL_BACKOFF = 30
    fake_runway.duration = 3600
    fake_runway.cancel_failures = 2
    creation = submitted(alice)

    services.creation_cancel(creation=fresh(creation))
    run_worker_burst()  # the cancel job: 503

    row = fresh(creation).submissions.get()
    assert (row.cancel_attempts, row.cancel_acknowledged_at) == (1, None)
    first_retry = row.cancel_next_at
    assert first_retry > timezone.now() + timedelta(seconds=25)
    assert remote.remote_cancels_retry() == {"acknowledged": 0, "failed": 0}  # not due yet

    assert remote.remote_cancels_retry(now=first_retry) == {"acknowledged": 0, "failed": 1}
    row.refresh_from_db()
    assert row.cancel_attempts == 2
    assert row.cancel_next_at >= first_retry + timedelta(seconds=60)  # doubled

    assert remote.remote_cancels_retry(now=row.cancel_next_at) == {"acknowledged": 1, "failed": 0}
    row.refresh_from_db()
    assert row.cancel_acknowledged_at is not None
    assert remote.remote_cancels_retry(now=timezone.now() + timedelta(days=1))["acknowledged"] == 0
    assert fake_runway.count("cancel") == 3
    assert next(iter(fake_runway.tasks.values())).cancelled
    assert refunds(fresh(creation)) == 1


def test_staff_fail_and_refund_cancels_the_provider_task(alice, fake_runway, admin_user):
    """Before: the creation was failed and refunded while its Runway task ran on."""
    fake_runway.duration = 3600
    creation = submitted(alice)

    assert services.creation_fail_by_staff(
        creation=fresh(creation), staff=admin_user, reason="Stuck for a day"
    )
    run_worker_burst()  # the cancel job

    (task_id,) = fake_runway.tasks
    assert fake_runway.count("cancel", task_id) == 1
    assert fake_runway.tasks[task_id].cancelled
    row = fresh(creation).submissions.get()
    assert row.cancel_acknowledged_at is not None
    creation = fresh(creation)
    assert (creation.status, refunds(creation)) == ("failed", 1)


def resubmission_killed_before_its_record(user, fake_runway, monkeypatch) -> Creation:
    """A video whose first task failed by the provider's internal error, and the check that
    submitted it again killed between the provider's answer and its record: the new task
    runs (and bills) at Runway, its intent is all we hold."""
    fake_runway.failure_code = "INTERNAL"
    creation = submitted(user)
    kill_before_the_record(monkeypatch)
    with pytest.raises(Killed):
        remote.remote_tasks_check()
    monkeypatch.undo()
    assert fake_runway.billed == 2
    assert sorted(fresh(creation).submissions.values_list("state", flat=True)) == [
        "intent",
        "submitted",
    ]
    return creation


def test_a_resubmission_that_lost_its_answer_is_not_sent_again_without_a_key(
    alice, fake_runway, monkeypatch
):
    """Before: the next check submitted a third task under a new key, and the second one's
    intent stayed `intent` for ever: billed, unknown to staff, never settled."""
    creation = resubmission_killed_before_its_record(alice, fake_runway, monkeypatch)

    remote.remote_tasks_check()  # the first task is still failed at Runway

    assert fake_runway.billed == 2
    creation = fresh(creation)
    assert (creation.status, refunds(creation), balance(alice)) == ("failed", 1, 100)
    assert sorted(creation.submissions.values_list("state", flat=True)) == [
        "possibly_submitted",
        "submitted",
    ]
    assert ledger_discrepancies() == []


def test_with_an_idempotency_header_a_resubmission_that_lost_its_answer_is_adopted(
    alice, fake_runway, settings, monkeypatch
):
    settings.PHOENIX_RUNWAY_IDEMPOTENCY_HEADER = HEADER
    fake_runway.idempotency_header = HEADER
    creation = resubmission_killed_before_its_record(alice, fake_runway, monkeypatch)
    lost_key = str(fresh(creation).submissions.get(state="intent").key)

    remote.remote_tasks_check()  # the first task is still failed at Runway

    assert fake_runway.billed == 2
    adopted = fake_runway.keys[lost_key]
    creation = fresh(creation)
    assert (creation.status, creation.provider_task_id) == ("processing", adopted)
    assert not creation.submissions.filter(state="intent").exists()
    fake_runway.failure_code = None
    assert remote.remote_tasks_check()["succeeded"] == 1
    run_worker_burst()  # the fetch
    creation = fresh(creation)
    assert (creation.status, refunds(creation), balance(alice)) == ("draft", 0, 90)
    assert fake_runway.billed == 2
    assert ledger_discrepancies() == []


def test_an_orphan_whose_creation_was_canceled_meanwhile_is_shown_to_staff(
    alice, fake_runway, monkeypatch
):
    """Before: recovery looks only at creations in flight, so the intent of a creation
    canceled (or failed by staff) while its worker was lost stayed `intent` for ever."""
    creation = claimed_video(alice)
    kill_before_the_record(monkeypatch)
    with pytest.raises(Killed):
        generation.submit_remote_task(creation, RunwayVideoProvider())
    monkeypatch.undo()
    services.creation_cancel(creation=fresh(creation))

    later = past_the_job_deadline(creation)
    recovery.creations_recover(now=later)
    recovery.creations_recover(now=later)

    creation = fresh(creation)
    assert (creation.status, refunds(creation), balance(alice)) == ("canceled", 1, 100)
    assert list(creation.submissions.values_list("state", flat=True)) == ["possibly_submitted"]
    assert fake_runway.billed == 1
    assert ledger_discrepancies() == []


def test_a_live_submit_of_a_canceled_creation_is_not_called_an_orphan_before_its_deadline(
    alice, fake_runway, monkeypatch
):
    creation = claimed_video(alice)
    kill_before_the_record(monkeypatch)
    with pytest.raises(Killed):
        generation.submit_remote_task(creation, RunwayVideoProvider())
    monkeypatch.undo()
    services.creation_cancel(creation=fresh(creation))

    recovery.creations_recover()

    assert list(fresh(creation).submissions.values_list("state", flat=True)) == ["intent"]


def test_an_adoption_that_does_not_reach_runway_keeps_looking_for_the_lost_task(
    alice, fake_runway, settings, monkeypatch
):
    settings.PHOENIX_RUNWAY_IDEMPOTENCY_HEADER = HEADER
    fake_runway.idempotency_header = HEADER
    creation = resubmission_killed_before_its_record(alice, fake_runway, monkeypatch)
    lost_key = str(fresh(creation).submissions.get(state="intent").key)

    def unreachable(self, **kwargs):
        raise TransientProviderError("Runway submit failed: ConnectError")

    monkeypatch.setattr(RunwayVideoProvider, "submit_video", unreachable)
    remote.remote_tasks_check()
    monkeypatch.undo()

    # Not called refused (its task may run): the next check finds it by its key.
    assert fresh(creation).submissions.get(key=lost_key).state == "intent"
    remote.remote_tasks_check()
    creation = fresh(creation)
    assert (creation.status, creation.provider_task_id) == (
        "processing",
        fake_runway.keys[lost_key],
    )
    assert fake_runway.billed == 2
