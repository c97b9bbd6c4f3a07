"""The ledger side of Stripe purchases: credit a paid purchase, close an unpaid one, take
refunded or disputed tokens back. tokens.payments talks to Stripe and calls these; the
balance moves through tokens.services' own writers, under the same account lock."""

import logging

from django.db import transaction
from django.utils import timezone

from .models import CreditLot, LedgerEntry, Purchase, TokenAccount
from .services import (
    _credit,
    _settle_debt,
    _write,
)

log = logging.getLogger(__name__)


def _locked_purchase(purchase_id) -> tuple[TokenAccount, Purchase]:
    """Lock the purchase's account, then the purchase (the lock order)."""
    account_id = Purchase.objects.values_list("account_id", flat=True).get(pk=purchase_id)
    account = TokenAccount.objects.select_for_update().get(pk=account_id)
    return account, Purchase.objects.select_for_update().get(pk=purchase_id)


@transaction.atomic
def purchase_credit(
    *, purchase_id, amount_total: int, currency: str, payment_intent_id: str | None
) -> LedgerEntry | None:
    """Credit a paid purchase's tokens exactly once: a paid lot, its ledger row, then any
    debt paid from it. `amount_total` and `currency` are what Stripe says was paid; a
    mismatch with the purchase credits nothing and marks it failed with the reason (for
    staff). None when nothing was credited: credited before, or the mismatch."""
    account, purchase = _locked_purchase(purchase_id)
    if purchase.ledger_entries.filter(kind=LedgerEntry.Kind.PURCHASE).exists():
        return None
    if amount_total != purchase.amount or (currency or "").lower() != purchase.currency:
        reason = f"Paid {amount_total} {currency}, expected {purchase.amount} {purchase.currency}."
        # The payment is kept, so that staff can refund it (the admin) and its refund or
        # dispute events find the purchase.
        Purchase.objects.filter(pk=purchase.pk).update(
            status=Purchase.Status.FAILED,
            failure_reason=reason,
            payment_intent_id=payment_intent_id or None,
            updated_at=timezone.now(),
        )
        return None
    purchase.status = Purchase.Status.FULFILLED
    purchase.payment_intent_id = payment_intent_id or None
    purchase.fulfilled_at = timezone.now()
    purchase.failure_reason = ""
    purchase.save(
        update_fields=[
            "status",
            "payment_intent_id",
            "fulfilled_at",
            "failure_reason",
            "updated_at",
        ]
    )
    return _credit(
        account,
        kind=LedgerEntry.Kind.PURCHASE,
        amount=purchase.tokens,
        category=CreditLot.Category.PAID,
        purchase=purchase,
        reason=purchase.pack.name,
    )


@transaction.atomic
def purchase_close_unpaid(*, purchase_id, status: str, reason: str = "") -> bool:
    """A pending purchase whose payment failed or whose session expired; True if it moved."""
    if status not in (Purchase.Status.FAILED, Purchase.Status.EXPIRED):
        raise ValueError(f"Not an unpaid ending: {status}")
    moved = Purchase.objects.filter(pk=purchase_id, status=Purchase.Status.PENDING).update(
        status=status, failure_reason=reason[:255], updated_at=timezone.now()
    )
    return bool(moved)


def _revoke_to(
    account: TokenAccount, purchase: Purchase, lot: CreditLot | None, target: int
) -> int:
    """Take back tokens until `target` of the purchase's tokens are taken back in all: from
    the lot's frozen or unspent tokens first, then from the account's other spendable lots
    in the draw-down order (its tokens were spent, others are still held), and only what
    the balance cannot cover as debt. Returns tokens taken now (debt included)."""
    owed = target - purchase.tokens_revoked
    if owed <= 0:
        return 0
    from_frozen = from_lot = 0
    if lot is not None:
        from_frozen = min(owed, lot.frozen)
        from_lot = min(owed - from_frozen, lot.remaining, account.balance)
        lot.frozen -= from_frozen
        lot.remaining -= from_lot
        lot.save(update_fields=["frozen", "remaining"])
        if from_lot:
            _write(
                account, kind=LedgerEntry.Kind.REVOKE, amount=-from_lot, purchase=purchase, lot=lot
            )
    short = owed - from_frozen - from_lot
    if short:
        others = CreditLot.objects.filter(account=account, remaining__gt=0)
        if lot is not None:
            others = others.exclude(pk=lot.pk)
        for other in others.order_by(*CreditLot.DRAW_ORDER):
            part = min(short, other.remaining, account.balance)
            if part <= 0:
                break
            other.remaining -= part
            other.save(update_fields=["remaining"])
            _write(
                account, kind=LedgerEntry.Kind.REVOKE, amount=-part, purchase=purchase, lot=other
            )
            short -= part
    if short:
        account.debt += short
        account.save(update_fields=["debt", "updated_at"])
    purchase.tokens_revoked = target
    return owed


