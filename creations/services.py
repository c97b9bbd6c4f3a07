"""State changes of a creation. Money moves only through tokens.services."""

import dataclasses
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from redis.exceptions import RedisError
from rq.command import send_stop_job_command
from rq.exceptions import DuplicateJobError, InvalidJobOperation, NoSuchJobError

from tokens import services as tokens

from . import events, fair_queue, queues, ranking, versions
from .models import SEED_LIMIT, Creation, InvalidTransition
from .validation import (
    CreationRequest,
    RerunRequest,
    normalise_line_breaks,
    parse_creation_request,
    parse_future_moment,
)

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
    "worker_lost": (
        "The server working on this stopped unexpectedly. Your tokens were refunded; "
        "please try again."
    ),
    "task_lost": "The generator lost track of this creation. Your tokens were refunded.",
    "queue_stalled": (
        "Generation could not start: the queue has not moved for a long time. "
        "Your tokens were refunded; please try again later."
    ),
    "generation_failed": "Something went wrong while generating. Your tokens were refunded.",
    "staff_refund": "Stopped by our staff. Your tokens were refunded.",
}


class TooManyInFlight(Exception):
    code = "too_many_in_flight"

    def __init__(self, *, limit: int):
        super().__init__(
            f"You have {limit} creations queued or generating. "
            "Wait for one of them to finish, then try again."
        )
        self.limit = limit


class IdempotencyKeyReused(Exception):
    code = "idempotency_key_reused"

    def __init__(self):
        super().__init__(
            "This idempotency key was already used for a different request. "
            "Use a new key for a new creation."
        )


def creation_for_owner(*, owner: AbstractBaseUser, creation_id) -> Creation:
    """The owner's creation, or 404 — the same for someone else's and for none."""
    try:
        return Creation.objects.get(pk=UUID(str(creation_id)), owner=owner)
    except (ValueError, Creation.DoesNotExist):
        raise Http404("No such creation.") from None


@dataclass(frozen=True)
class Submitted:
    """What one create (or rerun) request made: its creations (one, or a batch's items in
    order), whether it made them now (False: an idempotent replay) and the balance it left,
    read under the account lock."""

    creations: list[Creation]
    created: bool
    balance: int

    @property
    def first(self) -> Creation:
        return self.creations[0]

    @property
    def batch_id(self):
        return self.first.batch_id


def creation_submit(
    *, user: AbstractBaseUser, request: CreationRequest, **options
) -> tuple[Creation, bool]:
    """One creation (or the first of a batch): see creations_submit. Returns (creation,
    created); `creation.owner_balance` is the balance this submit left."""
    submitted = creations_submit(user=user, request=request, **options)
    creation = submitted.first
    creation.owner_balance = submitted.balance
    return creation, submitted.created


def batch_seeds(base: int | None, count: int) -> list[int]:
    """seed, seed+1, … (wrapping below 2**32); a random base when none is asked for."""
    if base is None:
        base = secrets.randbelow(SEED_LIMIT)
    return [(base + index) % SEED_LIMIT for index in range(count)]


