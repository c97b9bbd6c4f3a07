"""Writing webhooks: endpoints (create, delete, rotate the secret, turn back on), events
(one delivery row per subscribed endpoint, its job queued after COMMIT) and resends.

Domain errors carry a code and a sentence, never an HTTP status (WebhookRefused).
"""

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from . import signing, transport
from .jobs import sending as jobs_sending
from .models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint

State = WebhookDelivery.State
# Event ids are derived from what the event is (its type and what makes it one: a
# creation, a publication, a ledger row), so an event told twice gets the same
# webhook-id and, per endpoint, the same one delivery row.
EVENT_NAMESPACE = uuid.UUID("5b0e0b3c-54c7-4a8f-9e0c-2f7d3c6a9e11")


class WebhookRefused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def clean_events(events) -> list[str]:
    if not isinstance(events, list) or not events:
        raise WebhookRefused("invalid_events", "Choose at least one event.")
    unknown = [event for event in events if event not in EVENT_TYPES]
    if unknown:
        raise WebhookRefused(
            "invalid_events",
            f"Unknown event {unknown[0]!r}: the events are {', '.join(EVENT_TYPES)}.",
        )
    return [event for event in EVENT_TYPES if event in events]


@transaction.atomic
def endpoint_create(*, owner: AbstractBaseUser, url: str, events) -> WebhookEndpoint:
    """A new endpoint with a new secret (shown to its owner once, from the returned row).
    The URL is checked now (https, a public address) and again at every send."""
    chosen = clean_events(events)
    try:
        transport.check_url(url)
    except transport.UrlRefused as refused:
        raise WebhookRefused(refused.code, refused.message) from refused
    # The owner's row locked: two creates at once cannot both pass the limit.
    get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
    most = settings.PHOENIX_WEBHOOKS_PER_USER
    if WebhookEndpoint.objects.filter(owner_id=owner.pk).count() >= most:
        raise WebhookRefused(
            "too_many_webhooks",
            f"You have {most} endpoints, the most there can be: delete one first.",
        )
    return WebhookEndpoint.objects.create(
        owner_id=owner.pk, url=url, events=chosen, secret=signing.new_secret()
    )


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Gone with its log; a job still queued for it finds nothing and does nothing."""
    endpoint.delete()


def endpoints_erase(*, owner_id: int) -> int:
    """Every endpoint of an account being deleted, with its log; how many."""
    _, deleted = WebhookEndpoint.objects.filter(owner_id=owner_id).delete()
    return deleted.get(WebhookEndpoint._meta.label, 0)


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """A new secret; the one it replaces still signs (a second signature) for
    PHOENIX_WEBHOOK_SECRET_OVERLAP_HOURS, so receivers can switch without losing any."""
    now = timezone.now()
    new = signing.new_secret()
    # Locked: of two rotations at once, the second keeps the first's secret as the previous
    # one (the first's was shown to someone), not the one they both replaced.
    current = (
        WebhookEndpoint.objects.select_for_update()
        .values_list("secret", flat=True)
        .get(pk=endpoint.pk)
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret=current,
        previous_secret_expires_at=now
        + timedelta(hours=settings.PHOENIX_WEBHOOK_SECRET_OVERLAP_HOURS),
        secret=new,
    )
    endpoint.refresh_from_db()
    return new


def endpoint_enable(*, endpoint: WebhookEndpoint) -> bool:
    """Turn a disabled endpoint back on (its URL checked again); its failing streak starts
    afresh. False when it was on."""
    try:
        transport.check_url(endpoint.url)
    except transport.UrlRefused as refused:
        raise WebhookRefused(refused.code, refused.message) from refused
    turned_on = WebhookEndpoint.objects.filter(pk=endpoint.pk, disabled_at__isnull=False).update(
        disabled_at=None, disabled_reason="", failing_since=None
    )
    endpoint.refresh_from_db()
    return bool(turned_on)


@transaction.atomic
def delivery_resend(*, delivery: WebhookDelivery) -> bool:
    """Send a finished delivery again, now, with the same webhook-id and body (a receiver
    that handled it drops the copy). Its tries go on counting. False when it is still
    being sent or waiting for a retry, or its endpoint is off."""
    if not delivery.endpoint.is_enabled:
        raise WebhookRefused("endpoint_disabled", "Turn the endpoint back on before sending to it.")
    resent = WebhookDelivery.objects.filter(
        pk=delivery.pk, state__in=[State.SUCCEEDED, State.FAILED]
    ).update(state=State.PENDING, next_attempt_at=timezone.now(), error="")
    if resent:
        transaction.on_commit(partial(jobs_sending.delivery_enqueue, delivery.pk))
    delivery.refresh_from_db()
    return bool(resent)


def event_emit(*, owner_id: int, event_type: str, key: str, data: dict | Callable[[], dict]) -> int:
    """An event of `owner_id`'s: one delivery per enabled endpoint of theirs that asked for
    it, each row committed before its job is queued. Told twice, written once (the
    webhook-id comes from `key`). `data` may be a function, called only when some endpoint
    wants the event (most owners have none: one indexed query is all it costs them).
    Returns how many endpoints it went to."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event {event_type!r}")
    endpoints = list(
        WebhookEndpoint.objects.filter(
            owner_id=owner_id,
            owner__is_active=True,
            disabled_at__isnull=True,
            events__contains=[event_type],
        ).values_list("pk", flat=True)
    )
    if not endpoints:
        return 0
    if callable(data):
        data = data()
    now = timezone.now()
    webhook_id = "msg_" + uuid.uuid5(EVENT_NAMESPACE, f"{event_type}:{key}").hex
    body = json.dumps(
        {"type": event_type, "timestamp": now.isoformat(), "data": data},
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )
    with transaction.atomic():
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    endpoint_id=endpoint_id,
                    webhook_id=webhook_id,
                    event_type=event_type,
                    payload=body,
                    next_attempt_at=now,
                )
                for endpoint_id in endpoints
            ],
            ignore_conflicts=True,
        )
        ids = list(
            WebhookDelivery.objects.filter(
                endpoint_id__in=endpoints, webhook_id=webhook_id, state=State.PENDING
            ).values_list("pk", flat=True)
        )
        for delivery_id in ids:
            transaction.on_commit(partial(jobs_sending.delivery_enqueue, delivery_id))
    return len(endpoints)
