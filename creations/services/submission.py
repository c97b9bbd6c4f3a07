"""Create: debit and make creations pending (one, a batch, a rerun), then send their jobs
after COMMIT. Money moves only through tokens.services."""

import dataclasses
import logging
import secrets
import uuid
from dataclasses import dataclass
from functools import partial
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from phoenix import ratelimit
from phoenix.db import prepared_cursor
from tokens import services as tokens
from tokens.selectors import balance_of

from .. import versions
from ..image_input import SourceNotFound
from ..jobs import sending
from ..models import SEED_LIMIT, Creation
from ..validation import (
    CreationRequest,
    RerunRequest,
    parse_creation_request,
)
from .errors import (
    IdempotencyKeyReused,
    QueueUnavailable,
    TooManyCreates,
    TooManyInFlight,
    refused,
)
from .failure import (
    creation_fail,
)

log = logging.getLogger(__name__)


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
    """One creation (or the first of a batch), for scripts and tests: see creations_submit,
    whose Submitted (creations, created, balance) the views and the API use. Returns
    (creation, created)."""
    submitted = creations_submit(user=user, request=request, **options)
    return submitted.first, submitted.created


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
    animates: Creation | None = None,
) -> Submitted:
    """Debit the cost of `request.count` creations and create them pending, each its own
    row, debit, seed and (after COMMIT) job; all or nothing, under one account lock.

    With an idempotency key already used by this user the first request's creations come
    back with created=False and nothing is debited again (the key is kept on the first
    item; the others are found through its batch). `source_images` are the stored stills
    of a video started from an image, one per item (the caller deletes them when nothing
    was created). `seed` overrides the request's (a rerun's chosen seed, which its
    fingerprint leaves out so that a replay matches). `animates`: the image a video starts
    from (Animate), its parent in the lineage; checked again under its row lock, as a rerun's
    `parent` is (SourceNotFound, ActionRefused).

    QueueUnavailable (after COMMIT) when Redis refused an item's job: that item is failed
    and refunded at once; the exception carries the whole Submitted. TooManyCreates, with
    nothing changed, beyond PHOENIX_CREATES_PER_MINUTE."""
    _take_create_allowance(user, request.count)
    try:
        submitted = _submit(user, request, parent, source_images, seed, animates)
    except QueueUnavailable:
        raise
    except BaseException:
        _give_create_allowance_back(user, request.count)
        raise
    if not submitted.created:
        # An idempotent replay started nothing.
        _give_create_allowance_back(user, request.count)
    return submitted


CREATE_RATE_SCOPE = "creations-create"
CREATE_RATE_WINDOW = 60


def _take_create_allowance(user: AbstractBaseUser, count: int) -> None:
    """Creations are counted per account per minute (PHOENIX_CREATES_PER_MINUTE; 0: no
    limit), each item of a batch as one: every item is a task the provider bills for, and
    a cancel refunds it. Taken before the account lock, so parallel requests cannot all
    pass; a refused or failed request gives its count back."""
    limit = settings.PHOENIX_CREATES_PER_MINUTE
    if not limit:
        return
    subject = str(user.pk)
    if ratelimit.take(CREATE_RATE_SCOPE, subject, window=CREATE_RATE_WINDOW, amount=count) > limit:
        ratelimit.give_back(CREATE_RATE_SCOPE, subject, window=CREATE_RATE_WINDOW, amount=count)
        raise TooManyCreates(limit=limit, retry_after=ratelimit.seconds_left(CREATE_RATE_WINDOW))


def _give_create_allowance_back(user: AbstractBaseUser, count: int) -> None:
    if settings.PHOENIX_CREATES_PER_MINUTE:
        ratelimit.give_back(
            CREATE_RATE_SCOPE, str(user.pk), window=CREATE_RATE_WINDOW, amount=count
        )


def _submit(
    user: AbstractBaseUser,
    request: CreationRequest,
    parent: Creation | None,
    source_images: list[str] | None,
    seed: int | None,
    animates: Creation | None = None,
) -> Submitted:
    cost = settings.PHOENIX_COSTS[request.kind]
    count = request.count
    unqueued: list[Creation] = []
    with transaction.atomic(durable=True):
        account = tokens.lock_account(user)
        replayed = _replay(user, request.idempotency_key, request.fingerprint, account.balance)
        if replayed is not None:
            return replayed
        # The source is checked again under its row lock (after the account's: the lock
        # order), as a purge or a take-down since the caller read it locks only that row.
        if parent is not None:
            _lock_rerun_source(parent)
        if animates is not None:
            _lock_animated_image(animates)
            parent = animates
        source_creation_id = animates.pk if animates is not None else None
        if animates is None and parent is not None:
            source_creation_id = parent.source_creation_id
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
                    source_creation_id=source_creation_id,
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
            transaction.on_commit(partial(_enqueue_noting_failure, creation, unqueued))
        versions.creations_changed(creations)
    if unqueued:
        # COMMIT ran the enqueues (the block above is durable): those Redis refused are
        # failed and refunded already, so the balance is read again after those refunds;
        # the caller tells the creator.
        submitted = Submitted(creations, True, balance_of(user))
        raise QueueUnavailable(submitted=submitted, unqueued=unqueued)
    return Submitted(creations, True, account.balance)


