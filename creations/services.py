"""State changes of a creation. Money moves only through tokens.services."""

import logging
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone
from redis.exceptions import RedisError
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from tokens import services as tokens

from . import queues
from .models import Creation, InvalidTransition
from .validation import CreationRequest

log = logging.getLogger(__name__)

# What a user reads when their creation fails, by error code.
FAILURE_MESSAGES = {
    "safety_filter": "The safety filter blocked this prompt. Your tokens were refunded.",
    "policy_violation": "This prompt goes against the content policy. Your tokens were refunded.",
    "provider_unavailable": (
        "The generator was unavailable after several tries. Your tokens were refunded."
    ),
    "queue_unavailable": (
        "Generation could not be started: the job queue is unavailable. "
        "Your tokens were refunded; please try again in a moment."
    ),
    "storage_failed": "The result could not be saved. Your tokens were refunded.",
    "timed_out": "Generation took too long and was stopped. Your tokens were refunded.",
    "generation_failed": "Something went wrong while generating. Your tokens were refunded.",
    "staff_refund": "Stopped by our staff. Your tokens were refunded.",
}
ACTIVE_JOB_STATUSES = {
    JobStatus.QUEUED,
    JobStatus.STARTED,
    JobStatus.SCHEDULED,
    JobStatus.DEFERRED,
}


class TooManyInFlight(Exception):
    code = "too_many_in_flight"

    def __init__(self, *, limit: int):
        super().__init__(
            f"You have {limit} creations queued or generating. "
            "Wait for one of them to finish, then try again."
        )
        self.limit = limit


def creation_for_owner(*, owner: AbstractBaseUser, creation_id) -> Creation:
    """The owner's creation, or 404 — the same for someone else's and for none."""
    try:
        return Creation.objects.get(pk=UUID(str(creation_id)), owner=owner)
    except (ValueError, Creation.DoesNotExist):
        raise Http404("No such creation.") from None


def creation_submit(*, user: AbstractBaseUser, request: CreationRequest) -> tuple[Creation, bool]:
    """Debit the cost and create a pending creation; its job is enqueued after COMMIT.

    Returns (creation, created). With an idempotency key already used by this user the
    first creation comes back with created=False and nothing is debited again. Either way
    `creation.owner_balance` is the balance this submit left, read under the account lock
    (so the API need not read it again).
    """
    cost = settings.PHOENIX_COSTS[request.kind]
    with transaction.atomic(durable=True):
        account = tokens.lock_account(user)
        if request.idempotency_key:
            existing = Creation.objects.filter(
                owner=user, idempotency_key=request.idempotency_key
            ).first()
            if existing is not None:
                existing.owner_balance = account.balance
                return existing, False
        _refuse_beyond_in_flight_limit(user)
        creation = Creation.objects.create(
            owner=user,
            kind=request.kind,
            prompt=request.prompt,
            aspect_ratio=request.aspect_ratio,
            orientation=request.orientation,
            cost=cost,
            idempotency_key=request.idempotency_key,
        )
        tokens.account_debit_locked(account, amount=cost, creation=creation)
        creation.owner_balance = account.balance
        transaction.on_commit(lambda: creation_enqueue(creation))
    return creation, True


# Counts at most `limit` rows, however many there are; written out because the ORM's
# sliced count cost as much as the rest of the create's queries together (make bench).
_IN_FLIGHT_SQL = f"""
SELECT count(*) FROM (
  SELECT 1 FROM {Creation._meta.db_table}
  WHERE owner_id = %s AND status = ANY(%s) LIMIT %s
) AS in_flight
"""


def _refuse_beyond_in_flight_limit(user: AbstractBaseUser) -> None:
    """One creator cannot fill the queue for everybody: at most PHOENIX_MAX_IN_FLIGHT of
    their creations pending or processing (0: no limit). Exact under concurrency because the
    caller holds the account's row lock, which every create of this creator takes first."""
    limit = settings.PHOENIX_MAX_IN_FLIGHT
    if not limit:
        return
    with connection.cursor() as cursor:
        cursor.execute(_IN_FLIGHT_SQL, [user.pk, list(Creation.IN_FLIGHT), limit])
        (in_flight,) = cursor.fetchone()
    if in_flight >= limit:
        raise TooManyInFlight(limit=limit)