def creations_submit(
    *,
    user: AbstractBaseUser,
    request: CreationRequest,
    parent: Creation | None = None,
    source_images: list[str] | None = None,
    seed: int | None = None,
) -> Submitted:
    """Debit the cost of `request.count` creations and create them pending, each its own
    row, debit, seed and (after COMMIT) job; all or nothing, under one account lock.

    With an idempotency key already used by this user the first request's creations come
    back with created=False and nothing is debited again (the key is kept on the first
    item; the others are found through its batch). `source_images` are the stored stills
    of a video started from an image, one per item (the caller deletes them when nothing
    was created). `seed` overrides the request's (a rerun's chosen seed, which its
    fingerprint leaves out so that a replay matches)."""
    cost = settings.PHOENIX_COSTS[request.kind]
    count = request.count
    with transaction.atomic(durable=True):
        account = tokens.lock_account(user)
        if request.idempotency_key:
            existing = Creation.objects.filter(
                owner=user, idempotency_key=request.idempotency_key
            ).first()
            if existing is not None:
                # The key stays spent whatever became of its creation (trashed, purged:
                # the hash outlives the prompt).
                if existing.request_hash != request.fingerprint:
                    raise IdempotencyKeyReused()
                return Submitted(batch_items(existing), False, account.balance)
        _refuse_beyond_in_flight_limit(user, count)
        if account.balance < cost * count:
            # The whole batch or nothing: no item is made when all cannot be paid for.
            raise tokens.InsufficientTokens(balance=account.balance, needed=cost * count)
        batch_id = uuid.uuid4() if count > 1 else None
        now = timezone.now()
        creations = Creation.objects.bulk_create(
            [
                Creation(
                    owner=user,
                    kind=request.kind,
                    prompt=request.prompt,
                    aspect_ratio=request.aspect_ratio,
                    orientation=request.orientation,
                    cost=cost,
                    seed=seed,
                    batch_id=batch_id,
                    batch_index=index,
                    parent=parent,
                    source_image=(source_images or [""] * count)[index],
                    created_at=now,
                    # The key marks the request once: on its first item.
                    idempotency_key=request.idempotency_key if index == 0 else None,
                    request_hash=request.fingerprint
                    if request.idempotency_key and index == 0
                    else "",
                )
                for index, seed in enumerate(
                    batch_seeds(seed if seed is not None else request.seed, count)
                )
            ]
        )
        for creation in creations:
            # One debit per item, so that one failed item is refunded on its own.
            tokens.account_debit_locked(account, amount=cost, creation=creation)
            # One job per item: the fair queue interleaves creators item by item.
            transaction.on_commit(partial(creation_enqueue, creation))
        versions.creations_changed(creations)
    return Submitted(creations, True, account.balance)


# Vary: a seed this close to the source's, on either side (the providers here have no
# variation strength of their own; a nearby seed is what one can offer everywhere).
VARY_SPREAD = 16


def rerun_seed(source: Creation, mode: str) -> int | None:
    if mode == "same_seed":
        return source.seed
    if mode == "vary":
        offset = 1 + secrets.randbelow(VARY_SPREAD)
        return (source.seed + offset * secrets.choice((-1, 1))) % SEED_LIMIT
    return None  # new_seed: a random one


def rerun_request(*, source: Creation, rerun: RerunRequest) -> CreationRequest:
    """The create request a rerun stands for: the source's type and settings, its prompt
    unless a new one is given (Edit & run); RequestProblem as a create would raise."""
    if not source.can_rerun:
        raise refused("not_rerunnable")
    data = {
        "type": source.kind,
        "prompt": rerun.prompt if rerun.prompt is not None else source.prompt,
        "aspect_ratio": source.aspect_ratio,
        "orientation": source.orientation,
        "idempotency_key": rerun.idempotency_key,
    }
    request = parse_creation_request(data)
    return dataclasses.replace(request, extra=("rerun", str(source.pk), rerun.mode))


def batch_items(creation: Creation) -> list[Creation]:
    """The creation's batch in order (just itself when it has none)."""
    if creation.batch_id is None:
        return [creation]
    return list(
        Creation.objects.filter(owner_id=creation.owner_id, batch_id=creation.batch_id).order_by(
            "batch_index"
        )
    )


# Counts at most `limit` rows, however many there are; written out because the ORM's
# sliced count cost as much as the rest of the create's queries together (make bench).
_IN_FLIGHT_SQL = f"""
SELECT count(*) FROM (
  SELECT 1 FROM {Creation._meta.db_table}
  WHERE owner_id = %s AND status = ANY(%s) LIMIT %s
) AS in_flight
"""  # nosec B608 # table names from model metadata; every value is a bound parameter


def _refuse_beyond_in_flight_limit(user: AbstractBaseUser, count: int = 1) -> None:
    """One creator cannot fill the queue for everybody: at most PHOENIX_MAX_IN_FLIGHT of
    their creations pending or processing (0: no limit), a batch's items counted one by
    one. Exact under concurrency because the caller holds the account's row lock, which
    every create of this creator takes first."""
    limit = settings.PHOENIX_MAX_IN_FLIGHT
    if not limit:
        return
    with connection.cursor() as cursor:
        cursor.execute(_IN_FLIGHT_SQL, [user.pk, list(Creation.IN_FLIGHT), limit])
        (in_flight,) = cursor.fetchone()
    if in_flight + count > limit:
        raise TooManyInFlight(limit=limit)


