"""The creator's lifecycle after Generate: cancel, publish (now or at a time), unschedule,
unpublish, edit the caption, and staff take-down. Each locks the creation's row, asks the
model whether the action is allowed now, and changes the status only through
Creation.objects.transition; a refused action changes nothing."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from redis.exceptions import RedisError
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError

from phoenix import ratelimit
from tokens import services as tokens

from .. import events, queues, ranking, versions
from ..jobs import sending
from ..models import Creation
from ..providers import remote_provider
from ..validation import (
    normalise_line_breaks,
    parse_future_moment,
)
from .errors import (
    CAPTION_MAX,
    InputRefused,
    InvalidInput,
    TooManyCancels,
    refused,
)
from .state import (
    _announce_refund,
    _apply,
    _end_shares,
    _locked,
    _take_state,
    leave_the_queue,
)
from .submissions import remote_cancel_request

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Canceled:
    creation: Creation
    refunded: int
    balance: int


def clean_caption(caption) -> str:
    if caption is None:
        caption = ""
    if not isinstance(caption, str):
        raise InvalidInput("invalid_caption", "The caption must be text.")
    caption = normalise_line_breaks(caption).strip()
    if "\x00" in caption:
        raise InputRefused("invalid_caption", "The caption contains a null character.")
    if len(caption) > CAPTION_MAX:
        raise InputRefused(
            "caption_too_long",
            f"The caption is {len(caption)} characters; the limit is {CAPTION_MAX}.",
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
        refuse=lambda message: InvalidInput("invalid_publish_at", message),
        now=now,
    )


def creation_cancel(*, creation: Creation) -> Canceled:
    """The owner stops a queued or generating creation: canceled and refunded at once.

    Under the account and row locks, as failing is: exactly one of draft / canceled /
    failed wins, and the refund is the one refund function's. After COMMIT a running job
    is stopped and the provider's task canceled; a result that still arrives finds the
    creation no longer processing and is discarded with its files.
    """
    _take_cancel_allowance(creation.owner_id)
    try:
        return _cancel(creation)
    except BaseException:
        _give_cancel_allowance_back(creation.owner_id)
        raise


CANCEL_RATE_SCOPE = "creations-cancel"
CANCEL_RATE_WINDOW = 3600


def _take_cancel_allowance(owner_id) -> None:
    """Cancels are counted per account per hour (PHOENIX_CANCELS_PER_HOUR; 0: no limit): a
    cancel refunds in full while the provider bills for the task it already started. A
    refused cancel gives its count back."""
    limit = settings.PHOENIX_CANCELS_PER_HOUR
    if not limit:
        return
    if ratelimit.take(CANCEL_RATE_SCOPE, str(owner_id), window=CANCEL_RATE_WINDOW) > limit:
        ratelimit.give_back(CANCEL_RATE_SCOPE, str(owner_id), window=CANCEL_RATE_WINDOW)
        raise TooManyCancels(limit=limit, retry_after=ratelimit.seconds_left(CANCEL_RATE_WINDOW))


def _give_cancel_allowance_back(owner_id) -> None:
    if settings.PHOENIX_CANCELS_PER_HOUR:
        ratelimit.give_back(CANCEL_RATE_SCOPE, str(owner_id), window=CANCEL_RATE_WINDOW)


def _cancel(creation: Creation) -> Canceled:
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


def stop_running_work(creation: Creation) -> None:
    """Best effort, after a cancel: the provider's task first (it bills), then the job (RQ's
    stop-job command kills its work horse). Neither decides anything: the status already
    did, and whatever the job still writes is refused by its guarded update.

    A remote-task provider's job is not stopped: it is short (a submit), and killed in the
    middle of one it could not cancel the task the provider just accepted; it sees the
    cancel itself when it records the task id, and cancels that task."""
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
    """A short job makes the provider's cancel, so that a cancel (or a bulk cancel of many)
    answers at once; it is recorded first, and tried again until the provider acknowledges
    it (services.submissions)."""
    remote_cancel_request(creation=creation, task_id=creation.provider_task_id)


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
            transaction.on_commit(lambda: sending.send_publication(creation))
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


def creation_set_prompt_public(*, creation: Creation, public: bool) -> Creation:
    """Show or hide the prompt of a post (or of a draft, for when it is published)."""
    with transaction.atomic():
        row = _locked(creation)
        if row.purged_at is not None:
            _take_state(creation, row)
            raise refused("not_editable")
        _apply(creation, row, None, prompt_public=bool(public))
    return creation


def creation_take_down(*, creation: Creation, staff, reason: str) -> Creation:
    """Staff: a published post is gone from every public URL at once; its owner sees why."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason_required", "A take-down needs a reason.")
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


def creation_reinstate(*, creation: Creation) -> Creation:
    """Staff reverse a take-down: the post is published again as it was — its caption, its
    first publication (its place in the feed) and everything attached to it were kept by the
    take-down. A post taken down before its scheduled time is published now."""
    with transaction.atomic():
        row = _locked(creation)
        if not row.can_reinstate:
            _take_state(creation, row)
            raise refused("not_taken_down")
        now = timezone.now()
        _apply(
            creation,
            row,
            Creation.Status.PUBLISHED,
            published_at=row.published_at or now,
            first_published_at=row.first_published_at or now,
            publish_at=None,
            taken_down_at=None,
            taken_down_by=None,
            takedown_reason="",
        )
        events.announce("reinstated", creation)
    return creation
