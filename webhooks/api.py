"""JSON API of webhooks: the caller's endpoints (create, list, delete, rotate the secret,
turn back on), an endpoint's delivery log, and resending a delivery. Someone else's
endpoint or delivery answers as an unknown id does (404 not_found)."""

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from pydantic import Field

from creations.api import read_body
from creations.presenters import moment
from creations.validation import RequestProblem, object_with_only
from phoenix.jsonapi import Model, Router, bad_request, body, error, literal, refused, signed_in

from . import selectors, services
from .models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint

router = Router(tags=["webhooks"])
ENDPOINT = "/webhooks/{uuid:endpoint_id}"
BODY_PROBLEMS = ("malformed_json", "malformed_request", "unknown_field")
URL_PROBLEMS = ("invalid_url", "https_required", "not_public", "unresolvable")
LOG_LIMIT = 50


class Endpoint(Model):
    """A webhook endpoint (webhooks.api.endpoint_as_json); its secret only in the answers
    that made it (create, rotate)."""

    id: UUID
    url: str
    events: list[literal(EVENT_TYPES)]
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: literal(WebhookEndpoint.DisabledReason.values) | None
    created_at: datetime
    previous_secret_expires_at: datetime | None
    secret: str | None = Field(None, description="whsec_…: in the answer that made it only.")


class Endpoints(Model):
    webhooks: list[Endpoint]


class NewEndpoint(Model):
    url: str = Field(max_length=2000, description="https://, resolving to public addresses.")
    events: list[literal(EVENT_TYPES)] = Field(min_length=1)


class Delivery(Model):
    """One event for one endpoint, whatever its tries (webhooks.api.delivery_as_json)."""

    id: UUID
    webhook_id: str = Field(description="The webhook-id header: the same at every try.")
    event_type: literal(EVENT_TYPES)
    state: literal(WebhookDelivery.State.values)
    attempts: int = Field(ge=0)
    status_code: int | None
    duration_ms: int | None
    error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None


class Deliveries(Model):
    deliveries: list[Delivery]


NotFound = refused("WebhookNotFound", ["not_found"])


def not_found() -> JsonResponse:
    return error(404, "not_found", "No such webhook endpoint or delivery.")


def endpoint_as_json(endpoint: WebhookEndpoint, *, secret: str | None = None) -> dict:
    return {
        "id": str(endpoint.pk),
        "url": endpoint.url,
        "events": list(endpoint.events),
        "enabled": endpoint.is_enabled,
        "disabled_at": moment(endpoint.disabled_at),
        "disabled_reason": endpoint.disabled_reason or None,
        "created_at": moment(endpoint.created_at),
        "previous_secret_expires_at": moment(endpoint.previous_secret_expires_at),
        "secret": secret,
    }


def delivery_as_json(delivery: WebhookDelivery) -> dict:
    return {
        "id": str(delivery.pk),
        "webhook_id": delivery.webhook_id,
        "event_type": delivery.event_type,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "status_code": delivery.status_code,
        "duration_ms": delivery.duration_ms,
        "error": delivery.error or None,
        "next_attempt_at": moment(delivery.next_attempt_at)
        if delivery.state == WebhookDelivery.State.PENDING
        else None,
        "created_at": moment(delivery.created_at),
        "last_attempt_at": moment(delivery.last_attempt_at),
        "delivered_at": moment(delivery.delivered_at),
    }


REFUSED_STATUS = {"too_many_webhooks": 409, "endpoint_disabled": 409}


def refusal(refused_: services.WebhookRefused) -> JsonResponse:
    status = REFUSED_STATUS.get(refused_.code, 400)
    extra = {"field": "url"} if refused_.code in URL_PROBLEMS else {}
    if refused_.code == "invalid_events":
        extra = {"field": "events"}
    return error(status, refused_.code, refused_.message, **extra)


@router.get(
    "/webhooks",
    operation_id="api_webhooks_list",
    url_name="api_webhooks",
    summary="The caller's webhook endpoints",
    auth=signed_in("read"),
    response={200: Endpoints},
)
@never_cache
def webhooks_list(request: HttpRequest) -> JsonResponse:
    endpoints = selectors.endpoints_of(request.user)
    return JsonResponse({"webhooks": [endpoint_as_json(e) for e in endpoints]})


