"""A delivery's tries: claim, send, record — the work of the delivery job — and the
recovery pass that takes back what a lost worker left.

Why a worker killed mid-delivery neither loses nor doubles it:
- The delivery row is written (committed) before any job exists for it, by the event's
  listener, and it is the only record: one row per (endpoint, webhook-id), a unique
  constraint, whatever the tries. A job carries only the row's id; the row says what to do.
- A try starts with a claim: one guarded UPDATE, committed before the request goes,
  pending and due → sending, `attempts` + 1, `claimed_until` = now + CLAIM_SECONDS (longer
  than the job's timeout, so a live worker is never overtaken). Two jobs for the same row
  (a duplicate, a recovery's) cannot both claim it: the second finds it sending.
- The try's outcome is written by a second guarded UPDATE that matches only the claim it
  made (state sending, the same attempt number). A worker that wakes up after recovery
  took its try back changes nothing.
- A worker killed between the claim and that UPDATE (before, during or after the request)
  leaves the row sending. Once its claim has passed, `deliveries_resume` puts it back to
  pending and the job is sent again: the receiver may see that try twice, with the same
  `webhook-id` (as Standard Webhooks expects receivers to handle), and the log still shows
  one delivery, its tries counted. Nothing else can move a sending row, so the kill cannot
  lose it; nothing else writes a row, so it cannot double it.
- A job lost before it ran (Redis flushed, the enqueue refused, the scheduler down) leaves
  the row pending past its time: the recovery pass sends its job again.
"""

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from notifications.models import Notification
from notifications.services import notification_create

from . import signing, transport
from .models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

State = WebhookDelivery.State
Reason = WebhookEndpoint.DisabledReason

# A pending delivery this late is taken to have lost its job (a retry waits in RQ's
# scheduler, which moves due jobs every few seconds).
RESUME_AFTER_SECONDS = 120
RECOVERY_BATCH = 500
# A scheduled retry may start this much before its time by another host's clock: taken,
# not left to the recovery pass.
EARLY_TOLERANCE = timedelta(seconds=5)


def job_timeout() -> int:
    """Connect, send and the answer's headers, each within PHOENIX_WEBHOOK_TIMEOUT."""
    return int(settings.PHOENIX_WEBHOOK_TIMEOUT * 4) + 20


def claim_seconds() -> int:
    return job_timeout() + 30


def retry_delay(attempt: int) -> timedelta:
    """After try `attempt` failed: PHOENIX_WEBHOOK_RETRY_BASE × 3^(attempt-1), at most
    PHOENIX_WEBHOOK_RETRY_CAP, ±20 % jitter (endpoints that failed together do not all come
    back at the same second). With the defaults the 10 tries span about a day."""
    base = min(
        settings.PHOENIX_WEBHOOK_RETRY_CAP,
        settings.PHOENIX_WEBHOOK_RETRY_BASE * 3 ** (attempt - 1),
    )
    return timedelta(seconds=base * random.uniform(0.8, 1.2))  # nosec B311 # jitter, not a secret


@dataclass(frozen=True)
class Attempted:
    """What one run of the delivery job did; `retry_at` when a retry is to be scheduled."""

    result: str
    retry_at: datetime | None = None


def delivery_attempt(*, delivery_id, now: datetime | None = None) -> Attempted:
    """The delivery job's work: one try, if the delivery is due (else nothing)."""
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, state=State.PENDING, next_attempt_at__lte=now + EARLY_TOLERANCE
    ).update(
        state=State.SENDING,
        attempts=F("attempts") + 1,
        claimed_until=now + timedelta(seconds=claim_seconds()),
        last_attempt_at=now,
    )
    if not claimed:
        return Attempted("not_due")
    delivery = WebhookDelivery.objects.select_related("endpoint__owner").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_enabled or not endpoint.owner.is_active:
        _finish(delivery, state=State.FAILED, error="Not sent: the endpoint is turned off")
        return Attempted("endpoint_disabled")
    headers = signing.signed_headers(
        webhook_id=delivery.webhook_id,
        timestamp=timezone.now(),
        body=delivery.payload,
        secrets_in_use=endpoint.signing_secrets(),
    )
    outcome = transport.post(endpoint.url, body=delivery.payload, headers=headers)
    return delivery_record(delivery=delivery, outcome=outcome)


def _finish(delivery: WebhookDelivery, *, state: str, outcome=None, error="", **fields) -> bool:
    """Write the claimed try's outcome: only over the claim this worker made."""
    if outcome is not None:
        fields.update(
            status_code=outcome.status_code, duration_ms=outcome.duration_ms, error=outcome.error
        )
    else:
        fields.update(error=error)
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery.pk, state=State.SENDING, attempts=delivery.attempts
        ).update(state=state, claimed_until=None, **fields)
    )


