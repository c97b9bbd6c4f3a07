"""Deliveries: signed per Standard Webhooks (verified with its reference library), retried
with growing waits on 5xx, timeouts and refused connections, 410 turns the endpoint off."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rq.registry import ScheduledJobRegistry
from standardwebhooks import Webhook, WebhookVerificationError
from werkzeug import Response

from notifications.emails import notification_email_send
from notifications.jobs.sending import email_job_id
from notifications.models import Notification
from phoenix import redis_clients as queues
from profiles.models import ConfirmedEmail
from tests.conftest import run_worker_burst
from webhooks import delivery as delivery_module
from webhooks import services
from webhooks.jobs import sending
from webhooks.models import WebhookDelivery
from webhooks.transport import Outcome

from .conftest import deliver

pytestmark = pytest.mark.django_db


def received(receiver) -> list:
    return [request for request, _ in receiver.log]


def test_a_delivery_verifies_with_the_standardwebhooks_library(
    alice, receiver, make_endpoint, make_delivery
):
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")
    endpoint = make_endpoint(owner=alice, url=receiver.url_for("/hook"))
    delivery = make_delivery(endpoint=endpoint, data={"creation_id": "abc", "status": "draft"})

    assert deliver(delivery) == "delivered"

    [request] = received(receiver)
    payload = Webhook(endpoint.secret).verify(request.get_data(), dict(request.headers))
    assert payload["type"] == "creation.finished"
    assert payload["data"] == {"creation_id": "abc", "status": "draft"}
    assert request.headers["webhook-id"] == delivery.webhook_id
    # Someone else's secret does not verify it.
    with pytest.raises(WebhookVerificationError):
        Webhook(make_endpoint(owner=alice, url="https://x.test/").secret).verify(
            request.get_data(), dict(request.headers)
        )
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.status_code) == ("succeeded", 1, 200)
    assert delivery.duration_ms is not None and delivery.delivered_at is not None


def test_after_a_rotation_both_secrets_sign_for_24_hours_then_only_the_new(
    alice, receiver, make_endpoint, make_delivery
):
    receiver.expect_request("/hook").respond_with_data("ok")
    endpoint = make_endpoint(owner=alice, url=receiver.url_for("/hook"))
    old = endpoint.secret
    new = services.endpoint_rotate_secret(endpoint=endpoint)
    assert new != old and new.startswith("whsec_")

    deliver(make_delivery(endpoint=endpoint))
    [request] = received(receiver)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(request.get_data(), dict(request.headers))

    endpoint.previous_secret_expires_at = timezone.now() - timedelta(seconds=1)
    endpoint.save()
    deliver(make_delivery(endpoint=endpoint))
    later = received(receiver)[1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(later.get_data(), dict(later.headers))
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(later.get_data(), dict(later.headers))


def scheduled_jobs() -> int:
    return ScheduledJobRegistry(queue=queues.get_queue("webhooks")).count


def test_a_500_is_tried_again_later_each_wait_longer_with_jitter(
    alice, receiver, make_endpoint, make_delivery, settings
):
    settings.PHOENIX_WEBHOOK_RETRY_BASE = 60
    receiver.expect_request("/hook").respond_with_data("boom", status=500)
    endpoint = make_endpoint(owner=alice, url=receiver.url_for("/hook"))
    delivery = make_delivery(endpoint=endpoint)

    waits = []
    for attempt in range(1, 5):
        started = timezone.now()
        assert deliver(delivery) == "retry"
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts, delivery.status_code) == (
            "pending",
            attempt,
            500,
        )
        assert delivery.error == "HTTP 500"
        wait = (delivery.next_attempt_at - started).total_seconds()
        # 60 s × 3^(attempt-1), ±20 % jitter.
        assert 60 * 3 ** (attempt - 1) * 0.8 - 1 <= wait <= 60 * 3 ** (attempt - 1) * 1.2 + 1
        waits.append(wait)
        # The retry waits in RQ's scheduler; make it due for the next turn of the loop.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert waits == sorted(waits)
    assert scheduled_jobs() == 4
    assert len(received(receiver)) == 4
    # The same webhook-id at every try.
    assert {r.headers["webhook-id"] for r in received(receiver)} == {delivery.webhook_id}


def test_the_default_schedule_spans_about_a_day(settings):
    total = sum(
        (delivery_module.retry_delay(n) for n in range(1, settings.PHOENIX_WEBHOOK_MAX_ATTEMPTS)),
        timedelta(),
    )
    assert timedelta(hours=18) < total < timedelta(hours=32)


def test_a_timeout_is_tried_again(alice, receiver, make_endpoint, make_delivery, settings):
    settings.PHOENIX_WEBHOOK_TIMEOUT = 0.5

    def slow(request):
        time.sleep(1.5)
        return Response("late")

    receiver.expect_request("/hook").respond_with_handler(slow)
    delivery = make_delivery(endpoint=make_endpoint(owner=alice, url=receiver.url_for("/hook")))
    assert deliver(delivery) == "retry"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.status_code, delivery.error) == ("pending", None, "Timed out")
    assert delivery.next_attempt_at > timezone.now()


def test_a_refused_connection_is_tried_again(alice, allow_private, make_endpoint, make_delivery):
    import socket

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    delivery = make_delivery(
        endpoint=make_endpoint(owner=alice, url=f"http://127.0.0.1:{port}/hook")
    )
    assert deliver(delivery) == "retry"
    delivery.refresh_from_db()
    assert delivery.state == "pending" and delivery.error.startswith("Could not connect")


def test_a_4xx_other_than_410_fails_without_retry(alice, receiver, make_endpoint, make_delivery):
    receiver.expect_request("/hook").respond_with_data("bad signature?", status=400)
    delivery = make_delivery(endpoint=make_endpoint(owner=alice, url=receiver.url_for("/hook")))
    assert deliver(delivery) == "failed"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.status_code, delivery.next_attempt_at) == ("failed", 400, None)
    assert scheduled_jobs() == 0


def test_the_last_try_gives_up(alice, receiver, make_endpoint, make_delivery, settings):
    settings.PHOENIX_WEBHOOK_MAX_ATTEMPTS = 2
    receiver.expect_request("/hook").respond_with_data("boom", status=503)
    delivery = make_delivery(endpoint=make_endpoint(owner=alice, url=receiver.url_for("/hook")))
    assert deliver(delivery) == "retry"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert deliver(delivery) == "failed"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.status_code) == ("failed", 2, 503)


def test_410_turns_the_endpoint_off_and_tells_its_owner(
    alice, receiver, make_endpoint, make_delivery, django_capture_on_commit_callbacks
):
    alice.email = "alice@example.com"
    alice.save()
    receiver.expect_request("/hook").respond_with_data("", status=410)
    endpoint = make_endpoint(owner=alice, url=receiver.url_for("/hook"))
    delivery = make_delivery(endpoint=endpoint)
    waiting = make_delivery(endpoint=endpoint, next_attempt_at=timezone.now() + timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(delivery) == "gone"

    endpoint.refresh_from_db()
    assert (endpoint.is_enabled, endpoint.disabled_reason) == (False, "gone")
    delivery.refresh_from_db()
    assert (delivery.state, delivery.status_code) == ("failed", 410)
    waiting.refresh_from_db()
    assert waiting.state == "failed"
    [notification] = Notification.objects.filter(recipient=alice, kind="webhook_disabled")
    assert notification.creation is None
    # Nothing more is sent to it: a new event writes no delivery.
    assert (
        services.event_emit(owner_id=alice.pk, event_type="creation.finished", key="k", data={})
        == 0
    )
    assert len(received(receiver)) == 1


def test_a_410_ends_the_tries_already_scheduled_or_in_flight(
    alice, receiver, make_endpoint, make_delivery, django_capture_on_commit_callbacks
):
    # The hypotheses for issue 23's second post, as product behaviour: a retry queued in
    # RQ's scheduler before the 410, and a try in flight while it is recorded, send nothing
    # more once the endpoint is off.
    answers = [500, 410]
    receiver.expect_request("/hook").respond_with_handler(
        lambda request: Response("", status=answers.pop(0))
    )
    endpoint = make_endpoint(owner=alice, url=receiver.url_for("/hook"))
    retried = make_delivery(endpoint=endpoint)
    gone = make_delivery(endpoint=endpoint)
    in_flight = make_delivery(endpoint=endpoint)
    assert deliver(retried) == "retry"
    # `in_flight` is claimed by another worker, its request on the way:
    WebhookDelivery.objects.filter(pk=in_flight.pk).update(
        state="sending", attempts=1, claimed_until=timezone.now() + timedelta(minutes=5)
    )
    in_flight.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(gone) == "gone"
    # The in-flight try's answer (a 500) comes back after the endpoint was turned off.
    late = delivery_module.delivery_record(
        delivery=in_flight, outcome=Outcome(500, 5, "HTTP 500", retryable=True)
    )
    assert late.result == "retry"
    sending.delivery_enqueue(in_flight.pk, at=late.retry_at)  # as its job would
    # Every job scheduled for this endpoint is made due and run by a worker.
    webhooks_queue = queues.get_queue("webhooks")
    registry = ScheduledJobRegistry(queue=webhooks_queue)
    job_ids = registry.get_job_ids()
    assert len(job_ids) == 2
    for job_id in job_ids:
        registry.remove(job_id)
        webhooks_queue.enqueue_job(webhooks_queue.fetch_job(job_id))
    WebhookDelivery.objects.filter(pk=in_flight.pk).update(next_attempt_at=timezone.now())
    run_worker_burst()

    results = [webhooks_queue.fetch_job(job_id).return_value() for job_id in job_ids]
    assert sorted(results) == ["endpoint_disabled", "not_due"]
    assert len(received(receiver)) == 2
    states = dict(WebhookDelivery.objects.values_list("pk", "state"))
    assert states == {retried.pk: "failed", gone.pk: "failed", in_flight.pk: "failed"}
    in_flight.refresh_from_db()
    assert in_flight.error == "Not sent: the endpoint is turned off"


def test_an_endpoint_failing_for_days_is_turned_off_and_its_owner_e_mailed(
    alice, receiver, make_endpoint, make_delivery, settings, django_capture_on_commit_callbacks
):
    alice.email = "alice@example.com"
    alice.save()
    ConfirmedEmail.objects.create(user=alice, address=alice.email)
    settings.PHOENIX_WEBHOOK_DISABLE_AFTER_DAYS = 3
    receiver.expect_request("/hook").respond_with_data("boom", status=500)
    endpoint = make_endpoint(
        owner=alice,
        url=receiver.url_for("/hook"),
        failing_since=timezone.now() - timedelta(days=3, minutes=1),
    )
    delivery = make_delivery(endpoint=endpoint)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(delivery) == "failed"
    endpoint.refresh_from_db()
    assert (endpoint.is_enabled, endpoint.disabled_reason) == (False, "failing")
    delivery.refresh_from_db()
    assert delivery.state == "failed"
    [notification] = Notification.objects.filter(recipient=alice, kind="webhook_disabled")
    # Its e-mail was queued (on light) and is sent by the mail job's work:
    assert email_job_id(notification.pk) in queues.get_queue("light").job_ids
    assert notification_email_send(notification_id=notification.pk) == "sent"
    [email] = [m for m in mail.outbox if alice.email in m.to]
    assert email.subject == "A webhook endpoint was turned off"
    assert "/notifications/" in email.body


def test_a_success_ends_the_failing_streak(alice, receiver, make_endpoint, make_delivery):
    receiver.expect_request("/hook").respond_with_data("ok")
    endpoint = make_endpoint(
        owner=alice, url=receiver.url_for("/hook"), failing_since=timezone.now()
    )
    deliver(make_delivery(endpoint=endpoint))
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.last_success_at is not None


def test_a_duplicate_job_sends_nothing(alice, receiver, make_endpoint, make_delivery):
    receiver.expect_request("/hook").respond_with_data("ok")
    delivery = make_delivery(endpoint=make_endpoint(owner=alice, url=receiver.url_for("/hook")))
    assert deliver(delivery) == "delivered"
    assert deliver(delivery) == "not_due"
    assert len(received(receiver)) == 1


def test_resend_sends_the_same_webhook_id_again(
    alice, receiver, make_endpoint, make_delivery, django_capture_on_commit_callbacks
):
    receiver.expect_request("/hook").respond_with_data("ok")
    delivery = make_delivery(endpoint=make_endpoint(owner=alice, url=receiver.url_for("/hook")))
    deliver(delivery)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.delivery_resend(delivery=delivery) is True
    run_worker_burst()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("succeeded", 2)
    first, second = received(receiver)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.webhook_id
