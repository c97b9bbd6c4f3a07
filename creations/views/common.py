"""What the card and post views share: the owner's lookup, where a creation lives, the
answers (card, post, toast) and the refusal."""

import re
import uuid
from collections.abc import Callable
from datetime import datetime
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from .. import polling, selectors, services
from ..api import refusal_status
from ..models import Creation
from ..presenters import media_url
from ..services import ActionRefused


def drafts_url_for(user) -> str:
    return reverse("profile", args=[user.get_username()]) + "?tab=drafts"


def render_card(
    request: HttpRequest, creation: Creation, *, status: int = 200, **extra
) -> HttpResponse:
    return render(
        request, "creations/card.html#update", {"creation": creation, **extra}, status=status
    )


def _owned_or_404(request: HttpRequest, creation_id) -> Creation:
    if not request.user.is_authenticated:
        raise Http404("No such creation.")
    return services.creation_for_owner(owner=request.user, creation_id=creation_id)


def render_owner_card(request: HttpRequest, creation: Creation, **extra) -> HttpResponse:
    """The owner's card of `creation`, read again: what the action made of it."""
    card = selectors.card_for_owner(owner=request.user, creation_id=creation.pk)
    return render_card(request, card, **extra)


def owner_action(*, refused_tab: str | Callable[[Creation], str], confirm: str | None = None):
    """A view of one action on the owner's card or post, around one service: it is called
    with the creation (404 for anyone else's, or for a visitor not signed in), and a refusal
    its service raises is answered by `refused` (the action changed nothing), without
    JavaScript back on `refused_tab` (a tab, or the creation's tab by a function of it).
    `confirm`: a GET is that question, asked before the POST when there is no JavaScript."""

    def decorate(view: Callable[[HttpRequest, Creation], HttpResponse]):
        @wraps(view)
        def action(request: HttpRequest, creation_id) -> HttpResponse:
            if confirm is not None and request.method == "GET":
                return confirm_page(request, creation_id, action=confirm)
            creation = _owned_or_404(request, creation_id)
            try:
                return view(request, creation)
            except ActionRefused as refusal:
                tab = refused_tab(creation) if callable(refused_tab) else refused_tab
                return refused(request, creation, refusal, default_tab=tab)

        return action

    return decorate


def profile_url(user, tab: str = "posts") -> str:
    url = reverse("profile", args=[user.get_username()])
    return url if tab == "posts" else f"{url}?tab={tab}"


def home_tab(creation: Creation) -> str:
    """The profile tab a (not trashed) creation is listed on."""
    return "posts" if creation.status in Creation.POSTS_TAB else "drafts"


def back_url(request: HttpRequest, creation: Creation, default: str) -> str:
    """Where a form without JavaScript returns to: the tab it was sent from (`back`), or the
    post's own page."""
    back = request.POST.get("back")
    if back == "post" and not creation.is_trashed and creation.status in Creation.POSTS_TAB:
        return reverse("post", args=[creation.id])
    if back in ("posts", "drafts", "trash"):
        return profile_url(request.user, back)
    return profile_url(request.user, default)


def target_of(request: HttpRequest) -> str:
    """The id of the element an HTMX request swaps: a card (creation-…) or a post (post-…)."""
    return (request.htmx.target or "") if request.htmx else ""


def with_media(creation: Creation) -> Creation:
    creation.media_src = media_url(creation, "media")
    creation.poster_src = media_url(creation, "poster")
    return creation


def render_post(
    request: HttpRequest, creation: Creation, *, status: int = 200, **extra
) -> HttpResponse:
    """The owner's post with its actions, for a swap in the Posts tab or on its page."""
    context = {
        "creation": with_media(creation),
        "manage": True,
        "on_page": request.POST.get("back") == "post",
        **extra,
    }
    return render(request, "creations/post.html#update", context, status=status)


def render_gone(request: HttpRequest, creation: Creation, *, toast: str, **extra) -> HttpResponse:
    """The swapped element leaves its tab: an empty slot keeps its place (an Undo puts the
    element back there), a toast says what happened."""
    return render(
        request,
        "creations/card.html#gone",
        {"creation": creation, "slot": target_of(request), "toast": toast, **extra},
    )


def lower_first(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]


def refused(
    request: HttpRequest, creation: Creation, refusal: ActionRefused, *, default_tab: str
) -> HttpResponse:
    """A refused action changed nothing: say why, where the action was asked."""
    status = refusal_status(refusal)
    if status == 404:
        raise Http404(refusal.message)
    if not request.htmx:
        messages.error(request, refusal.message)
        return redirect(back_url(request, creation, default_tab))
    if request.POST.get("undo"):
        # A stale Undo (done already, or the creation changed since): the toast stays, its
        # Undo disabled, with why — not an error for something nobody did wrong.
        return render(
            request,
            "creations/toast.html#replace",
            {
                "text": f"Nothing to undo: {lower_first(refusal.message)}",
                "level": "info",
                "stale": True,
            },
            status=status,
        )
    if target_of(request).startswith("post-"):
        response = render_post(request, creation, status=status, notice=refusal.message)
    else:
        card = selectors.card_for_owner(owner=request.user, creation_id=creation.pk)
        response = render_card(request, card, status=status, notice=refusal.message)
    if retry_after := getattr(refusal, "retry_after", None):
        response["Retry-After"] = str(retry_after)
    return response


def confirm_page(request: HttpRequest, creation_id, **context) -> HttpResponse:
    """The question a link asks before a POST when there is no JavaScript (with it, the
    link posts after the browser's own confirm)."""
    creation = selectors.card_for_owner(owner=request.user, creation_id=creation_id)
    return render(request, "creations/confirm.html", {"creation": creation, **context})


def token_count(count: int) -> str:
    return f"{count} token{'' if count == 1 else 's'}"


OFFSET = re.compile(r"[+-]\d{2}:\d{2}")


def publish_at_from_form(data) -> datetime | None:
    """The "Publish at" of a form: the browser's local date and time, and its UTC offset
    in a hidden field that phoenix.js fills. Without JavaScript there is no offset and the
    time is taken as UTC (the form says so)."""
    value = (data.get("publish_at") or "").strip()
    if not value:
        return None
    offset = (data.get("publish_at_offset") or "").strip() or "+00:00"
    if not OFFSET.fullmatch(offset):
        raise services.InvalidInput(
            "invalid_publish_at", "The time zone offset must look like +01:00."
        )
    try:
        naive = datetime.fromisoformat(value).tzinfo is None
    except ValueError:
        naive = False  # parse_publish_at says what is wrong with it
    return services.parse_publish_at(value + offset if naive else value)


TRASHED_TEXT = "Moved to the trash."


def parse_ids(values: list[str]) -> list[uuid.UUID]:
    ids = []
    for value in values[: settings.PHOENIX_BULK_MAX]:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    return ids


def token_count_words(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def render_batch(
    request: HttpRequest, creation: Creation, *, toast: str, undo_ids=()
) -> HttpResponse:
    group = selectors.batch_cards(owner=request.user, batch_id=creation.batch_id)
    polling.with_card_polls(group, owner_id=request.user.pk, list_version=None)
    context = {"group": group, "batch_id": creation.batch_id, "toast": toast}
    context.update(kept=creation, undo_ids=list(undo_ids))
    return render(request, "creations/card.html#batch_update", context)