def delivery_record(*, delivery: WebhookDelivery, outcome: transport.Outcome) -> Attempted:
    now = timezone.now()
    endpoint = delivery.endpoint
    if outcome.succeeded:
        if _finish(
            delivery, state=State.SUCCEEDED, outcome=outcome, delivered_at=now, next_attempt_at=None
        ):
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                failing_since=None, last_success_at=now
            )
        return Attempted("delivered")
    if outcome.gone:
        if _finish(delivery, state=State.FAILED, outcome=outcome, next_attempt_at=None):
            endpoint_disable(endpoint=endpoint, reason=Reason.GONE)
        return Attempted("gone")
    failing_since = _note_failure(endpoint, now)
    days = settings.PHOENIX_WEBHOOK_DISABLE_AFTER_DAYS
    failing_too_long = now - failing_since >= timedelta(days=days)
    if (
        outcome.retryable
        and delivery.attempts < settings.PHOENIX_WEBHOOK_MAX_ATTEMPTS
        and not failing_too_long
    ):
        retry_at = now + retry_delay(delivery.attempts)
        if _finish(delivery, state=State.PENDING, outcome=outcome, next_attempt_at=retry_at):
            return Attempted("retry", retry_at)
        return Attempted("taken_over")
    _finish(delivery, state=State.FAILED, outcome=outcome, next_attempt_at=None)
    if failing_too_long:
        endpoint_disable(endpoint=endpoint, reason=Reason.FAILING)
    return Attempted("failed")


def _note_failure(endpoint: WebhookEndpoint, now: datetime) -> datetime:
    """Start the endpoint's failing streak if none is running; when it started."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=Coalesce(F("failing_since"), now)
    )
    return WebhookEndpoint.objects.values_list("failing_since", flat=True).get(pk=endpoint.pk)


DISABLED_SUBJECT = "A Phoenix webhook endpoint was turned off"


@transaction.atomic
def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> bool:
    """Turn an endpoint off (410 Gone, or failing for days): its waiting deliveries end as
    failed, and its owner is told by the bell and by e-mail — once, by whoever turned it
    off. False when it was off already."""
    now = timezone.now()
    if not WebhookEndpoint.objects.filter(pk=endpoint.pk, disabled_at__isnull=True).update(
        disabled_at=now, disabled_reason=reason
    ):
        return False
    WebhookDelivery.objects.filter(endpoint_id=endpoint.pk, state=State.PENDING).update(
        state=State.FAILED, next_attempt_at=None, error="Not sent: the endpoint was turned off"
    )
    notification_create(
        recipient_id=endpoint.owner_id,
        kind=Notification.Kind.WEBHOOK_DISABLED,
        creation=None,
        object_key=f"{endpoint.pk}:{int(now.timestamp() * 1_000_000)}",
    )
    log.info("Webhook endpoint %s turned off (%s)", endpoint.pk, reason)
    return True


def deliveries_resume(*, now: datetime | None = None) -> list:
    """The recovery pass: the ids of the deliveries whose job must be sent again.
    - sending past its claim: its worker died mid-try (see the module docstring); back to
      pending, due now (or failed, when that was its last try);
    - pending and due for more than RESUME_AFTER_SECONDS: its job was lost; due now again,
      so that the next pass leaves it to this one's job for a while."""
    now = now or timezone.now()
    stale = WebhookDelivery.objects.filter(state=State.SENDING, claimed_until__lt=now)
    stale_ids = list(stale.values_list("pk", flat=True)[:RECOVERY_BATCH])
    lost = "Worker lost during the try; sent again"
    stale.filter(pk__in=stale_ids, attempts__gte=settings.PHOENIX_WEBHOOK_MAX_ATTEMPTS).update(
        state=State.FAILED, claimed_until=None, next_attempt_at=None, error=lost
    )
    resumed = stale.filter(pk__in=stale_ids).update(
        state=State.PENDING, claimed_until=None, next_attempt_at=now, error=lost
    )
    resumed_ids = list(
        WebhookDelivery.objects.filter(pk__in=stale_ids, state=State.PENDING).values_list(
            "pk", flat=True
        )
    )
    overdue = WebhookDelivery.objects.filter(
        state=State.PENDING, next_attempt_at__lt=now - timedelta(seconds=RESUME_AFTER_SECONDS)
    )
    overdue_ids = list(overdue.values_list("pk", flat=True)[:RECOVERY_BATCH])
    overdue.filter(pk__in=overdue_ids).update(next_attempt_at=now)
    if stale_ids or overdue_ids:
        log.warning(
            "Webhook recovery: %d tries of lost workers, %d lost jobs sent again",
            resumed,
            len(overdue_ids),
        )
    return resumed_ids + overdue_ids