def submission_replayed(
    *, user: AbstractBaseUser, idempotency_key: str | None, fingerprint: str
) -> Submitted | None:
    """What a request whose idempotency key was used already made (created=False), read
    before anything that depends on the state now (the source of a rerun, the image a video
    starts from): a replay is answered from the stored request. None for a new key (then
    creations_submit looks again under the account lock); IdempotencyKeyReused for the
    same key with another request."""
    return _replay(user, idempotency_key, fingerprint, None)


def _replay(user, key: str | None, fingerprint: str, balance: int | None) -> Submitted | None:
    if not key:
        return None
    existing = Creation.objects.filter(owner=user, idempotency_key=key).first()
    if existing is None:
        return None
    # The key stays spent whatever became of its creation (trashed, purged: the hash
    # outlives the prompt).
    if existing.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    return Submitted(batch_items(existing), False, balance_of(user) if balance is None else balance)


def _enqueue_noting_failure(creation: Creation, unqueued: list[Creation]) -> None:
    if not creation_enqueue(creation):
        unqueued.append(creation)


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
    unless a new one is given (Edit & run); RequestProblem as a create would raise, and
    ActionRefused when the source cannot be run again (creations_submit asks again under
    its lock)."""
    refuse_rerun_from(source)
    data = {
        "type": source.kind,
        "prompt": rerun.prompt if rerun.prompt is not None else source.prompt,
        "aspect_ratio": source.aspect_ratio,
        "orientation": source.orientation,
        "idempotency_key": rerun.idempotency_key,
    }
    request = parse_creation_request(data)
    return dataclasses.replace(request, replay_fingerprint=rerun.fingerprint_for(source.pk))


def refuse_rerun_from(source: Creation, *, lock: bool = False) -> None:
    """ActionRefused unless the creation may be run again now: its own state, and for a
    video started from a still, that the still's copy is still kept (see
    PHOENIX_SOURCE_COPY_DAYS) and the image it was copied from not taken down (that row
    locked too when `lock`)."""
    if source.has_lost_its_source_image and not source.is_purged:
        raise refused("source_image_gone")
    if not source.can_rerun:
        raise refused("not_rerunnable")
    if source.source_creation_id is not None:
        origin = Creation.objects.filter(pk=source.source_creation_id)
        if lock:
            origin = origin.select_for_update()
        if origin.filter(status=Creation.Status.TAKEN_DOWN).exists():
            raise refused("source_taken_down")


def _lock_rerun_source(parent: Creation) -> None:
    row = Creation.objects.select_for_update().filter(pk=parent.pk).first()
    if row is None:
        raise refused("not_rerunnable")
    refuse_rerun_from(row, lock=True)


def _lock_animated_image(image: Creation) -> None:
    row = Creation.objects.select_for_update().filter(pk=image.pk).first()
    if row is None or not row.can_animate or not row.media:
        raise SourceNotFound()


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
# sliced count cost as much as the rest of the create's queries together (make bench), and
# prepared (phoenix.db): planning it cost as much as running it.
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
    with prepared_cursor() as cursor:
        cursor.execute(_IN_FLIGHT_SQL, [user.pk, list(Creation.IN_FLIGHT), limit])
        (in_flight,) = cursor.fetchone()
    if in_flight + count > limit:
        raise TooManyInFlight(limit=limit)


def creation_enqueue(creation: Creation) -> bool:
    """Send the creation's job after COMMIT. If Redis refuses, fail and refund at once.

    Returns True when the job is in Redis.
    """
    try:
        sending.send_generation(creation)
    except Exception:
        # Redis down, a script refused, a job that would not serialise: whatever stopped
        # it, the creator is refunded now (and answered 503), not left to recovery.
        log.exception("Could not enqueue creation %s", creation.id)
        creation_fail(creation=creation, code="queue_unavailable")
        return False
    return True