def _send_job(creation: Creation) -> bool:
    """Put the creation's job in Redis under its unique id. False if a live one was there."""
    try:
        queues.queue_for_kind(creation.kind).enqueue(
            "creations.jobs.generate_creation",
            str(creation.id),
            job_id=queues.job_id_for(creation.id),
            job_timeout=settings.PHOENIX_JOB_TIMEOUT[creation.kind],
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=f"generate {creation.kind} {creation.id}",
            unique=True,
        )
    except DuplicateJobError:
        return False  # A live job already exists: one creation never has two.
    return True


def creation_enqueue(creation: Creation) -> bool:
    """Send the creation's job after COMMIT. If Redis refuses, fail and refund at once.

    Returns True when the job is in Redis.
    """
    try:
        _send_job(creation)
    except RedisError:
        log.exception("Could not enqueue creation %s", creation.id)
        creation_fail(creation=creation, code="queue_unavailable")
        return False
    return True


# One statement that claims and reads back: it commits whole or not at all, and it is one
# round trip where a locked read, an update and a commit were four (a fresh work horse's
# first queries are its slowest, see make bench).
_CLAIM_SQL = f"""
UPDATE {Creation._meta.db_table}
SET status = %s, processing_at = %s, attempts = attempts + 1
WHERE id = %s AND status = ANY(%s)
RETURNING *
"""


def creation_claim(*, creation_id) -> Creation | None:
    """pending → processing, atomically. None if another delivery (or recovery) got it first.

    A connection lost before the statement ran leaves the creation pending for recovery to
    enqueue again; never "processing" with nobody working on it unless the claim committed.
    """
    target = Creation.Status.PROCESSING
    params = [target, timezone.now(), creation_id, Creation.sources_of(target)]
    return next(iter(Creation.objects.raw(_CLAIM_SQL, params)), None)


def creation_report_progress(*, creation: Creation, percent: int) -> None:
    percent = max(0, min(100, int(percent)))
    Creation.objects.filter(pk=creation.pk, status=Creation.Status.PROCESSING).update(
        progress=percent
    )
    creation.progress = percent


def creation_complete(
    *,
    creation: Creation,
    media: str,
    width: int,
    height: int,
    poster: str = "",
    duration_seconds: float | None = None,
) -> bool:
    """processing → draft, only if nobody failed it meanwhile. False: the caller's files
    are no longer wanted (recovery already failed and refunded this creation).

    True as well when the row already holds these very files: the caller's earlier try
    committed but its answer was lost with the connection (the files' keys are unique to
    one try, so nobody else can have written them)."""
    creation.check_transition(Creation.Status.DRAFT)
    changes = {
        "status": Creation.Status.DRAFT,
        "media": media,
        "poster": poster,
        "width": width,
        "height": height,
        "duration_seconds": duration_seconds,
        "progress": 100,
        "draft_at": timezone.now(),
    }
    updated = Creation.objects.filter(pk=creation.pk, status=Creation.Status.PROCESSING).update(
        **changes
    )
    if updated:
        # The row is now exactly what this update wrote: no need to read it back (a
        # refresh_from_db cost ~17% of a job with an instant provider, see make bench).
        for name, value in changes.items():
            setattr(creation, name, value)
        return True
    return creation_holds_media(creation=creation, media=media)


def creation_holds_media(*, creation: Creation, media: str) -> bool:
    already = Creation.objects.filter(pk=creation.pk, media=media, status__in=Creation.FINISHED)
    row = already.first()
    if row is None:
        return False
    _take_state(creation, row)
    return True


def creation_fail(
    *,
    creation: Creation,
    code: str,
    message: str | None = None,
    only_if_past_deadline_at: datetime | None = None,
) -> bool:
    """Fail an in-flight creation and refund it exactly once.

    Used by jobs, recovery and staff alike. A creation that is already failed is only
    made sure to be refunded; a finished one is left alone. Returns True when this call
    changed something (failed it, or wrote its missing refund), False when there was
    nothing left to do — so racing callers can tell which of them did the work.

    Recovery passes the time it judged "past the deadline" at: the deadline is checked
    again under the lock, as a worker may have claimed the creation since (which moves
    its deadline) and must not see it failed under its feet.
    """
    message = message or FAILURE_MESSAGES.get(code, FAILURE_MESSAGES["generation_failed"])
    with transaction.atomic():
        # Lock order everywhere: account first, then the creation.
        account = tokens.lock_account(creation.owner)
        locked = Creation.objects.select_for_update().filter(pk=creation.pk).first()
        if locked is None:
            return False
        changed = _fail_locked(account, locked, code, message, only_if_past_deadline_at)
    # The caller's copy takes the row as it was committed (no read after COMMIT: the
    # creator may delete a failed creation at any moment).
    _take_state(creation, locked)
    return changed