def _send_job(creation: Creation) -> bool:
    """Put the creation's job in Redis under its unique id, at its creator's fair place in
    the queue (round-robin by creator and across types). False if a live one was there."""
    from . import jobs

    queue = queues.queue_for_kind(creation.kind)
    job_id = queues.job_id_for(creation.id)
    try:
        queue.enqueue(
            jobs.run_generation,
            str(creation.id),
            job_id=job_id,
            job_timeout=settings.PHOENIX_JOB_TIMEOUT[creation.kind],
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=f"generate {creation.kind} {creation.id}",
            # The fair queue's round-robin is by creator (creations/fair_queue.py).
            meta={"owner": str(creation.owner_id)},
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
    except Exception:
        # Redis down, a script refused, a job that would not serialise: whatever stopped
        # it, the creator is refunded now (and answered 503), not left to recovery.
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
"""  # nosec B608 # table names from model metadata; every value is a bound parameter


def creation_claim(*, creation_id) -> Creation | None:
    """pending → processing, atomically. None if another delivery (or recovery) got it first.

    A connection lost before the statement ran leaves the creation pending for recovery to
    enqueue again; never "processing" with nobody working on it unless the claim committed.
    """
    target = Creation.Status.PROCESSING
    params = [target, timezone.now(), creation_id, Creation.sources_of(target)]
    claimed = next(iter(Creation.objects.raw(_CLAIM_SQL, params)), None)
    if claimed is not None:
        versions.creation_changed(claimed)
    return claimed


def creation_report_progress(*, creation: Creation, percent: int) -> bool:
    """Record a running job's progress. False: the creation is no longer processing
    (canceled or failed under the job), so the work is not wanted any more."""
    percent = max(0, min(100, int(percent)))
    updated = Creation.objects.filter(pk=creation.pk, status=Creation.Status.PROCESSING).update(
        progress=percent
    )
    creation.progress = percent
    if updated:
        versions.creation_changed(creation, listing=False)
    return bool(updated)


def creation_record_task(*, creation: Creation, task_id: str) -> bool:
    """Keep a remote provider's task id, so that a cancel reaches the task. False: the
    creation is no longer processing (canceled meanwhile)."""
    updated = Creation.objects.filter(pk=creation.pk, status=Creation.Status.PROCESSING).update(
        provider_task_id=task_id[:128]
    )
    creation.provider_task_id = task_id
    return bool(updated)


def creation_complete(
    *,
    creation: Creation,
    media: str,
    width: int,
    height: int,
    poster: str = "",
    duration_seconds: float | None = None,
) -> bool:
    """processing → draft, only if nobody failed or canceled it meanwhile. False: the
    caller's files are no longer wanted (it was failed or canceled, and refunded).

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
    changes.pop("status")
    updated = Creation.objects.filter(pk=creation.pk).transition(
        Creation.Status.DRAFT, sources=[Creation.Status.PROCESSING], **changes
    )
    changes["status"] = Creation.Status.DRAFT
    if updated:
        # The row is now exactly what this update wrote: no need to read it back (a
        # refresh_from_db cost ~17% of a job with an instant provider, see make bench).
        for name, value in changes.items():
            setattr(creation, name, value)
        versions.creation_changed(creation)
        seconds = (creation.draft_at - creation.created_at).total_seconds()
        events.announce("completed", creation, seconds=seconds)
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
    only_with_task_id: str | None = None,
    staff: AbstractBaseUser | None = None,
    refund_reason: str = "",
) -> bool:
    """Fail an in-flight creation and refund it exactly once.

    Used by jobs, recovery and staff alike. A creation that is already failed is only
    made sure to be refunded; a finished one is left alone. Returns True when this call
    changed something (failed it, or wrote its missing refund), False when there was
    nothing left to do — so racing callers can tell which of them did the work.

    Recovery passes the time it judged "past the deadline" at: the deadline is checked
    again under the lock, as a worker may have claimed the creation since (which moves
    its deadline) and must not see it failed under its feet. The remote task check passes
    the task id it asked about: a task replaced meanwhile is not failed for the old one.

    Staff who fail or refund by hand pass themselves and their reason: the refund row
    this call writes names them (automatic refunds have none).
    """
    if staff is not None and not refund_reason.strip():
        raise refund_reason_required()
    message = message or FAILURE_MESSAGES.get(code, FAILURE_MESSAGES["generation_failed"])
    with transaction.atomic():
        # Lock order everywhere: account first, then the creation.
        account = tokens.lock_account(creation.owner)
        locked = Creation.objects.select_for_update().filter(pk=creation.pk).first()
        if locked is None:
            return False
        if only_with_task_id is not None and locked.provider_task_id != only_with_task_id:
            _take_state(creation, locked)
            return False
        changed = _fail_locked(
            account,
            locked,
            code,
            message,
            only_if_past_deadline_at,
            staff=staff,
            refund_reason=refund_reason,
        )
    # The caller's copy takes the row as it was committed (no read after COMMIT: the
    # creator may delete a failed creation at any moment).
    _take_state(creation, locked)
    return changed


