"""The creator's pages: the feed, Create (the form and its submit), a creation's media."""

import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from tokens.selectors import balance_of

from .. import services
from ..api import Refusal, start_creation
from ..media import serve_stored_file
from ..models import BATCH_MAX, Creation
from ..validation import (
    ALLOWED_FIELDS,
    PROMPT_MAX,
    TYPE_FIELDS,
)
from .common import drafts_url_for


@require_GET
def creation_media(request: HttpRequest, creation_id, which: str) -> HttpResponse:
    """A creation's media or poster: published ones for anyone, drafts for their owner, the
    people a draft is shared with (Creation.media_visible_to asks sharing), and staff who
    may view creations (the admin's preview); anyone else gets the 404 of an unknown id."""
    if which not in ("media", "poster"):
        raise Http404("No such media.")
    creation = (
        Creation.objects.filter(pk=creation_id)
        .select_related("owner")
        .only("owner__is_active", "status", "trashed_at", "purged_at", which)
        .first()
    )
    if creation is None or not creation.media_visible_to(request.user):
        raise Http404("No such media.")
    name = getattr(creation, which).name
    if not name:
        raise Http404("No such media.")
    return serve_stored_file(request, name, public=creation.is_public)


def create_form_values(data) -> dict[str, str]:
    """What the create form shows: the defaults, overridden by a query string (Edit prompt)
    or by a post that came back with an error. Unknown values fall back to the defaults."""
    kind = data.get("type")
    aspect_ratio = data.get("aspect_ratio")
    orientation = data.get("orientation")
    return {
        "type": kind if kind in Creation.Kind.values else Creation.Kind.IMAGE,
        "prompt": (data.get("prompt") or "")[:PROMPT_MAX],
        "aspect_ratio": aspect_ratio
        if aspect_ratio in Creation.AspectRatio.values
        else Creation.AspectRatio.SQUARE,
        "orientation": orientation
        if orientation in Creation.Orientation.values
        else Creation.Orientation.LANDSCAPE,
        "count": count if (count := _small_number(data.get("count"))) in BATCH_COUNTS else 1,
    }


BATCH_COUNTS = range(1, BATCH_MAX + 1)


def _small_number(value) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 3 else None


def submit_from_form(request: HttpRequest) -> HttpResponse | Refusal:
    """The create form without JavaScript (and "Try again" without it): the same parsing and
    service as the API. Returns the redirect on success, else the API's Refusal (its
    message in the form's words, its headers for the page's answer)."""
    kind = request.POST.get("type")
    data = {key: request.POST[key] for key in ALLOWED_FIELDS if key in request.POST}
    # Without JavaScript both option groups are sent; only the chosen type's one applies.
    for other_kind, field_name in TYPE_FIELDS.items():
        if other_kind != kind:
            data.pop(field_name, None)
    try:
        start_creation(request.user, data, upload=request.FILES.get("image"))
    except Refusal as refusal:
        if refusal.body["error"] == services.IdempotencyKeyReused.code:
            # The API's sentence speaks of keys; the page shown again has a new one.
            refusal.body["message"] = KEY_REUSED_ON_FORM
        return refusal
    return redirect(drafts_url_for(request.user))


KEY_REUSED_ON_FORM = (
    "This was already sent with different words; press Generate again to create it."
)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def create_page(request: HttpRequest) -> HttpResponse:
    error, status, refusal = "", 200, None
    values = create_form_values(request.GET)
    if request.method == "POST":
        outcome = submit_from_form(request)
        if isinstance(outcome, HttpResponse):
            return outcome
        refusal = outcome
        error, status = refusal.body["message"], refusal.status
        values = create_form_values(request.POST)
    balance = balance_of(request.user)
    costs = settings.PHOENIX_COSTS
    affordable = [kind for kind in Creation.Kind.values if costs[kind] <= balance]
    if affordable and values["type"] not in affordable:
        # A type the balance does not cover is disabled on the page: choose one it does.
        values["type"] = affordable[0]
    if status == 402:
        # The out-of-tokens message says it once; the refusal would say it again.
        error = ""
    context = {
        "values": values,
        "error": error,
        "balance": balance,
        "costs": costs,
        "can_afford_any": bool(affordable),
        "support_email": settings.PHOENIX_SUPPORT_EMAIL,
        # The first visit, until the first creation: what tokens are and what things cost.
        "first_visit": not Creation.objects.filter(owner=request.user).exists(),
        "kinds": [
            {"value": kind, "label": label, "cost": costs[kind], "affordable": kind in affordable}
            for kind, label in Creation.Kind.choices
        ],
        "cost": costs[values["type"]] * values["count"],
        "remaining": balance - costs[values["type"]] * values["count"],
        "counts": BATCH_COUNTS,
        "aspect_ratios": Creation.AspectRatio.values,
        "orientations": Creation.Orientation.choices,
        "prompt_max": PROMPT_MAX,
        # A fresh key per render: a repeated submit of this form returns its first creation.
        "idempotency_key": uuid.uuid4().hex,
    }
    response = render(request, "creations/create.html", context, status=status)
    if refusal is not None:
        # Retry-After of a 429 or 503, as the API answers it.
        for name, value in refusal.headers.items():
            response[name] = value
    return response