@router.post(
    "/webhooks",
    operation_id="api_webhooks_create",
    url_name="api_webhooks",
    summary="Add a webhook endpoint; its signing secret is in this answer only",
    auth=signed_in("create"),
    response={
        201: Endpoint,
        400: bad_request("WebhookProblem", [*BODY_PROBLEMS, *URL_PROBLEMS, "invalid_events"]),
        409: refused("TooManyWebhooks", ["too_many_webhooks"]),
    },
    openapi_extra=body(NewEndpoint),
)
def webhooks_create(request: HttpRequest) -> JsonResponse:
    """The URL is checked now (https, public addresses only: 400 with the reason) and again
    at every delivery. Nothing is made on a refusal."""
    try:
        data = read_body(request)
        object_with_only(data, {"url", "events"})
        url = data.get("url")
        if not isinstance(url, str) or not url:
            raise RequestProblem("invalid_url", 'Give "url": the endpoint\'s https:// URL.', "url")
        endpoint = services.endpoint_create(owner=request.user, url=url, events=data.get("events"))
    except RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    except services.WebhookRefused as refused_:
        return refusal(refused_)
    return JsonResponse(endpoint_as_json(endpoint, secret=endpoint.secret), status=201)


@router.delete(
    ENDPOINT,
    operation_id="api_webhook_delete",
    url_name="api_webhook",
    summary="Delete a webhook endpoint and its log",
    auth=signed_in("create"),
    response={204: None, 404: NotFound},
)
def webhook_delete(request: HttpRequest, endpoint_id: UUID) -> HttpResponse:
    endpoint = selectors.endpoint_for_owner(owner=request.user, endpoint_id=endpoint_id)
    if endpoint is None:
        return not_found()
    services.endpoint_delete(endpoint=endpoint)
    return HttpResponse(status=204)


@router.post(
    ENDPOINT + "/rotate",
    operation_id="api_webhook_rotate",
    url_name="api_webhook_rotate",
    summary="A new signing secret; the old one also signs for 24 hours",
    auth=signed_in("create"),
    response={200: Endpoint, 404: NotFound},
)
def webhook_rotate(request: HttpRequest, endpoint_id: UUID) -> JsonResponse:
    endpoint = selectors.endpoint_for_owner(owner=request.user, endpoint_id=endpoint_id)
    if endpoint is None:
        return not_found()
    secret = services.endpoint_rotate_secret(endpoint=endpoint)
    return JsonResponse(endpoint_as_json(endpoint, secret=secret))


@router.post(
    ENDPOINT + "/enable",
    operation_id="api_webhook_enable",
    url_name="api_webhook_enable",
    summary="Turn a disabled endpoint back on (its URL checked again)",
    auth=signed_in("create"),
    response={200: Endpoint, 400: bad_request("EnableProblem", URL_PROBLEMS), 404: NotFound},
)
def webhook_enable(request: HttpRequest, endpoint_id: UUID) -> JsonResponse:
    endpoint = selectors.endpoint_for_owner(owner=request.user, endpoint_id=endpoint_id)
    if endpoint is None:
        return not_found()
    try:
        services.endpoint_enable(endpoint=endpoint)
    except services.WebhookRefused as refused_:
        return refusal(refused_)
    return JsonResponse(endpoint_as_json(endpoint))


@router.get(
    ENDPOINT + "/deliveries",
    operation_id="api_webhook_deliveries",
    url_name="api_webhook_deliveries",
    summary="An endpoint's delivery log, newest first",
    auth=signed_in("read"),
    response={200: Deliveries, 404: NotFound},
)
@never_cache
def webhook_deliveries(request: HttpRequest, endpoint_id: UUID) -> JsonResponse:
    """The newest 50: state, tries, the last try's status code and duration, the next
    try's time while one waits."""
    endpoint = selectors.endpoint_for_owner(owner=request.user, endpoint_id=endpoint_id)
    if endpoint is None:
        return not_found()
    deliveries = selectors.deliveries_of(endpoint, limit=LOG_LIMIT)
    return JsonResponse({"deliveries": [delivery_as_json(d) for d in deliveries]})


@router.post(
    "/webhooks/deliveries/{uuid:delivery_id}/resend",
    operation_id="api_webhook_delivery_resend",
    url_name="api_webhook_delivery_resend",
    summary="Send a finished delivery again now (same webhook-id and body)",
    auth=signed_in("create"),
    response={
        202: Delivery,
        404: NotFound,
        409: refused("NotResendable", ["not_resendable", "endpoint_disabled"]),
    },
)
def webhook_delivery_resend(request: HttpRequest, delivery_id: UUID) -> JsonResponse:
    delivery = selectors.delivery_for_owner(owner=request.user, delivery_id=delivery_id)
    if delivery is None:
        return not_found()
    try:
        resent = services.delivery_resend(delivery=delivery)
    except services.WebhookRefused as refused_:
        return refusal(refused_)
    if not resent:
        return error(409, "not_resendable", "It is being sent, or waits for its next try.")
    return JsonResponse(delivery_as_json(delivery), status=202)
