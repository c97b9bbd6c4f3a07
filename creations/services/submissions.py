"""A remote provider's tasks on our side (Runway): the intent to submit, written and
committed before the HTTP call; what the call answered; and each cancel of a task,
retried until the provider acknowledges it.

A task the provider bills for and we hold no id of is the one thing that cannot be
refunded or stopped later: so the row exists before the request leaves, and a row still
in `intent` after the job's deadline is an orphan that recovery settles (adopts it where
the provider takes an idempotency key, else fails and refunds the creation and records
the attempt as possibly submitted, for staff)."""

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from ..jobs import sending
from ..models import Creation, ProviderSubmission
from ..providers import ProviderError, cancel_remote_task

log = logging.getLogger(__name__)

# The longest pause between two tries of a provider cancel.
CANCEL_BACKOFF_CAP = 3600


def submission_intent(*, creation: Creation) -> ProviderSubmission | None:
    """Record (and commit) that a task is about to be submitted for the creation, with the
    key it goes with. None when the creation is no longer processing: nothing is sent."""
    with transaction.atomic():
        if not Creation.objects.filter(pk=creation.pk, status=Creation.Status.PROCESSING).exists():
            return None
        return ProviderSubmission.objects.create(creation=creation)


def submission_refused(*, submission: ProviderSubmission) -> None:
    """The provider answered no: no task was started."""
    ProviderSubmission.objects.filter(pk=submission.pk).update(
        state=ProviderSubmission.State.REFUSED, answered_at=timezone.now()
    )


def submission_unconfirmed(*, submission: ProviderSubmission, why: str) -> None:
    """No answer came: a task may be running (and billing) at the provider under an id we
    do not know. Recorded for staff, who can look it up in the provider's dashboard."""
    ProviderSubmission.objects.filter(pk=submission.pk).update(
        state=ProviderSubmission.State.POSSIBLY_SUBMITTED, answered_at=timezone.now()
    )
    log.error(
        "Possibly orphaned provider task: creation %s, submission key %s (%s)",
        submission.creation_id,
        submission.key,
        why,
    )


def submission_record_task(
    *, creation: Creation, submission: ProviderSubmission, task_id: str, replacing: bool = False
) -> bool:
    """The provider answered with a task id: kept on the submission and on the creation
    (so that a check and a cancel reach it), together. False when the creation is no longer
    processing (canceled meanwhile): the task is then cancelled, recorded. `replacing`: the
    caller replaces the creation's failed task itself (a guarded update of its own)."""
    with transaction.atomic():
        ProviderSubmission.objects.filter(pk=submission.pk).update(
            state=ProviderSubmission.State.SUBMITTED,
            task_id=task_id[:128],
            answered_at=timezone.now(),
        )
        if replacing:
            return True
        recorded = Creation.objects.filter(
            pk=creation.pk, status=Creation.Status.PROCESSING
        ).update(provider_task_id=task_id[:128])
        if not recorded:
            remote_cancel_request(creation=creation, task_id=task_id, send=False)
    if not recorded:
        # The caller is a job already: the cancel is made here (retried if it fails).
        remote_cancel_attempt(kind=creation.kind, task_id=task_id)
        return False
    creation.provider_task_id = task_id
    return True


def orphaned_intents(*, creation: Creation) -> list[ProviderSubmission]:
    """The creation's submissions still in `intent`: sent (or about to be) with no answer
    recorded."""
    return list(
        ProviderSubmission.objects.filter(
            creation=creation, state=ProviderSubmission.State.INTENT
        ).order_by("started_at")
    )


def abandoned_intents(*, before: datetime, limit: int = 100) -> list[ProviderSubmission]:
    """Submissions still in `intent` since before `before` whose creation is no longer in
    flight (canceled, or failed by staff, while the worker that sent them was lost): no job
    records their answer any more, and recovery looks only at creations in flight."""
    return list(
        ProviderSubmission.objects.filter(
            state=ProviderSubmission.State.INTENT, started_at__lte=before
        )
        .exclude(creation__status__in=Creation.IN_FLIGHT)
        .order_by("started_at")[:limit]
    )


