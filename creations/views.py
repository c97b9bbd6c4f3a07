"""The creator pages: feed, create, and the draft card with its publish and delete."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from tokens.selectors import balance_of

from . import selectors, services
from .api import Refusal, start_creation
from .media import serve_stored_file
from .models import Creation, InvalidTransition
from .validation import (
    ALLOWED_FIELDS,
    PROMPT_MAX,
    TYPE_FIELDS,
)

CAPTION_MAX = 2200


@require_GET
def creation_media(request: HttpRequest, creation_id, which: str) -> HttpResponse:
    """A creation's media or poster: published ones for anyone, drafts for their owner only
    (and for staff who may view creations, for the admin's preview)."""
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


def wants_partial(request: HttpRequest) -> bool:
    """An HTMX swap gets a fragment; a normal visit and an HTMX history restore get the page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


@require_GET
@vary_on_headers("HX-Request")
def feed(request: HttpRequest) -> HttpResponse:
    cursor = request.GET.get("cursor")
    page = selectors.feed_page(cursor=cursor)
    context = {"page": page, "cursor": cursor}
    if wants_partial(request) and cursor:
        return render(request, "creations/feed.html#more", context)
    return render(request, "creations/feed.html", context)


def drafts_url_for(user) -> str:
    return reverse("profile", args=[user.get_username()]) + "?tab=drafts"


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
    }


def submit_from_form(request: HttpRequest) -> tuple[HttpResponse | None, str, int]:
    """The create form without JavaScript (and "Try again" without it): the same parsing and
    service as the API. Returns (redirect, "", 0) on success, else (None, message, status)."""
    kind = request.POST.get("type")
    data = {key: request.POST[key] for key in ALLOWED_FIELDS if key in request.POST}
    # Without JavaScript both option groups are sent; only the chosen type's one applies.
    for other_kind, field_name in TYPE_FIELDS.items():
        if other_kind != kind:
            data.pop(field_name, None)
    try:
        start_creation(request.user, data)
    except Refusal as refusal:
        return None, refusal.body["message"], refusal.status
    return redirect(drafts_url_for(request.user)), "", 0


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def create_page(request: HttpRequest) -> HttpResponse:
    error, status = "", 200
    values = create_form_values(request.GET)
    if request.method == "POST":
        response, error, status = submit_from_form(request)
        if response is not None:
            return response
        values = create_form_values(request.POST)
    balance = balance_of(request.user)
    context = {
        "values": values,
        "error": error,
        "balance": balance,
        "kinds": [
            {"value": kind, "label": label, "cost": settings.PHOENIX_COSTS[kind]}
            for kind, label in Creation.Kind.choices
        ],
        "cost": settings.PHOENIX_COSTS[values["type"]],
        "remaining": balance - settings.PHOENIX_COSTS[values["type"]],
        "aspect_ratios": Creation.AspectRatio.values,
        "orientations": Creation.Orientation.choices,
        "prompt_max": PROMPT_MAX,
        # A fresh key per render: a repeated submit of this form returns its first creation.
        "idempotency_key": uuid.uuid4().hex,
    }
    return render(request, "creations/create.html", context, status=status)


STATUS_ANNOUNCEMENTS = {
    Creation.Status.PROCESSING: "Your {kind} is being generated.",
    Creation.Status.DRAFT: "Your {kind} is ready.",
    Creation.Status.FAILED: "Your {kind} failed. {message}",
    Creation.Status.PUBLISHED: "Your {kind} is published.",
}


def render_card(
    request: HttpRequest, creation: Creation, *, status: int = 200, **extra
) -> HttpResponse:
    return render(
        request, "creations/card.html#update", {"creation": creation, **extra}, status=status
    )


@never_cache
@require_GET
def creation_card(request: HttpRequest, creation_id) -> HttpResponse:
    """The card on its own: what a pending or processing card polls every two seconds.

    `shown` is the status the browser is showing; when it changed, screen readers are told.
    """
    creation = selectors.card_for_owner(owner=request.user, creation_id=creation_id)
    shown = request.GET.get("shown")
    context = {}
    if shown in Creation.IN_FLIGHT and shown != creation.status:
        template = STATUS_ANNOUNCEMENTS.get(creation.status)
        if template:
            context["announcement"] = template.format(
                kind=creation.get_kind_display().lower(), message=creation.error_message
            )
        if creation.status == Creation.Status.FAILED:
            context["nav_balance"] = balance_of(request.user)
    return render_card(request, creation, **context)


def _owned_or_404(request: HttpRequest, creation_id) -> Creation:
    if not request.user.is_authenticated:
        raise Http404("No such creation.")
    return services.creation_for_owner(owner=request.user, creation_id=creation_id)


@require_POST
def creation_publish(request: HttpRequest, creation_id) -> HttpResponse:
    creation = _owned_or_404(request, creation_id)
    caption = request.POST.get("caption", "")
    problem, status = "", 200
    if "\x00" in caption:
        problem, status = "The caption contains a null character.", 422
    elif len(caption.strip()) > CAPTION_MAX:
        problem, status = (
            f"The caption is {len(caption.strip())} characters; the limit is {CAPTION_MAX}.",
            422,
        )
    else:
        try:
            services.creation_publish(creation=creation, caption=caption)
        except InvalidTransition:
            problem, status = "Only a finished draft can be published.", 409
    if not request.htmx:
        if problem:
            messages.error(request, problem)
            return redirect(drafts_url_for(request.user))
        messages.success(request, "Published. It is at the top of your posts.")
        return redirect(reverse("profile", args=[request.user.get_username()]))
    if problem:
        card = selectors.card_for_owner(owner=request.user, creation_id=creation.pk)
        if status == 409:
            return render_card(request, card, status=status, notice=problem)
        return render_card(
            request, card, status=status, publish_error=problem, caption=caption, publish_open=True
        )
    return render(
        request,
        "creations/card.html#gone",
        {
            "toast": "Published. It is now at the top of your posts.",
            "toast_link": reverse("profile", args=[request.user.get_username()]),
            "toast_link_text": "See your posts",
        },
    )


IN_FLIGHT_DELETE_MESSAGE = (
    "This creation is still being generated. It can be deleted once it finishes or fails."
)


@never_cache
@require_http_methods(["GET", "POST"])
def creation_delete(request: HttpRequest, creation_id) -> HttpResponse:
    """GET asks for confirmation (the page without JavaScript); POST deletes. HTMX asks
    with hx-confirm and posts straight away."""
    if request.method == "GET":
        creation = selectors.card_for_owner(owner=request.user, creation_id=creation_id)
        return render(
            request,
            "creations/delete_confirm.html",
            {"creation": creation, "in_flight_message": IN_FLIGHT_DELETE_MESSAGE},
        )
    creation = _owned_or_404(request, creation_id)
    try:
        services.creation_delete(creation=creation)
    except InvalidTransition:
        if not request.htmx:
            messages.error(request, IN_FLIGHT_DELETE_MESSAGE)
            return redirect(drafts_url_for(request.user))
        card = selectors.card_for_owner(owner=request.user, creation_id=creation.pk)
        return render_card(request, card, status=409, notice=IN_FLIGHT_DELETE_MESSAGE)
    was_published = creation.status == Creation.Status.PUBLISHED
    if not request.htmx:
        messages.success(request, "Deleted.")
        if was_published:
            return redirect(reverse("profile", args=[request.user.get_username()]))
        return redirect(drafts_url_for(request.user))
    return render(request, "creations/card.html#gone", {"toast": "Deleted."})
