"""Staff adjustments with a second pair of eyes. The admin's Adjust balance form asks
here: up to PHOENIX_ADJUSTMENT_APPROVAL_ABOVE tokens either way (with what the same staff
member applied at once to the account in the last day) is applied at once; above it the
adjustment waits for another staff member's approval. Either way it is
recorded (AdjustmentRequest: the staff audit view). `grant_tokens` from a shell still
credits at once (whoever has a shell has the database)."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from .models import AdjustmentRequest, TokenAccount
from .services import (
    AdjustmentTooLarge,
    AlreadyApplied,
    BalanceWouldGoNegative,
    SelfAdjustment,
    account_adjust,
    lock_account,
)

# What one staff member applied at once to one account in this long counts with the next
# adjustment the same way (credits with credits, debits with debits): steps under the
# threshold add up to one large adjustment, which a second staff member approves.
APPLIED_AT_ONCE_WINDOW = timedelta(hours=24)


class SelfApproval(ValueError):
    def __init__(self):
        super().__init__("Another staff member must approve an adjustment you asked for.")


class NotPending(ValueError):
    def __init__(self, request: AdjustmentRequest):
        self.request = request
        super().__init__(f"This adjustment is {request.get_status_display()} already.")


@dataclass(frozen=True)
class Asked:
    request: AdjustmentRequest
    replayed: bool  # the same form sent again: nothing new was asked


def needs_approval(amount: int, *, account: TokenAccount, staff) -> bool:
    threshold = settings.PHOENIX_ADJUSTMENT_APPROVAL_ABOVE
    if not threshold:
        return False
    same_way = {"amount__gt": 0} if amount > 0 else {"amount__lt": 0}
    applied = AdjustmentRequest.objects.filter(
        account=account,
        requested_by=staff,
        status=AdjustmentRequest.Status.APPLIED,
        requested_at__gte=timezone.now() - APPLIED_AT_ONCE_WINDOW,
        **same_way,
    ).aggregate(total=Sum("amount", default=0))["total"]
    return abs(amount + applied) > threshold


def adjustment_ask(
    *,
    account: TokenAccount,
    amount: int,
    reason: str,
    staff,
    request_key: str | None = None,
    expires_at=None,
) -> Asked:
    """Apply a small adjustment now, or record a large one for approval. Raises what
    account_adjust raises (checked up front for a large one too, so the form says it now);
    a second sending of one form returns the first request."""
    reason = reason.strip()
    if amount == 0:
        raise ValueError("An adjustment must change the balance.")
    if not reason:
        raise ValueError("An adjustment needs a reason.")
    if abs(amount) > settings.PHOENIX_MAX_ADJUSTMENT:
        raise AdjustmentTooLarge(amount=amount, bound=settings.PHOENIX_MAX_ADJUSTMENT)
    if staff.pk == account.user_id:
        raise SelfAdjustment()
    if request_key:
        first = AdjustmentRequest.objects.filter(request_key=request_key).first()
        if first is not None:
            return Asked(first, replayed=True)
    try:
        with transaction.atomic():
            # Under the account's lock: two steps sent at once are counted together.
            lock_account(account.user)
            if needs_approval(amount, account=account, staff=staff):
                if account.balance + amount < 0:
                    raise BalanceWouldGoNegative(balance=account.balance, amount=amount)
                request = AdjustmentRequest.objects.create(
                    account=account,
                    amount=amount,
                    reason=reason,
                    expires_at=expires_at,
                    requested_by=staff,
                    request_key=request_key,
                    status=AdjustmentRequest.Status.PENDING,
                )
            else:
                entry = account_adjust(
                    user=account.user,
                    amount=amount,
                    reason=reason,
                    staff=staff,
                    request_key=request_key,
                    expires_at=expires_at,
                )
                request = AdjustmentRequest.objects.create(
                    account=account,
                    amount=amount,
                    reason=reason,
                    expires_at=expires_at,
                    requested_by=staff,
                    request_key=request_key,
                    status=AdjustmentRequest.Status.APPLIED,
                    entry=entry,
                )
    except (IntegrityError, AlreadyApplied):
        # The same form, sent twice at once: the other sending asked first.
        first = AdjustmentRequest.objects.filter(request_key=request_key).first()
        if request_key and first is not None:
            return Asked(first, replayed=True)
        raise
    return Asked(request, replayed=False)


def _locked_pending(request_id: int) -> AdjustmentRequest:
    request = (
        AdjustmentRequest.objects.select_for_update()
        .select_related("account__user", "requested_by")
        .get(pk=request_id)
    )
    if request.status != AdjustmentRequest.Status.PENDING:
        raise NotPending(request)
    return request


@transaction.atomic
def adjustment_approve(*, request_id: int, staff) -> AdjustmentRequest:
    """A second staff member applies a waiting adjustment (in the asker's name, with the
    approver recorded here). Raises SelfApproval, SelfAdjustment, NotPending, or
    BalanceWouldGoNegative when the balance fell meanwhile (it stays waiting)."""
    request = _locked_pending(request_id)
    if staff.pk == request.requested_by_id:
        raise SelfApproval()
    if staff.pk == request.account.user_id:
        raise SelfAdjustment()
    request.entry = account_adjust(
        user=request.account.user,
        amount=request.amount,
        reason=request.reason,
        staff=request.requested_by,
        request_key=f"adjustment-request-{request.pk}",
        expires_at=request.expires_at,
    )
    request.status = AdjustmentRequest.Status.APPROVED
    request.decided_by = staff
    request.decided_at = timezone.now()
    request.save(update_fields=["entry", "status", "decided_by", "decided_at"])
    return request


@transaction.atomic
def adjustment_reject(*, request_id: int, staff, note: str = "") -> AdjustmentRequest:
    """Turn a waiting adjustment down; the one who asked withdraws it the same way."""
    request = _locked_pending(request_id)
    if staff.pk == request.requested_by_id:
        request.status = AdjustmentRequest.Status.WITHDRAWN
    else:
        request.status = AdjustmentRequest.Status.REJECTED
        request.decided_by = staff
    request.decided_at = timezone.now()
    request.decision_note = note.strip()[:255]
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return request