def remote_cancel_request(*, creation: Creation, task_id: str, send: bool = True) -> None:
    """Cancel the creation's provider task: recorded now, made by a short job after COMMIT
    (and tried again by remote_cancels_retry until the provider acknowledges it). `send`
    False: the caller, a job itself, makes the first try (remote_cancel_attempt)."""
    if not task_id:
        return
    now = timezone.now()
    with transaction.atomic():
        updated = ProviderSubmission.objects.filter(
            creation=creation, task_id=task_id, cancel_requested_at__isnull=True
        ).update(cancel_requested_at=now, cancel_next_at=now)
        if not updated and not ProviderSubmission.objects.filter(task_id=task_id).exists():
            # A task submitted before submissions were recorded.
            ProviderSubmission.objects.create(
                creation=creation,
                state=ProviderSubmission.State.SUBMITTED,
                task_id=task_id[:128],
                answered_at=now,
                cancel_requested_at=now,
                cancel_next_at=now,
            )
        if send:
            transaction.on_commit(partial(_send_cancel, creation, task_id))


def _send_cancel(creation: Creation, task_id: str) -> None:
    try:
        sending.send_provider_cancel(creation, task_id)
    except RedisError:
        # The task bills while it runs: made here and now (recorded, and retried if it fails).
        log.warning("Could not queue the provider cancel of %s; calling it now", creation.id)
        remote_cancel_attempt(kind=creation.kind, task_id=task_id)


def remote_cancel_attempt(*, kind: str, task_id: str, now: datetime | None = None) -> bool:
    """Ask the provider to cancel the task once; record the answer. True when acknowledged.
    A failure is tried again after PHOENIX_PROVIDER_CANCEL_BACKOFF seconds, doubling up to
    an hour, until PHOENIX_PROVIDER_CANCEL_GIVE_UP seconds after the cancel was asked."""
    now = now or timezone.now()
    try:
        cancel_remote_task(kind, task_id)
    except ProviderError as error:
        _cancel_failed(task_id, error, now)
        return False
    ProviderSubmission.objects.filter(task_id=task_id, cancel_acknowledged_at__isnull=True).update(
        cancel_acknowledged_at=now, cancel_next_at=None, cancel_error=""
    )
    return True


def _cancel_failed(task_id: str, error: ProviderError, now: datetime) -> None:
    rows = ProviderSubmission.objects.filter(task_id=task_id, cancel_acknowledged_at__isnull=True)
    for row in rows:
        attempts = row.cancel_attempts + 1
        backoff = settings.PHOENIX_PROVIDER_CANCEL_BACKOFF
        pause = min(backoff * 2 ** (attempts - 1), CANCEL_BACKOFF_CAP)
        asked = row.cancel_requested_at or now
        give_up = asked + timedelta(seconds=settings.PHOENIX_PROVIDER_CANCEL_GIVE_UP)
        next_at = now + timedelta(seconds=pause)
        if next_at > give_up:
            log.error("Giving up cancelling provider task %s after %d tries", task_id, attempts)
            next_at = None
        else:
            log.warning(
                "Cancelling provider task %s failed (%s); again at %s", task_id, error, next_at
            )
        ProviderSubmission.objects.filter(pk=row.pk).update(
            cancel_attempts=attempts,
            cancel_next_at=next_at,
            cancel_error=str(error)[:200],
            cancel_requested_at=asked,
        )


def remote_cancels_due(*, now: datetime, limit: int = 100) -> list[tuple[str, str]]:
    """(kind, task id) of the cancels whose next try is due."""
    return list(
        ProviderSubmission.objects.filter(
            cancel_requested_at__isnull=False,
            cancel_acknowledged_at__isnull=True,
            cancel_next_at__lte=now,
        )
        .order_by("cancel_next_at")
        .values_list("creation__kind", "task_id")[:limit]
    )
