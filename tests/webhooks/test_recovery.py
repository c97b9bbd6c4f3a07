"""The recovery pass (every minute): tries of lost workers and lost jobs are sent again;
live claims and waiting retries are left alone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from phoenix import redis_clients as queues
from webhooks.delivery import RESUME_AFTER_SECONDS, deliveries_resume
from webhooks.jobs import entrypoints

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(alice, make_endpoint):
    return make_endpoint(owner=alice, url="https://hooks.example.com/in")


def queued() -> list[str]:
    return [job.args[0] for job in queues.get_queue("webhooks").jobs]


def test_a_lost_job_is_sent_again_once_per_grace(endpoint, make_delivery):
    now = timezone.now()
    lost = make_delivery(
        endpoint=endpoint, next_attempt_at=now - timedelta(seconds=RESUME_AFTER_SECONDS + 5)
    )
    just_due = make_delivery(endpoint=endpoint, next_attempt_at=now - timedelta(seconds=5))
    waiting = make_delivery(endpoint=endpoint, next_attempt_at=now + timedelta(hours=1))

    assert entrypoints.recover_webhook_deliveries() == 1
    assert queued() == [str(lost.pk)]
    lost.refresh_from_db()
    assert lost.next_attempt_at >= now  # the next pass gives this job its time
    assert entrypoints.recover_webhook_deliveries() == 0
    for row in (just_due, waiting):
        row.refresh_from_db()
        assert row.state == "pending"


def test_a_live_claim_is_left_alone_and_a_passed_one_taken_back(endpoint, make_delivery):
    now = timezone.now()
    live = make_delivery(
        endpoint=endpoint, state="sending", attempts=1, claimed_until=now + timedelta(minutes=1)
    )
    dead = make_delivery(
        endpoint=endpoint, state="sending", attempts=1, claimed_until=now - timedelta(seconds=1)
    )
    assert deliveries_resume() == [dead.pk]
    live.refresh_from_db()
    dead.refresh_from_db()
    assert (live.state, live.attempts) == ("sending", 1)
    assert (dead.state, dead.attempts, dead.claimed_until) == ("pending", 1, None)
    assert dead.error.startswith("Worker lost")


def test_a_lost_last_try_ends_failed(endpoint, make_delivery, settings):
    settings.PHOENIX_WEBHOOK_MAX_ATTEMPTS = 3
    dead = make_delivery(
        endpoint=endpoint,
        state="sending",
        attempts=3,
        claimed_until=timezone.now() - timedelta(seconds=1),
    )
    assert deliveries_resume() == []
    dead.refresh_from_db()
    assert dead.state == "failed"


def test_a_late_outcome_does_not_overwrite_the_try_that_took_over(endpoint, make_delivery):
    # A worker that comes back after recovery took its try over writes nothing.
    from webhooks import delivery as delivery_module
    from webhooks.transport import Outcome

    row = make_delivery(
        endpoint=endpoint,
        state="sending",
        attempts=1,
        claimed_until=timezone.now() - timedelta(seconds=1),
    )
    stale_view = type(row).objects.select_related("endpoint").get(pk=row.pk)
    deliveries_resume()
    type(row).objects.filter(pk=row.pk).update(
        state="sending", attempts=2, claimed_until=timezone.now()
    )
    delivery_module.delivery_record(delivery=stale_view, outcome=Outcome(200, 5))
    row.refresh_from_db()
    assert (row.state, row.attempts, row.status_code) == ("sending", 2, None)


@pytest.mark.django_db(transaction=True)
def test_two_jobs_for_one_delivery_at_once_send_it_once(alice, receiver, make_endpoint):
    from tests.conftest import run_at_once
    from webhooks.models import WebhookDelivery

    receiver.expect_request("/hook").respond_with_data("ok")
    endpoint = make_endpoint(owner=alice, url=receiver.url_for("/hook"))
    row = WebhookDelivery.objects.create(
        endpoint=endpoint,
        webhook_id="msg_race",
        event_type="creation.finished",
        payload="{}",
        next_attempt_at=timezone.now(),
    )
    results = run_at_once([lambda: entrypoints.deliver_webhook(str(row.pk))] * 2)
    assert sorted(results) == ["delivered", "not_due"]
    assert len(receiver.log) == 1
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("succeeded", 1)