def _fail_locked(
    account,
    locked: Creation,
    code: str,
    message: str,
    past_deadline_at,
    *,
    staff=None,
    refund_reason: str = "",
) -> bool:
    if locked.can_become(Creation.Status.FAILED):
        if past_deadline_at is not None and past_deadline_at < locked.deadline:
            return False
        changes = {"error_code": code, "error_message": message[:500], "failed_at": timezone.now()}
        was_pending = locked.status == Creation.Status.PENDING
        Creation.objects.filter(pk=locked.pk).transition(Creation.Status.FAILED, **changes)
        if was_pending:
            # As a cancel: its job leaves the order, the places behind it move up.
            transaction.on_commit(partial(leave_the_queue, locked))
        locked.status = Creation.Status.FAILED
        for name, value in changes.items():
            setattr(locked, name, value)
        versions.creation_changed(locked)
        events.announce("failed", locked, code=code)
        refund = tokens.creation_refund_locked(
            account, creation=locked, reason=refund_reason if staff else code, staff=staff
        )
        _announce_refund(locked, refund)
        return True
    if locked.status != Creation.Status.FAILED:
        return False  # finished meanwhile: nothing to fail, nothing to refund
    refund = tokens.creation_refund_locked(
        account,
        creation=locked,
        reason=refund_reason if staff else locked.error_code,
        staff=staff,
    )
    _announce_refund(locked, refund)
    if refund is not None:
        versions.creation_changed(locked, listing=False)  # the card shows the refund
    return refund is not None


def _announce_refund(creation: Creation, refund) -> None:
    if refund is not None:
        events.announce("refunded", creation, amount=refund.amount)


def _take_state(creation: Creation, row: Creation) -> None:
    for field in Creation._meta.concrete_fields:
        setattr(creation, field.attname, getattr(row, field.attname))


def creation_refund_failed(*, creation: Creation, staff: AbstractBaseUser, reason: str) -> bool:
    """Staff: refund a failed creation that somehow was not refunded (idempotent). The
    refund row names the staff member and their reason; without a reason nothing moves."""
    if not (reason or "").strip():
        raise refund_reason_required()
    if creation.status != Creation.Status.FAILED:
        raise InvalidTransition(creation.status, "refunded")
    return creation_fail(
        creation=creation,
        code=creation.error_code or "generation_failed",
        staff=staff,
        refund_reason=reason,
    )


def refund_reason_required() -> "ActionRefused":
    return ActionRefused(
        "reason_required", "A refund by staff needs a reason; nothing was refunded.", status=400
    )


def delete_stored_files(*names: str) -> None:
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
        except Exception:
            log.exception("Could not delete stored file %s", name)


# ---------------------------------------------------------------------------------------
# The creator's lifecycle after Generate: cancel, publish (now or at a time), unschedule,
# unpublish, edit the caption, trash, restore, purge, and staff take-down. Each locks the
# creation's row, asks the model whether the action is allowed now, and changes the status
# only through Creation.objects.transition; a refused action changes nothing.


class ActionRefused(InvalidTransition):
    """An action the creation's state (or the request) does not allow: a code for the API,
    a sentence for people, and the HTTP status the views answer with."""

    def __init__(self, code: str, message: str, *, status: int = 409):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.status = status
        self.current = ""
        self.target = ""


class CreationGone(ActionRefused):
    def __init__(self):
        super().__init__("not_found", "No such creation.", status=404)


REFUSALS = {
    "not_cancelable": "Only a queued or generating creation can be canceled.",
    "not_publishable": "Only a finished draft can be published.",
    "not_scheduled": "Only a scheduled post can be unscheduled.",
    "not_published": "Only a published post can be unpublished.",
    "not_editable": "Only the caption of a published or scheduled post can be edited.",
    "not_trashable": "A creation still generating cannot be moved to the trash; cancel it.",
    "not_in_trash": "Only a creation in the trash can be restored or deleted forever.",
    "not_published_post": "Only a published or scheduled post can be taken down.",
    "not_keepable": "Only a finished variation of a batch can be kept.",
    "not_rerunnable": (
        "This creation cannot be run again (still generating, taken down or deleted)."
    ),
}
CAPTION_MAX = 2200