def _fail_locked(account, locked: Creation, code: str, message: str, past_deadline_at) -> bool:
    if locked.status in Creation.IN_FLIGHT:
        if past_deadline_at is not None and past_deadline_at < locked.deadline:
            return False
        locked.status = Creation.Status.FAILED
        locked.error_code = code
        locked.error_message = message[:500]
        locked.failed_at = timezone.now()
        locked.save(update_fields=["status", "error_code", "error_message", "failed_at"])
        tokens.creation_refund_locked(account, creation=locked, reason=code)
        return True
    if locked.status != Creation.Status.FAILED:
        return False  # finished meanwhile: nothing to fail, nothing to refund
    refund = tokens.creation_refund_locked(account, creation=locked, reason=locked.error_code)
    return refund is not None


def _take_state(creation: Creation, row: Creation) -> None:
    for field in Creation._meta.concrete_fields:
        setattr(creation, field.attname, getattr(row, field.attname))


def creation_refund_failed(*, creation: Creation) -> bool:
    """Staff: refund a failed creation that somehow was not refunded (idempotent)."""
    if creation.status != Creation.Status.FAILED:
        raise InvalidTransition(creation.status, "refunded")
    return creation_fail(creation=creation, code=creation.error_code or "generation_failed")


def creation_is_refunded(creation: Creation) -> bool:
    return creation.ledger_entries.filter(kind="refund").exists()


def creation_publish(*, creation: Creation, caption: str) -> Creation:
    creation.check_transition(Creation.Status.PUBLISHED)
    updated = Creation.objects.filter(pk=creation.pk, status=Creation.Status.DRAFT).update(
        status=Creation.Status.PUBLISHED, caption=caption.strip(), published_at=timezone.now()
    )
    if not updated:
        status = Creation.objects.filter(pk=creation.pk).values_list("status", flat=True).first()
        if status is None:  # deleted (by its owner elsewhere, or expired) meanwhile
            raise Http404("No such creation.")
        creation.status = status
        raise InvalidTransition(creation.status, Creation.Status.PUBLISHED)
    creation.refresh_from_db()
    return creation


def delete_stored_files(*names: str) -> None:
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
        except Exception:
            log.exception("Could not delete stored file %s", name)


def creation_delete(*, creation: Creation) -> None:
    """Remove a finished or failed creation and its files; in-flight ones must end first."""
    if creation.is_in_flight:
        raise InvalidTransition(creation.status, "deleted")
    with transaction.atomic():
        deleted, _ = Creation.objects.filter(
            pk=creation.pk, status__in=[*Creation.FINISHED, Creation.Status.FAILED]
        ).delete()
    if not deleted:
        raise InvalidTransition(creation.status, "deleted")
    transaction.on_commit(lambda: delete_stored_files(creation.media.name, creation.poster.name))


def creations_recover(*, now=None) -> dict[str, int]:
    """The recovery pass: enqueue again pending creations whose job is not in Redis, and
    fail and refund every creation stuck past its deadline. Safe to run at any time, and
    twice at once: the claim, the guarded updates and the refund constraint decide."""
    now = now or timezone.now()
    counts = {"reenqueued": 0, "failed": 0}
    stuck = Creation.objects.filter(status__in=Creation.IN_FLIGHT).select_related("owner")
    for creation in stuck:
        if now >= creation.deadline:
            counts["failed"] += creation_fail(
                creation=creation, code="timed_out", only_if_past_deadline_at=now
            )
            continue
        since = creation.requeued_at or creation.created_at
        if creation.status != Creation.Status.PENDING or (
            (now - since).total_seconds() < settings.PHOENIX_REENQUEUE_AFTER
        ):
            continue
        job_id = queues.job_id_for(creation.id)
        connection = queues.queue_for_kind(creation.kind).connection
        try:
            try:
                job = Job.fetch(job_id, connection=connection)
            except NoSuchJobError:
                job = None
            if job is not None:
                if job.get_status() in ACTIVE_JOB_STATUSES:
                    continue
                # A finished or failed job of a still-pending creation: replace it.
                job.delete()
            if _send_job(creation):
                Creation.objects.filter(pk=creation.pk).update(requeued_at=now)
                counts["reenqueued"] += 1
        except RedisError:
            log.warning("Redis unavailable; recovery will retry creation %s", creation.id)
    return counts
