"""Buying tokens through Stripe Checkout, with the official library. The only calls
Phoenix makes: create, retrieve and list Checkout Sessions (inline price_data) and create
a refund. Every Stripe call runs outside any transaction; the ledger side is
tokens.services (purchase_credit, purchase_refunded, …), under the account lock.

Exactly once: a webhook event id is recorded (unique row, committed) as a claim before it
is handled and marked handled after, so a redelivered copy does nothing once it is handled
and is asked to come again (409) while the first is still being handled; and the
credit itself is one ledger row per purchase (one_credit_per_purchase), so the nightly
catch-up, `completed` and `async_payment_succeeded` together still credit once.
"""

import datetime
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import purchases
from .models import CreditLot, Purchase, StripeEvent, TokenAccount, TokenPack

log = logging.getLogger(__name__)


class UnknownPack(Exception):
    code = "unknown_pack"

    def __init__(self, slug):
        super().__init__(f"There is no pack {slug!r} on sale.")


class StripeUnavailable(Exception):
    code = "payments_unavailable"

    def __init__(self):
        super().__init__(
            "Payments are unavailable right now; nothing was charged. Please try again in a "
            "few minutes."
        )


class BadSignature(Exception):
    code = "bad_signature"


def stripe_client() -> stripe.StripeClient:
    options = {}
    if settings.STRIPE_API_BASE:
        options["base_addresses"] = {"api": settings.STRIPE_API_BASE}
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY or "sk_test_unset",
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT),
        **options,
    )


def is_test_mode() -> bool:
    """Not talking to live Stripe: a test key, or the fake."""
    return bool(settings.STRIPE_API_BASE) or not settings.STRIPE_SECRET_KEY.startswith("sk_live_")


# --- Checkout ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckoutStarted:
    purchase: Purchase
    checkout_url: str


def checkout_start(
    *, user, pack_slug, return_urls: Callable[[uuid.UUID], tuple[str, str]]
) -> CheckoutStarted:
    """Open a Checkout Session for the pack, then record the pending purchase with it.

    The purchase's id is chosen first and bound to the session (client_reference_id,
    metadata, the idempotency key); the row is written only once Stripe has answered, so an
    unreachable Stripe leaves nothing behind. `return_urls(purchase_id)` gives the success
    and cancel URLs.
    """
    # A slug is short and plain: anything else (a NUL byte, which PostgreSQL cannot even
    # compare, a megabyte of text) names no pack.
    if not isinstance(pack_slug, str) or not pack_slug or len(pack_slug) > 50:
        raise UnknownPack(pack_slug)
    if "\x00" in pack_slug:
        raise UnknownPack(pack_slug)
    pack = TokenPack.objects.filter(slug=pack_slug, active=True).first()
    if pack is None:
        raise UnknownPack(pack_slug)
    purchase_id = uuid.uuid4()
    success_url, cancel_url = return_urls(purchase_id)
    params = {
        "mode": "payment",
        "client_reference_id": str(purchase_id),
        "metadata": {"purchase_id": str(purchase_id)},
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": pack.currency,
                    "unit_amount": pack.price,
                    "product_data": {"name": f"{pack.name}: {pack.tokens} Phoenix tokens"},
                },
            }
        ],
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    try:
        session = stripe_client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": f"purchase-{purchase_id}"}
        )
    except stripe.StripeError as error:
        log.warning("Checkout Session not created: %s", error)
        raise StripeUnavailable() from error
    account, _ = TokenAccount.objects.get_or_create(user_id=user.pk)
    purchase = Purchase.objects.create(
        id=purchase_id,
        account=account,
        pack=pack,
        tokens=pack.tokens,
        amount=pack.price,
        currency=pack.currency,
        checkout_session_id=session.id,
        checkout_url=session.url or "",
    )
    return CheckoutStarted(purchase, session.url)


# --- Fulfilment ----------------------------------------------------------------------------


def purchase_fulfil(*, session_id: str) -> bool:
    """Read the session back from Stripe (never trusting an event's body) and credit its
    purchase if it is paid and matches. True if this call credited it."""
    try:
        session = stripe_client().v1.checkout.sessions.retrieve(session_id)
    except stripe.StripeError as error:
        raise StripeUnavailable() from error
    return fulfil_session(session.to_dict())