def _purchase_by_payment(
    payment_intent_id: str,
) -> tuple[TokenAccount, Purchase, CreditLot | None]:
    """The purchase (locked), and its lot: None for a payment never credited (it did not
    match its purchase), which has no tokens to take back."""
    purchase_id = Purchase.objects.values_list("pk", flat=True).get(
        payment_intent_id=payment_intent_id
    )
    account, purchase = _locked_purchase(purchase_id)
    return account, purchase, CreditLot.objects.filter(purchase=purchase).first()


@transaction.atomic
def purchase_refunded(*, payment_intent_id: str, amount_refunded: int) -> int:
    """Stripe refunded `amount_refunded` of the purchase in all (cumulative, so a redelivered
    or reordered event changes nothing): its share of the tokens leaves the lot, the part
    already spent becomes debt. Returns the tokens taken back now."""
    account, purchase, lot = _purchase_by_payment(payment_intent_id)
    amount_refunded = min(amount_refunded, purchase.amount)
    if amount_refunded <= purchase.refunded_amount:
        return 0
    if lot is None:
        purchase.refunded_amount = amount_refunded
        purchase.save(update_fields=["refunded_amount", "updated_at"])
        return 0
    taken = _revoke_to(account, purchase, lot, purchase.tokens_owed_back(amount_refunded))
    purchase.refunded_amount = amount_refunded
    if purchase.status != Purchase.Status.DISPUTED:
        purchase.status = Purchase.Status.REFUNDED
    purchase.save(update_fields=["refunded_amount", "tokens_revoked", "status", "updated_at"])
    return taken


@transaction.atomic
def purchase_dispute_opened(*, payment_intent_id: str, dispute_id: str = "") -> int:
    """A chargeback opened: the lot's unspent tokens are frozen (out of the balance, not
    spendable) until it closes. Nothing for a dispute already closed (Stripe told its end
    first). Returns the tokens frozen now."""
    account, purchase, lot = _purchase_by_payment(payment_intent_id)
    if dispute_id and dispute_id == purchase.dispute_id and purchase.dispute_outcome:
        return 0
    if purchase.status == Purchase.Status.DISPUTED:
        return 0
    purchase.dispute_id = dispute_id
    purchase.dispute_outcome = ""
    if lot is None:
        # Never credited (the amount did not match): nothing to hold.
        purchase.save(update_fields=["dispute_id", "dispute_outcome", "updated_at"])
        return 0
    held = min(lot.remaining, account.balance)
    lot.frozen += held
    lot.remaining -= held
    lot.save(update_fields=["frozen", "remaining"])
    if held:
        _write(
            account, kind=LedgerEntry.Kind.DISPUTE_HOLD, amount=-held, purchase=purchase, lot=lot
        )
    purchase.status = Purchase.Status.DISPUTED
    purchase.save(update_fields=["status", "dispute_id", "dispute_outcome", "updated_at"])
    return held


@transaction.atomic
def purchase_dispute_closed(
    *, payment_intent_id: str, won: bool, amount_lost: int = 0, dispute_id: str = ""
) -> None:
    """Won: the frozen tokens come back. Lost: `amount_lost` is treated as a refund (the
    frozen tokens go first, then the account's other tokens, the rest becomes debt) and
    what is left frozen comes back. A close arriving before its "created" (no hold) still
    applies a loss; told twice, the second changes nothing."""
    account, purchase, lot = _purchase_by_payment(payment_intent_id)
    if (
        purchase.status != Purchase.Status.DISPUTED
        and purchase.dispute_outcome
        and (not dispute_id or dispute_id == purchase.dispute_id)
    ):
        return
    was_held = purchase.status == Purchase.Status.DISPUTED
    purchase.dispute_id = dispute_id or purchase.dispute_id
    purchase.dispute_outcome = "won" if won else "lost"
    fields = ["dispute_id", "dispute_outcome", "refunded_amount", "tokens_revoked", "updated_at"]
    if not won:
        refunded = min(purchase.amount, max(amount_lost, 0) + purchase.refunded_amount)
        if lot is not None:
            _revoke_to(account, purchase, lot, purchase.tokens_owed_back(refunded))
        purchase.refunded_amount = refunded
    if lot is None:
        purchase.save(update_fields=fields)
        return
    released = lot.frozen
    if released:
        lot.frozen = 0
        lot.remaining += released
        lot.save(update_fields=["frozen", "remaining"])
        _write(
            account,
            kind=LedgerEntry.Kind.DISPUTE_RELEASE,
            amount=released,
            purchase=purchase,
            lot=lot,
        )
        _settle_debt(account, lot, purchase=purchase)
    if was_held or purchase.refunded_amount:
        purchase.status = (
            Purchase.Status.REFUNDED if purchase.refunded_amount else Purchase.Status.FULFILLED
        )
        fields.append("status")
    purchase.save(update_fields=fields)