def refused(code: str, *, status: int = 409) -> ActionRefused:
    return ActionRefused(code, REFUSALS[code], status=status)


@dataclass(frozen=True)
class Canceled:
    creation: Creation
    refunded: int
    balance: int


def clean_caption(caption) -> str:
    if caption is None:
        caption = ""
    if not isinstance(caption, str):
        raise ActionRefused("invalid_caption", "The caption must be text.", status=400)
    caption = normalise_line_breaks(caption).strip()
    if "\x00" in caption:
        raise ActionRefused("invalid_caption", "The caption contains a null character.", status=422)
    if len(caption) > CAPTION_MAX:
        raise ActionRefused(
            "caption_too_long",
            f"The caption is {len(caption)} characters; the limit is {CAPTION_MAX}.",
            status=422,
        )
    return caption


PUBLISH_AT_HORIZON = timedelta(days=365)


def parse_publish_at(value, *, now: datetime | None = None) -> datetime | None:
    """The "Publish at" of a request: between now and a year ahead; None when not given."""
    return parse_future_moment(
        value,
        label="Publish at",
        horizon=PUBLISH_AT_HORIZON,
        too_far="Publish at can be at most a year ahead.",
        refuse=lambda message: ActionRefused("invalid_publish_at", message, status=400),
        now=now,
    )


def _locked(creation: Creation) -> Creation:
    """The creation's row, locked for this transaction (the caller's atomic block)."""
    row = Creation.objects.select_for_update().filter(pk=creation.pk).first()
    if row is None:
        raise CreationGone()
    return row


def _end_shares(row: Creation, reason: str) -> None:
    """End the creation's shares in the caller's transaction, with the change that makes it
    no longer a shareable draft (or, on the way back to the drafts, any share left standing):
    a lost after-COMMIT listener can then never leave a share to revive later."""
    from sharing.services import shares_end  # sharing imports creations: imported late

    shares_end(creation=row, reason=reason)


def _apply(creation: Creation, row: Creation, target: str | None, **changes) -> None:
    """Write `changes` to the locked row (through the state table when the status changes)
    and give the caller's copy the result."""
    rows = Creation.objects.filter(pk=row.pk)
    if target is None:
        rows.update(**changes)
    elif not rows.transition(target, sources=[row.status], **changes):
        raise InvalidTransition(row.status, target)
    if target is not None:
        row.status = target
    for name, value in changes.items():
        setattr(row, name, value)
    # A new status, or into the trash and out: the drafts list changed too.
    versions.creation_changed(row, listing=target is not None or "trashed_at" in changes)
    _take_state(creation, row)


def creation_cancel(*, creation: Creation) -> Canceled:
    """The owner stops a queued or generating creation: canceled and refunded at once.

    Under the account and row locks, as failing is: exactly one of draft / canceled /
    failed wins, and the refund is the one refund function's. After COMMIT a running job
    is stopped and the provider's task canceled; a result that still arrives finds the
    creation no longer processing and is discarded with its files.
    """
    with transaction.atomic():
        account = tokens.lock_account(creation.owner)
        row = _locked(creation)
        if not row.can_cancel:
            _take_state(creation, row)
            raise refused("not_cancelable")
        was = row.status
        _apply(
            creation,
            row,
            Creation.Status.CANCELED,
            canceled_at=timezone.now(),
            error_message="Canceled. Your tokens were refunded.",
        )
        refund = tokens.creation_refund_locked(account, creation=row, reason="canceled")
        events.announce("canceled", creation)
        _announce_refund(creation, refund)
        balance = account.balance
        if was == Creation.Status.PROCESSING:
            transaction.on_commit(lambda: stop_running_work(creation))
        else:
            # Its job would only be skipped; out of the order now, the places behind it
            # move up at once.
            transaction.on_commit(lambda: leave_the_queue(creation))
    return Canceled(creation=creation, refunded=refund.amount if refund else 0, balance=balance)


def leave_the_queue(creation: Creation) -> None:
    queue = queues.queue_for_kind(creation.kind)
    fair_queue.safely(
        fair_queue.forget, queue.connection, queue.name, queues.job_id_for(creation.id)
    )


