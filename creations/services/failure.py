"""Fail an in-flight creation and refund it exactly once: the jobs, recovery and staff
each through a function named for what they know."""

import logging
from datetime import datetime
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from tokens import services as tokens

from .. import events, versions
from ..models import Creation, InvalidTransition
from .errors import (
    refund_reason_required,
)
from .state import (
    _announce_refund,
    _take_state,
    leave_the_queue,
)
from .submissions import remote_cancel_request

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
    "submission_unconfirmed": (
        "The video generator did not confirm it started this video. Your tokens were "
        "refunded; please try again."
    ),
}


def creation_fail(*, creation: Creation, code: str, message: str | None = None) -> bool:
    """Fail an in-flight creation and refund it exactly once.

    A creation that is already failed is only made sure to be refunded; a finished one is
    left alone. Returns True when this call changed something (failed it, or wrote its
    missing refund), False when there was nothing left to do — so racing callers can tell
    which of them did the work."""
    return _fail(creation=creation, code=code, message=message)


def creation_fail_past_deadline(*, creation: Creation, code: str, judged_at: datetime) -> bool:
    """Recovery's fail: `judged_at` is the time it judged "past the deadline" at, checked
    again under the lock, as a worker may have claimed the creation since (which moves its
    deadline) and must not see it failed under its feet."""
    return _fail(creation=creation, code=code, past_deadline_at=judged_at)


def creation_fail_task(*, creation: Creation, code: str, task_id: str | None) -> bool:
    """A job's fail, for the remote task it asked about (`task_id`): a task replaced
    meanwhile is not failed for the old one. Without a task id, as creation_fail."""
    return _fail(creation=creation, code=code, task_id=task_id)


def creation_fail_by_staff(
    *, creation: Creation, staff: AbstractBaseUser, reason: str, code: str = "staff_refund"
) -> bool:
    """Staff who fail (or refund) by hand: the refund row names them and their reason
    (automatic refunds have none); without a reason nothing moves (ActionRefused)."""
    return _fail(creation=creation, code=code, staff=staff, refund_reason=reason)


def _fail(
    *,
    creation: Creation,
    code: str,
    message: str | None = None,
    past_deadline_at: datetime | None = None,
    task_id: str | None = None,
    staff: AbstractBaseUser | None = None,
    refund_reason: str = "",
) -> bool:
    if staff is not None and not refund_reason.strip():
        raise refund_reason_required()
    message = message or FAILURE_MESSAGES.get(code, FAILURE_MESSAGES["generation_failed"])
    with transaction.atomic():
        # Lock order everywhere: account first, then the creation.
        account = tokens.lock_account(creation.owner)
        locked = Creation.objects.select_for_update().filter(pk=creation.pk).first()
        if locked is None:
            return False
        if task_id is not None and locked.provider_task_id != task_id:
            _take_state(creation, locked)
            return False
        changed = _fail_locked(
            account,
            locked,
            code,
            message,
            past_deadline_at,
            staff=staff,
            refund_reason=refund_reason,
        )
        if changed and staff is not None and locked.provider_task_id:
            # Staff's "Fail and refund" stops the provider's work too (it bills on).
            remote_cancel_request(creation=locked, task_id=locked.provider_task_id)
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


def creation_refund_failed(*, creation: Creation, staff: AbstractBaseUser, reason: str) -> bool:
    """Staff: refund a failed creation that somehow was not refunded (idempotent). The
    refund row names the staff member and their reason; without a reason nothing moves."""
    if not (reason or "").strip():
        raise refund_reason_required()
    if creation.status != Creation.Status.FAILED:
        raise InvalidTransition(creation.status, "refunded")
    return creation_fail_by_staff(
        creation=creation,
        staff=staff,
        reason=reason,
        code=creation.error_code or "generation_failed",
    )