def fulfil_session(session: dict) -> bool:
    """Credit the purchase of a session as Stripe itself answered it (a plain dict)."""
    purchase_id = (session.get("metadata") or {}).get("purchase_id")
    purchase = Purchase.objects.filter(
        pk=_uuid(purchase_id), checkout_session_id=session.get("id")
    ).first()
    if purchase is None:
        log.warning("Paid Checkout Session %s matches no purchase", session.get("id"))
        return False
    if session.get("payment_status") != "paid":
        return False
    entry = purchases.purchase_credit(
        purchase_id=purchase.pk,
        amount_total=session.get("amount_total"),
        currency=session.get("currency"),
        payment_intent_id=_id_of(session.get("payment_intent")),
    )
    if entry is None and Purchase.objects.filter(pk=purchase.pk, status="failed").exists():
        log.error("Purchase %s paid but not credited: the amount does not match", purchase.pk)
    return entry is not None


CATCH_UP_PAGE = 100


def purchases_catch_up(*, now: datetime.datetime | None = None) -> int:
    """The nightly safety net: every paid session of the last PHOENIX_PURCHASE_CATCH_UP_DAYS
    whose purchase was never credited (its event lost) is credited now. Returns how many."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=settings.PHOENIX_PURCHASE_CATCH_UP_DAYS)
    credited = 0
    sessions = stripe_client().v1.checkout.sessions.list(
        params={
            "created": {"gte": int(since.timestamp())},
            "status": "complete",
            "limit": CATCH_UP_PAGE,
        }
    )
    for listed in sessions.auto_paging_iter():
        session = listed.to_dict()
        if session.get("payment_status") != "paid":
            continue
        purchase_id = _uuid((session.get("metadata") or {}).get("purchase_id"))
        # Settled (credited, or closed: a mismatch is staff's to refund) stays as it is.
        if Purchase.objects.filter(pk=purchase_id).exclude(status=Purchase.Status.PENDING).exists():
            continue
        credited += fulfil_session(session)
    return credited


def purchase_refund_unspent(*, purchase: Purchase) -> int:
    """Staff: refund the money for the lot's unspent tokens through Stripe. The ledger moves
    when Stripe's charge.refunded arrives (the webhook), never here. Returns the amount.

    A payment that did not match its purchase (never credited, no lot) is refunded in
    full: whatever of the charge is not refunded yet."""
    lot = CreditLot.objects.filter(purchase=purchase).first()
    if lot is None:
        return _refund_whole_payment(purchase)
    amount = purchase.amount_for_tokens(lot.remaining)
    amount = min(amount, purchase.amount - purchase.refunded_amount)
    if amount <= 0 or not purchase.payment_intent_id:
        return 0
    try:
        stripe_client().v1.refunds.create(
            params={"payment_intent": purchase.payment_intent_id, "amount": amount},
            options={"idempotency_key": f"refund-{purchase.pk}-{purchase.refunded_amount}"},
        )
    except stripe.StripeError as error:
        raise StripeUnavailable() from error
    return amount


def _refund_whole_payment(purchase: Purchase) -> int:
    if not purchase.payment_intent_id or purchase.status != Purchase.Status.FAILED:
        return 0
    try:
        refund = stripe_client().v1.refunds.create(
            params={"payment_intent": purchase.payment_intent_id},
            options={"idempotency_key": f"refund-{purchase.pk}-whole"},
        )
    except stripe.StripeError as error:
        raise StripeUnavailable() from error
    return refund.amount


# --- The webhook ---------------------------------------------------------------------------


def event_verify(payload: bytes, signature: str | None):
    try:
        return stripe_client().construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise BadSignature(str(error)) from error


# A claim older than this is taken to be dead (its worker killed, timed out, its connection
# lost): a copy of the event may take it over. Longer than any request may run.
STALE_CLAIM = datetime.timedelta(minutes=5)


class EventInProgress(Exception):
    """Another request is handling this event now: Stripe is to send it again later."""

    code = "event_in_progress"


class EventNotReady(Exception):
    """A charge event for a payment no purchase knows yet: Stripe is to send it again."""

    code = "event_not_ready"


def _event_claim(event) -> StripeEvent | None:
    """Claim the event for this request: its record, claimed now. None when it was handled
    before; EventInProgress while another request's live claim holds it."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return StripeEvent.objects.create(event_id=event.id, type=event.type, claimed_at=now)
    except IntegrityError:
        pass
    record = StripeEvent.objects.filter(event_id=event.id).first()
    if record is None:
        # Its claim was released and the record removed meanwhile: Stripe sends it again.
        raise EventInProgress()
    if record.handled_at is not None:
        return None
    # Free (a failed handling released it) or stale (its handler died): take it, if no
    # other copy took it first.
    taken = (
        StripeEvent.objects.filter(pk=record.pk, handled_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lte=now - STALE_CLAIM))
        .update(claimed_at=now)
    )
    if not taken:
        if StripeEvent.objects.filter(pk=record.pk, handled_at__isnull=False).exists():
            return None
        raise EventInProgress()
    if record.claimed_at is not None:
        log.warning("Stripe event %s: a stale claim taken over", event.id)
    record.claimed_at = now
    return record