def stop_running_work(creation: Creation) -> None:
    """Best effort, after a cancel: the provider's task first (it bills), then the job (RQ's
    stop-job command kills its work horse). Neither decides anything: the status already
    did, and whatever the job still writes is refused by its guarded update.

    A remote-task provider's job is not stopped: it is short (a submit), and killed in the
    middle of one it could not cancel the task the provider just accepted; it sees the
    cancel itself when it records the task id, and cancels that task."""
    from .providers import remote_provider

    if creation.provider_task_id:
        cancel_provider_task(creation)
    if remote_provider(creation.kind) is not None:
        return
    try:
        send_stop_job_command(
            queues.queue_for_kind(creation.kind).connection, queues.job_id_for(creation.id)
        )
    except (InvalidJobOperation, NoSuchJobError):
        pass  # not running (yet, or any more): its claim or completion will find it canceled
    except RedisError:
        log.warning("Could not stop the job of canceled creation %s", creation.id)


def cancel_provider_task(creation: Creation) -> None:
    """The provider's cancel is an HTTP call that may take its full timeout: a short job on
    `light` makes it, so that a cancel (or a bulk cancel of many) answers at once. Only if
    Redis refuses the job is it made here and now (the task would go on billing)."""
    from . import jobs
    from .providers import cancel_remote_task

    try:
        queues.get_queue("light").enqueue(
            jobs.cancel_provider_task,
            creation.kind,
            creation.provider_task_id,
            job_id=f"cancel-task-{creation.id}",
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=f"cancel the provider task of {creation.id}",
        )
    except RedisError:
        log.warning("Could not queue the provider cancel of %s; calling it now", creation.id)
        cancel_remote_task(creation.kind, creation.provider_task_id)


def creation_publish(
    *, creation: Creation, caption: str | None = "", publish_at: datetime | None = None
) -> Creation:
    """A draft becomes a post now, or is scheduled to become one at `publish_at`. A caption
    of None keeps the one the draft has (kept from an earlier publish, say)."""
    if caption is not None:
        caption = clean_caption(caption)
    now = timezone.now()
    with transaction.atomic():
        row = _locked(creation)
        target = Creation.Status.SCHEDULED if publish_at else Creation.Status.PUBLISHED
        if not row.can_publish or not row.can_become(target):
            _take_state(creation, row)
            raise refused("not_publishable")
        if caption is None:
            caption = row.caption
        if publish_at:
            _apply(creation, row, target, caption=caption, publish_at=publish_at)
            _end_shares(row, "scheduled")
            transaction.on_commit(lambda: schedule_publication(creation))
            events.announce("scheduled", creation)
        else:
            _apply(
                creation,
                row,
                target,
                caption=caption,
                published_at=now,
                first_published_at=row.first_published_at or now,
                publish_at=None,
                # Ranked in Explore in this same transaction (creations/ranking.py).
                explore_score=ranking.first_publish_score(row, now),
            )
            _end_shares(row, "published")
            events.announce("published", creation, scheduled=False)
    return creation


def schedule_publication(creation: Creation) -> None:
    """Ask RQ's scheduler to publish it at its time. If Redis refuses, the recovery pass
    publishes it when its time has passed (within a minute)."""
    from . import jobs

    moment = creation.publish_at
    # RQ's scheduler keeps whole seconds (it drops the fraction): asked for 14:00:03.7 it
    # would run the job at 14:00:03, which would find the post not yet due. The next whole
    # second instead.
    runs_at = moment.replace(microsecond=0)
    if runs_at < moment:
        runs_at += timedelta(seconds=1)
    try:
        queues.get_queue("default").enqueue_at(
            runs_at,
            jobs.publish_scheduled_creation,
            str(creation.id),
            job_id=f"publish-{creation.id}-{int(moment.timestamp())}",
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=f"publish {creation.id} at {moment.isoformat()}",
        )
    except RedisError:
        log.warning("Could not schedule %s; recovery will publish it", creation.id)


def creation_publish_due(*, creation_id, now: datetime | None = None) -> bool:
    """scheduled → published when its time has come, exactly once: the guarded update lets
    one caller through (the scheduled job, a repeat of it, or recovery); a creation that
    was unscheduled, moved to the trash, rescheduled later or taken down is left alone."""
    now = now or timezone.now()
    rows = Creation.objects.filter(pk=creation_id, trashed_at__isnull=True, publish_at__lte=now)
    with transaction.atomic():
        published = rows.transition(
            Creation.Status.PUBLISHED,
            sources=[Creation.Status.SCHEDULED],
            published_at=now,
            first_published_at=Coalesce("first_published_at", Value(now)),
            explore_score=ranking.publish_score(now),
        )
        if published:
            creation = Creation.objects.filter(pk=creation_id).first()
            if creation is not None:
                versions.creation_changed(creation)
                _end_shares(creation, "published")
                events.announce("published", creation, scheduled=True)
    return bool(published)


