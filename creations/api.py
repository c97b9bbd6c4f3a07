"""JSON API: start a creation, read its state."""

import json

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from tokens.services import InsufficientTokens

from . import services
from .models import Creation
from .presenters import creation_as_json
from .validation import RequestProblem, parse_creation_request


def error(status: int, code: str, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": code, "message": message, **extra}, status=status)


def api_login_required(view):
    """Like login_required, but an API answers 401 JSON instead of redirecting."""

    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return error(401, "authentication_required", "Log in to do this.")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def read_body(request: HttpRequest) -> dict:
    if request.content_type == "application/json":
        try:
            return json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise RequestProblem("malformed_json", "The request body is not valid JSON.") from None
    return {key: request.POST.get(key) for key in request.POST if key != "csrfmiddlewaretoken"}


class Refusal(Exception):
    """Why a create request was turned down: an HTTP status, the JSON error body and any
    headers the answer needs."""

    def __init__(self, status: int, code: str, message: str, *, headers=None, **extra):
        super().__init__(message)
        self.status = status
        self.body = {"error": code, "message": message, **extra}
        self.headers = headers or {}


def start_creation(user, data: dict) -> Creation:
    """Parse, debit and enqueue — the one path for the API and the create form. Raises
    Refusal (400, 402, 429, 503) with nothing debited, or with the debit already refunded."""
    try:
        creation, _ = services.creation_submit(user=user, request=parse_creation_request(data))
    except RequestProblem as problem:
        raise Refusal(400, problem.code, problem.message, field=problem.field) from None
    except InsufficientTokens as shortfall:
        raise Refusal(
            402, shortfall.code, str(shortfall), balance=shortfall.balance, cost=shortfall.needed
        ) from None
    except services.TooManyInFlight as crowd:
        raise Refusal(
            429,
            crowd.code,
            str(crowd),
            limit=crowd.limit,
            headers={"Retry-After": str(settings.PHOENIX_IN_FLIGHT_RETRY_AFTER)},
        ) from None
    if creation.status == Creation.Status.FAILED and creation.error_code == "queue_unavailable":
        raise Refusal(
            503, "queue_unavailable", creation.error_message, creation_id=str(creation.id)
        )
    return creation


@require_POST
@api_login_required
def generate_creation(request: HttpRequest) -> JsonResponse:
    try:
        creation = start_creation(request.user, read_body(request))
    except RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    except Refusal as refusal:
        return JsonResponse(refusal.body, status=refusal.status, headers=refusal.headers)
    drafts_url = reverse("profile", args=[request.user.get_username()]) + "?tab=drafts"
    return JsonResponse(
        {
            "creation_id": str(creation.id),
            "status": creation.status,
            "type": creation.kind,
            "cost": creation.cost,
            "balance": creation.owner_balance,
            "status_url": reverse("creation_status", args=[creation.id]),
            "drafts_url": drafts_url,
        },
        status=202,
        headers={"HX-Redirect": drafts_url} if request.htmx else None,
    )


@never_cache
@require_GET
@api_login_required
def creation_status(request: HttpRequest, creation_id) -> JsonResponse:
    try:
        creation = services.creation_for_owner(owner=request.user, creation_id=creation_id)
    except Http404:
        # Someone else's creation and one that does not exist answer alike.
        return error(404, "not_found", "No such creation.")
    return JsonResponse(creation_as_json(creation))
