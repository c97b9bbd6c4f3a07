"""JSON API of tokens: packs, checkout, purchases, the balance with its lots; and the
Stripe webhook."""

import json
import logging
from datetime import datetime
from uuid import UUID

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from pydantic import Field

from phoenix.jsonapi import (
    Model,
    NotFound,
    Router,
    bad_request,
    body,
    error,
    literal,
    refused,
    session_only,
    signed_in,
)

from . import models, payments, selectors

log = logging.getLogger(__name__)
router = Router(tags=["tokens"])


class TokenPack(Model):
    """A pack on sale (tokens.api.pack_as_json)."""

    slug: str
    name: str
    tokens: int = Field(ge=1)
    price: int = Field(ge=1, description="In minor units.")
    currency: str = Field(pattern="^[a-z]{3}$")


class Purchase(Model):
    """A purchase of a pack (tokens.api.purchase_as_json)."""

    id: UUID
    status: literal(models.Purchase.Status.values)
    pack: str
    tokens: int = Field(ge=1)
    amount: int = Field(ge=1, description="In minor units.")
    currency: str
    created_at: datetime


class Lot(Model):
    category: literal(models.CreditLot.Category.values)
    remaining: int = Field(ge=1)
    expires_at: datetime | None


class Balance(Model):
    balance: int = Field(ge=0)
    debt: int = Field(ge=0)
    lots: list[Lot]


class CheckoutRequest(Model):
    pack: str = Field(description="A pack's slug.")


class CheckoutStarted(Model):
    purchase_id: UUID
    checkout_url: str = Field(description="Stripe Checkout: send the buyer there.")


def moment(value) -> str | None:
    return value.isoformat() if value else None


def pack_as_json(pack: models.TokenPack) -> dict:
    return {
        "slug": pack.slug,
        "name": pack.name,
        "tokens": pack.tokens,
        "price": pack.price,
        "currency": pack.currency,
    }


def purchase_as_json(purchase: models.Purchase) -> dict:
    return {
        "id": str(purchase.pk),
        "status": purchase.status,
        "pack": purchase.pack.slug,
        "tokens": purchase.tokens,
        "amount": purchase.amount,
        "currency": purchase.currency,
        "created_at": moment(purchase.created_at),
    }


def lot_as_json(lot: models.CreditLot) -> dict:
    return {
        "category": lot.category,
        "remaining": lot.remaining,
        "expires_at": moment(lot.expires_at),
    }


def purchase_return_urls(request: HttpRequest):
    """Where Stripe sends the buyer back, for a purchase id: its own page, or the packs."""

    def urls(purchase_id) -> tuple[str, str]:
        success = request.build_absolute_uri(reverse("token_purchase", args=[purchase_id]))
        cancel = request.build_absolute_uri(reverse("token_buy")) + "?canceled=1"
        return success, cancel

    return urls


def read_pack(request: HttpRequest):
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"null")
        except (ValueError, UnicodeError):
            return None, error(400, "malformed_json", "The request body is not valid JSON.")
    else:
        data = {key: request.POST.get(key) for key in request.POST}
    if not isinstance(data, dict) or set(data) - {"pack"}:
        return None, error(400, "malformed_request", 'Send {"pack": "<slug>"}.', field=None)
    return data.get("pack"), None


@router.get(
    "/tokens/packs",
    operation_id="api_token_packs",
    url_name="api_token_packs",
    summary="The packs on sale",
    response={200: list[TokenPack]},
)
@never_cache
def packs_list(request: HttpRequest) -> JsonResponse:
    """Public: what is on sale, the active packs in their order."""
    return JsonResponse([pack_as_json(pack) for pack in selectors.active_packs()], safe=False)


@router.post(
    "/tokens/checkout",
    operation_id="api_token_checkout",
    url_name="api_token_checkout",
    summary="Buy a pack: open a Stripe Checkout Session",
    # Spending is for a person at a browser: an API key cannot start a purchase.
    auth=session_only(),
    response={
        201: CheckoutStarted,
        400: bad_request(
            "CheckoutProblem", ["malformed_json", "malformed_request", payments.UnknownPack.code]
        ),
        503: refused(
            "PaymentsUnavailable",
            [payments.StripeUnavailable.code],
            description="Stripe could not be reached; nothing was made or charged.",
        ),
    },
    openapi_extra=body(CheckoutRequest, form=True),
)
def checkout(request: HttpRequest) -> JsonResponse:
    """The tokens arrive when Stripe confirms the payment (its webhook); poll
    api_token_purchase for the status."""
    slug, problem = read_pack(request)
    if problem is not None:
        return problem
    try:
        started = payments.checkout_start(
            user=request.user, pack_slug=slug, return_urls=purchase_return_urls(request)
        )
    except payments.UnknownPack as unknown:
        return error(400, unknown.code, str(unknown), field="pack")
    except payments.StripeUnavailable as down:
        return error(503, down.code, str(down))
    return JsonResponse(
        {"purchase_id": str(started.purchase.pk), "checkout_url": started.checkout_url},
        status=201,
    )


@router.get(
    "/tokens/purchases/{uuid:purchase_id}",
    operation_id="api_token_purchase",
    url_name="api_token_purchase",
    summary="Read one of the caller's purchases",
    auth=signed_in("read"),
    response={200: Purchase, 404: NotFound},
)
@never_cache
def purchase_status(request: HttpRequest, purchase_id: UUID) -> JsonResponse:
    purchase = selectors.own_purchase(user=request.user, purchase_id=purchase_id)
    if purchase is None:
        return error(404, "not_found", "No such purchase.")
    return JsonResponse(purchase_as_json(purchase))


@router.get(
    "/tokens/balance",
    operation_id="api_token_balance",
    url_name="api_token_balance",
    summary="The caller's balance, debt and lots",
    auth=signed_in("read"),
    response={200: Balance},
)
@never_cache
def balance(request: HttpRequest) -> JsonResponse:
    """Lots in the order debits draw from them: promo before paid, then the soonest expiry
    first. `debt`: tokens spent from a refunded purchase, paid first from the next tokens
    that come in."""
    return JsonResponse(
        {
            "balance": selectors.balance_of(request.user),
            "debt": selectors.debt_of(request.user),
            "lots": [lot_as_json(lot) for lot in selectors.spendable_lots(user=request.user)],
        }
    )


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events, signed: checked on the raw body by the library before anything."""
    try:
        event = payments.event_verify(request.body, request.headers.get("Stripe-Signature"))
    except payments.BadSignature:
        return error(400, "bad_signature", "The Stripe-Signature does not match this body.")
    try:
        handled = payments.event_handle(event)
    except payments.EventInProgress as busy:
        # Another request is handling this event: Stripe delivers it again later.
        return error(409, busy.code, "This event is being handled; send it again later.")
    except payments.EventNotReady as early:
        return error(503, early.code, "No purchase knows this payment yet; send it again.")
    except payments.StripeUnavailable:
        # Stripe delivers it again later; the event's claim was released for that.
        return error(503, "payments_unavailable", "Stripe could not be reached; send it again.")
    return JsonResponse({"received": True, "duplicate": not handled})