def creation_unschedule(*, creation: Creation) -> Creation:
    with transaction.atomic():
        row = _locked(creation)
        if not row.can_unschedule:
            _take_state(creation, row)
            raise refused("not_scheduled")
        _apply(creation, row, Creation.Status.DRAFT, publish_at=None, redrafted_at=timezone.now())
        _end_shares(row, "unscheduled")
        events.announce("unpublished", creation)
    return creation


def creation_unpublish(*, creation: Creation) -> Creation:
    """A post goes back to the drafts (its caption kept for the next publish)."""
    with transaction.atomic():
        row = _locked(creation)
        if not row.can_unpublish:
            _take_state(creation, row)
            raise refused("not_published")
        _apply(creation, row, Creation.Status.DRAFT, published_at=None, redrafted_at=timezone.now())
        _end_shares(row, "unpublished")
        events.announce("unpublished", creation)
    return creation


def creation_edit_caption(*, creation: Creation, caption: str) -> Creation:
    caption = clean_caption(caption)
    with transaction.atomic():
        row = _locked(creation)
        if not row.can_edit_caption:
            _take_state(creation, row)
            raise refused("not_editable")
        _apply(creation, row, None, caption=caption)
    return creation


def creation_trash(*, creation: Creation, now: datetime | None = None) -> Creation:
    """Into the trash, keeping its status and files: a post leaves the feed at once."""
    with transaction.atomic():
        row = _locked(creation)
        if not row.can_trash:
            _take_state(creation, row)
            raise refused("not_trashable")
        _apply(creation, row, None, trashed_at=now or timezone.now())
        _end_shares(row, "trashed")
        events.announce("trashed", creation)
    return creation


def creation_keep(*, creation: Creation) -> list[Creation]:
    """ "Keep this one": every sibling of its batch that may go to the trash goes there, each
    as Delete would move it (its own transaction, its shares ended); one still generating
    stays (cancel it to stop it). Returns the siblings trashed, for Undo."""
    if not creation.can_keep:
        raise refused("not_keepable")
    siblings = Creation.objects.filter(
        owner_id=creation.owner_id, batch_id=creation.batch_id, trashed_at__isnull=True
    ).exclude(pk=creation.pk)
    trashed = []
    for sibling in siblings.order_by("batch_index"):
        if not sibling.can_trash:
            continue
        try:
            trashed.append(creation_trash(creation=sibling))
        except ActionRefused:
            continue  # changed meanwhile: left as it is
    return trashed


def creation_unkeep(*, creation: Creation, sibling_ids: list) -> list[Creation]:
    """Undo of Keep this one: the given siblings of its batch come back from the trash (an
    id of another batch, or of someone else, is ignored)."""
    restored = []
    siblings = Creation.objects.filter(
        owner_id=creation.owner_id, batch_id=creation.batch_id, pk__in=sibling_ids
    ).exclude(pk=creation.pk)
    for sibling in siblings.order_by("batch_index"):
        try:
            restored.append(creation_restore(creation=sibling))
        except ActionRefused:
            continue  # purged or restored meanwhile
    return restored


