"""JSON API of tokens: packs, checkout, purchases, the balance with its lots; and the
Stripe webhook."""

import json
import logging
from uuid import UUID

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from phoenix.jsonapi import api_login_required, error

from . import payments, selectors
from .models import CreditLot, Purchase, TokenPack

log = logging.getLogger(__name__)


def moment(value) -> str | None:
    return value.isoformat() if value else None


def pack_as_json(pack: TokenPack) -> dict:
    return {
        "slug": pack.slug,
        "name": pack.name,
        "tokens": pack.tokens,
        "price": pack.price,
        "currency": pack.currency,
    }


def purchase_as_json(purchase: Purchase) -> dict:
    return {
        "id": str(purchase.pk),
        "status": purchase.status,
        "pack": purchase.pack.slug,
        "tokens": purchase.tokens,
        "amount": purchase.amount,
        "currency": purchase.currency,
        "created_at": moment(purchase.created_at),
    }


def lot_as_json(lot: CreditLot) -> dict:
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


@never_cache
@require_GET
def packs_list(request: HttpRequest) -> JsonResponse:
    """Public: what is on sale."""
    return JsonResponse([pack_as_json(pack) for pack in selectors.active_packs()], safe=False)


@require_POST
@api_login_required
def checkout(request: HttpRequest) -> JsonResponse:
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


@never_cache
@require_GET
@api_login_required
def purchase_status(request: HttpRequest, purchase_id: UUID) -> JsonResponse:
    purchase = selectors.own_purchase(user=request.user, purchase_id=purchase_id)
    if purchase is None:
        return error(404, "not_found", "No such purchase.")
    return JsonResponse(purchase_as_json(purchase))


@never_cache
@require_GET
@api_login_required
def balance(request: HttpRequest) -> JsonResponse:
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