def event_handle(event) -> bool:
    """Claim the event (committed at once), handle it, mark it handled. False for a copy
    already handled: nothing more happens. EventInProgress for a copy arriving while
    another request handles it. If handling fails the claim is released, so that Stripe's
    next delivery handles it; if the process dies instead, the claim goes stale and a later
    delivery takes it over."""
    record = _event_claim(event)
    if record is None:
        return False
    mine = StripeEvent.objects.filter(pk=record.pk, claimed_at=record.claimed_at)
    try:
        _dispatch(event.type, event.data.object.to_dict())
    except BaseException:
        try:
            mine.filter(handled_at__isnull=True).update(claimed_at=None)
        except Exception:  # noqa: BLE001 - the connection may be gone: the claim goes stale
            log.exception("Stripe event %s: its claim not released", event.id)
        raise
    # Handled, even if a copy took a stale claim over meanwhile (it changes nothing more).
    StripeEvent.objects.filter(pk=record.pk, handled_at__isnull=True).update(
        handled_at=timezone.now()
    )
    return True


def _dispatch(event_type: str, obj: dict) -> None:
    if event_type in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        # completed with payment_status "unpaid" is a delayed payment: wait for its outcome.
        if obj.get("payment_status") == "paid":
            purchase_fulfil(session_id=obj["id"])
    elif event_type == "checkout.session.async_payment_failed":
        _close_unpaid(obj, Purchase.Status.FAILED, "The payment failed.")
    elif event_type == "checkout.session.expired":
        _close_unpaid(obj, Purchase.Status.EXPIRED, "The checkout expired unpaid.")
    elif event_type == "charge.refunded":
        purchases.purchase_refunded(
            payment_intent_id=_known_payment(obj),
            amount_refunded=obj.get("amount_refunded") or 0,
        )
    elif event_type == "charge.dispute.created":
        purchases.purchase_dispute_opened(
            payment_intent_id=_known_payment(obj), dispute_id=obj.get("id") or ""
        )
    elif event_type == "charge.dispute.closed":
        purchases.purchase_dispute_closed(
            payment_intent_id=_known_payment(obj),
            won=obj.get("status") != "lost",
            amount_lost=obj.get("amount") or 0,
            dispute_id=obj.get("id") or "",
        )
    else:
        log.info("Stripe event %s ignored", event_type)


def _close_unpaid(session, status: str, reason: str) -> None:
    purchase_id = _uuid((session.get("metadata") or {}).get("purchase_id"))
    purchase = Purchase.objects.filter(
        pk=purchase_id, checkout_session_id=session.get("id")
    ).first()
    if purchase is not None:
        purchases.purchase_close_unpaid(purchase_id=purchase.pk, status=status, reason=reason)


def _known_payment(obj) -> str:
    """The payment intent of a charge event, once a purchase holds it. A charge event may
    arrive before its purchase's checkout.session.completed was handled (Stripe does not
    order events): its Checkout Session is looked up and fulfilled first, so a refund or
    a dispute is never dropped only for the tokens to be credited later. Still unknown:
    EventNotReady (the claim is released, 503, and Stripe sends it again)."""
    payment_intent = _id_of(obj.get("payment_intent"))
    if not payment_intent:
        log.warning("Stripe %s %s without a payment intent", obj.get("object"), obj.get("id"))
        raise EventNotReady()
    if not Purchase.objects.filter(payment_intent_id=payment_intent).exists():
        try:
            sessions = stripe_client().v1.checkout.sessions.list(
                params={"payment_intent": payment_intent, "limit": 1}
            )
        except stripe.StripeError as error:
            raise StripeUnavailable() from error
        for listed in sessions.data:
            fulfil_session(listed.to_dict())
    if not Purchase.objects.filter(payment_intent_id=payment_intent).exists():
        log.warning("Stripe %s for an unknown payment %s", obj.get("object"), payment_intent)
        raise EventNotReady()
    return payment_intent


def _id_of(value) -> str | None:
    """An expandable field: an id, or the object itself."""
    if value is None or isinstance(value, str):
        return value
    return value.get("id")


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