def creation_restore(
    *, creation: Creation, undo: bool = False, now: datetime | None = None
) -> Creation:
    """Out of the trash, as it was; a post (or a scheduled one) comes back as a draft. The
    Undo of a delete (`undo`, within PHOENIX_UNDO_SECONDS of it) takes the delete back
    whole: a post returns as the post it was, in its place in the feed."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked(creation)
        if not row.can_restore:
            _take_state(creation, row)
            raise refused("not_in_trash")
        changes = {"trashed_at": None}
        target = row.restores_as if row.restores_as != row.status else None
        undone = (
            undo
            and row.status == Creation.Status.PUBLISHED
            and row.trashed_at >= now - timedelta(seconds=settings.PHOENIX_UNDO_SECONDS)
        )
        if undone:
            target = None
        if target is not None or row.status == Creation.Status.DRAFT:
            # Back among the drafts: its expiry starts again.
            changes.update(redrafted_at=timezone.now(), publish_at=None, published_at=None)
        _apply(creation, row, target, **changes)
        _end_shares(row, "restored")
        events.announce("restored", creation)
    return creation


def creation_purge(*, creation: Creation, now: datetime | None = None) -> Creation:
    """Delete forever: the files go (after COMMIT) and the prompt and caption are cleared;
    the row stays, as the record the staff figures count. Only from the trash."""
    with transaction.atomic():
        row = _locked(creation)
        if not row.can_purge:
            _take_state(creation, row)
            raise refused("not_in_trash")
        names = (row.media.name, row.poster.name, row.source_image.name)
        _apply(
            creation,
            row,
            None,
            purged_at=now or timezone.now(),
            prompt="",
            caption="",
            media="",
            poster="",
            source_image="",
        )
        _end_shares(row, "purged")
        transaction.on_commit(lambda: delete_stored_files(*names))
        events.announce("purged", creation)
    return creation


def creation_take_down(*, creation: Creation, staff, reason: str) -> Creation:
    """Staff: a published post is gone from every public URL at once; its owner sees why."""
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused("reason_required", "A take-down needs a reason.", status=400)
    with transaction.atomic():
        row = _locked(creation)
        if not row.can_take_down:
            _take_state(creation, row)
            raise refused("not_published_post")
        _apply(
            creation,
            row,
            Creation.Status.TAKEN_DOWN,
            taken_down_at=timezone.now(),
            taken_down_by=staff,
            takedown_reason=reason[:500],
        )
        _end_shares(row, "taken_down")
        events.announce("taken_down", creation)
    return creation


# Bulk actions: each item is its own transaction, so one refusal does not undo the others.
BULK_ACTIONS = {
    # An empty caption for all keeps each draft's own (an unpublished post keeps its caption).
    "publish": lambda creation, caption: creation_publish(
        creation=creation, caption=caption or None
    ),
    "trash": lambda creation, caption: creation_trash(creation=creation),
    "restore": lambda creation, caption: creation_restore(creation=creation),
    "cancel": lambda creation, caption: creation_cancel(creation=creation),
    "purge": lambda creation, caption: creation_purge(creation=creation),
}


class BulkRequestProblem(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def parse_bulk_request(data) -> tuple[str, list[UUID], str]:
    """(action, ids, caption) of a bulk request, or BulkRequestProblem with nothing done."""
    if not isinstance(data, dict):
        raise BulkRequestProblem("malformed_request", "Send a JSON object.")
    action = data.get("action")
    if not isinstance(action, str) or action not in BULK_ACTIONS:
        raise BulkRequestProblem(
            "unknown_action", f"The action must be one of: {', '.join(BULK_ACTIONS)}."
        )
    ids = data.get("ids")
    if not isinstance(ids, list) or not ids:
        raise BulkRequestProblem("invalid_ids", "ids must be a non-empty list of creation ids.")
    limit = settings.PHOENIX_BULK_MAX
    if len(ids) > limit:
        raise BulkRequestProblem(
            "too_many_ids", f"At most {limit} creations at once; this request has {len(ids)}."
        )
    parsed = []
    for value in ids:
        try:
            if not isinstance(value, str):
                raise ValueError
            parsed.append(UUID(value))
        except ValueError:
            raise BulkRequestProblem("invalid_ids", "Every id must be a creation id.") from None
    caption = data.get("caption", "")
    if caption is not None and not isinstance(caption, str):
        raise BulkRequestProblem("invalid_caption", "The caption must be text.")
    return action, list(dict.fromkeys(parsed)), caption or ""


def creations_bulk(
    *, owner: AbstractBaseUser, action: str, ids: list[UUID], caption: str = ""
) -> dict[str, str]:
    """Apply one action to each of the owner's creations; "ok" or the refusal's code per
    id. Someone else's id reads as not_found, like an unknown one."""
    apply = BULK_ACTIONS[action]
    owned = {c.pk: c for c in Creation.objects.filter(owner=owner, pk__in=ids)}
    results: dict[str, str] = {}
    for creation_id in ids:
        creation = owned.get(creation_id)
        if creation is None:
            results[str(creation_id)] = "not_found"
            continue
        try:
            apply(creation, caption)
        except ActionRefused as refusal:
            results[str(creation_id)] = refusal.code
        else:
            results[str(creation_id)] = "ok"
    return results
