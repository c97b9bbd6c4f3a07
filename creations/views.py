"""The creator pages: feed, create, a post's page, and the owner's actions on a card or a
post — publish (now or at a time), cancel, delete (to the trash, with undo), restore,
delete forever, unschedule, unpublish, edit the caption — and bulk actions on a tab.

Each action is a plain function view around one service. An HTMX request gets the card
(or post) back, or a toast when it leaves its tab; without JavaScript the form posts and
the view redirects with a message.
"""

import re
import uuid
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notifications.services import creation_seen
from profiles.views import tabs_context
from tokens.selectors import balance_of

from . import polling, selectors, services, versions
from .api import Refusal, start_creation, start_rerun
from .media import serve_stored_file
from .models import BATCH_MAX, Creation
from .presenters import media_url
from .services import ActionRefused
from .validation import (
    ALLOWED_FIELDS,
    PROMPT_MAX,
    RERUN_FIELDS,
    TYPE_FIELDS,
    RequestProblem,
)


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


def wants_partial(request: HttpRequest) -> bool:
    """An HTMX swap gets a fragment; a normal visit and an HTMX history restore get the page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


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
        "count": count if (count := _small_number(data.get("count"))) in BATCH_COUNTS else 1,
    }


BATCH_COUNTS = range(1, BATCH_MAX + 1)


def _small_number(value) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 3 else None


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
        start_creation(request.user, data, upload=request.FILES.get("image"))
    except Refusal as refusal:
        if refusal.body["error"] == services.IdempotencyKeyReused.code:
            # The API's sentence speaks of keys; the page shown again has a new one.
            return None, KEY_REUSED_ON_FORM, refusal.status
        return None, refusal.body["message"], refusal.status
    return redirect(drafts_url_for(request.user)), "", 0


KEY_REUSED_ON_FORM = (
    "This was already sent with different words; press Generate again to create it."
)


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
    return render(request, "creations/create.html", context, status=status)


STATUS_ANNOUNCEMENTS = {
    Creation.Status.PROCESSING: "Your {kind} is being generated.",
    Creation.Status.DRAFT: "Your {kind} is ready.",
    Creation.Status.FAILED: "Your {kind} failed. {message}",
    Creation.Status.CANCELED: "Your {kind} was canceled. Your tokens were refunded.",
    Creation.Status.PUBLISHED: "Your {kind} is published.",
}
# A card polls while these are shown (in flight), or asks once at its time (scheduled).
WATCHED_STATUSES = (*Creation.IN_FLIGHT, Creation.Status.SCHEDULED)


def render_card(
    request: HttpRequest, creation: Creation, *, status: int = 200, **extra
) -> HttpResponse:
    return render(
        request, "creations/card.html#update", {"creation": creation, **extra}, status=status
    )


@polling.never_cache_unless_unchanged
@require_GET
def creation_card(request: HttpRequest, creation_id) -> HttpResponse:
    """The card on its own: what a pending or processing card polls, and what a scheduled
    card asks for once its time has come.

    A poll that carries its card's current fingerprint (creations.polling) is answered 204
    before the session, the user or the database is looked at. `shown` is the status the
    browser is showing; when it changed, screen readers are told.
    """
    check = polling.CardCheck.of(request, creation_id)
    if check.unchanged():
        return polling.nothing_new()
    shown = request.GET.get("shown")
    fingerprint = check.before_render() if shown in Creation.IN_FLIGHT else None
    creation = selectors.card_for_owner(owner=request.user, creation_id=creation_id)
    if creation.is_in_flight:
        polling.set_card_poll(creation, fingerprint)
    context = {}
    if shown in WATCHED_STATUSES and shown != creation.status:
        template = STATUS_ANNOUNCEMENTS.get(creation.status)
        if template:
            context["announcement"] = template.format(
                kind=creation.get_kind_display().lower(), message=creation.error_message
            )
        if creation.status in Creation.ENDED_WITHOUT_MEDIA:
            context["nav_balance"] = balance_of(request.user)
        # The owner sees the news on the card: its notification is read, and the answer
        # refreshes the bell (see notifications.services.creation_seen).
        context["nav_unread"] = creation_seen(owner=request.user, creation=creation, shown=shown)
    return render_card(request, creation, **context)


@polling.never_cache_unless_unchanged
@require_GET
def drafts_poll(request: HttpRequest) -> HttpResponse:
    """The drafts tab asks whether its owner has new creations (started in another tab, or
    through the API): 204 after one Redis read when their list did not change; else the
    cards newer than the newest it shows, for the top of the tab."""
    check = polling.OwnerCheck.of(
        request, salt=polling.DRAFTS_SALT, subject="drafts", key_of=versions.drafts_key
    )
    if check.unchanged():
        return polling.nothing_new()
    user = request.user
    if not user.is_authenticated:
        raise Http404("No such list.")
    version = check.before_render(user.pk)
    after = request.GET.get("after") or ""
    items = selectors.drafts_newer(owner=user, after=after)
    polling.with_card_polls(items, owner_id=user.pk, list_version=version)
    context = {
        "items": items,
        "groups": selectors.grouped_by_batch(items),
        "poll": polling.drafts_poll(user, version, items[0] if items else None, after),
        "was_empty": not after,
    }
    return render(request, "creations/drafts_poll.html#update", context)


def _owned_or_404(request: HttpRequest, creation_id) -> Creation:
    if not request.user.is_authenticated:
        raise Http404("No such creation.")
    return services.creation_for_owner(owner=request.user, creation_id=creation_id)


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


def refused(
    request: HttpRequest, creation: Creation, refusal: ActionRefused, *, default_tab: str
) -> HttpResponse:
    """A refused action changed nothing: say why, where the action was asked."""
    if refusal.status == 404:
        raise Http404(refusal.message)
    if not request.htmx:
        messages.error(request, refusal.message)
        return redirect(back_url(request, creation, default_tab))
    if request.POST.get("undo"):
        return render(
            request,
            "creations/toast.html#replace",
            {"text": refusal.message, "level": "error"},
            status=refusal.status,
        )
    if target_of(request).startswith("post-"):
        return render_post(request, creation, status=refusal.status, notice=refusal.message)
    card = selectors.card_for_owner(owner=request.user, creation_id=creation.pk)
    return render_card(request, card, status=refusal.status, notice=refusal.message)


def confirm_page(request: HttpRequest, creation_id, **context) -> HttpResponse:
    """The question a link asks before a POST when there is no JavaScript (with it, the
    link posts after the browser's own confirm)."""
    creation = selectors.card_for_owner(owner=request.user, creation_id=creation_id)
    return render(request, "creations/confirm.html", {"creation": creation, **context})


def token_count(count: int) -> str:
    return f"{count} token{'' if count == 1 else 's'}"


# ---------------------------------------------------------------------------------------
# Publish, now or at a time.

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
        raise ActionRefused(
            "invalid_publish_at", "The time zone offset must look like +01:00.", status=400
        )
    try:
        naive = datetime.fromisoformat(value).tzinfo is None
    except ValueError:
        naive = False  # parse_publish_at says what is wrong with it
    return services.parse_publish_at(value + offset if naive else value)


@require_POST
def creation_publish(request: HttpRequest, creation_id) -> HttpResponse:
    creation = _owned_or_404(request, creation_id)
    caption = request.POST.get("caption", "")
    try:
        publish_at = publish_at_from_form(request.POST)
        services.creation_publish(creation=creation, caption=caption, publish_at=publish_at)
    except ActionRefused as refusal:
        if refusal.code == "not_publishable" or not request.htmx:
            return refused(request, creation, refusal, default_tab="drafts")
        # A problem with what was typed: the form again, open, with the words kept.
        card = selectors.card_for_owner(owner=request.user, creation_id=creation.pk)
        return render_card(
            request,
            card,
            status=refusal.status,
            publish_error=refusal.message,
            caption=caption,
            publish_at_value=request.POST.get("publish_at", ""),
            publish_open=True,
        )
    if creation.status == Creation.Status.SCHEDULED:
        if not request.htmx:
            when = f"{creation.publish_at:%a %-d %b, %H:%M} UTC"
            messages.success(request, f"Scheduled for {when}. It waits in your drafts.")
            return redirect(profile_url(request.user, "drafts"))
        card = selectors.card_for_owner(owner=request.user, creation_id=creation.pk)
        return render_card(request, card, focus=True, scheduled_announcement=True)
    if not request.htmx:
        messages.success(request, "Published. It is at the top of your posts.")
        return redirect(profile_url(request.user))
    return render_gone(
        request,
        creation,
        toast="Published. It is now at the top of your posts.",
        toast_link=profile_url(request.user),
        toast_link_text="See your posts",
    )


@require_POST
def creation_unschedule(request: HttpRequest, creation_id) -> HttpResponse:
    creation = _owned_or_404(request, creation_id)
    try:
        services.creation_unschedule(creation=creation)
    except ActionRefused as refusal:
        return refused(request, creation, refusal, default_tab="drafts")
    text = "Unscheduled. It is a draft again."
    if not request.htmx:
        messages.success(request, text)
        return redirect(profile_url(request.user, "drafts"))
    card = selectors.card_for_owner(owner=request.user, creation_id=creation.pk)
    return render_card(request, card, focus=True, announcement=text)


# ---------------------------------------------------------------------------------------
# Cancel a creation still queued or generating.


@never_cache
@require_http_methods(["GET", "POST"])
def creation_cancel(request: HttpRequest, creation_id) -> HttpResponse:
    """GET asks first (the page without JavaScript); POST cancels and refunds."""
    if request.method == "GET":
        return confirm_page(request, creation_id, action="cancel")
    creation = _owned_or_404(request, creation_id)
    try:
        result = services.creation_cancel(creation=creation)
    except ActionRefused as refusal:
        return refused(request, creation, refusal, default_tab="drafts")
    text = f"Canceled. {token_count(result.refunded)} refunded."
    if not request.htmx:
        messages.success(request, text)
        return redirect(profile_url(request.user, "drafts"))
    card = selectors.card_for_owner(owner=request.user, creation_id=creation.pk)
    return render_card(request, card, focus=True, announcement=text, nav_balance=result.balance)


# ---------------------------------------------------------------------------------------
# Delete (into the trash, with Undo), restore, delete forever.

TRASHED_TEXT = "Moved to the trash."


@never_cache
@require_http_methods(["GET", "POST"])
def creation_delete(request: HttpRequest, creation_id) -> HttpResponse:
    """Delete moves to the trash, which Undo (or Restore in the Trash tab) reverses, so the
    POST asks nothing first. GET is the same question as a page, for old links."""
    if request.method == "GET":
        return confirm_page(request, creation_id, action="delete")
    creation = _owned_or_404(request, creation_id)
    try:
        services.creation_trash(creation=creation)
    except ActionRefused as refusal:
        return refused(request, creation, refusal, default_tab=home_tab(creation))
    tab = home_tab(creation)
    if not request.htmx:
        # base.html turns this tag into an Undo button.
        messages.success(request, TRASHED_TEXT, extra_tags=f"undo {creation.id} {tab}")
        return redirect(profile_url(request.user, tab))
    return render_gone(request, creation, toast=TRASHED_TEXT, undo_id=creation.id, back=tab)


@require_POST
def creation_restore(request: HttpRequest, creation_id) -> HttpResponse:
    """Restore from the Trash tab, or Undo right after a delete (`undo`): then the card goes
    back into the slot it left (`slot`, sent only while that slot is on the page)."""
    creation = _owned_or_404(request, creation_id)
    undo = bool(request.POST.get("undo"))
    was = creation.status
    try:
        services.creation_restore(creation=creation, undo=undo)
    except ActionRefused as refusal:
        return refused(request, creation, refusal, default_tab="trash")
    tab = home_tab(creation)
    if creation.status != was:
        # A post (or a scheduled one) never goes straight back into public.
        text = "Restored as a draft: publish it again when you want it back in the feed."
    else:
        text = "Restored." if undo else f"Restored to your {tab}."
    if not request.htmx:
        messages.success(request, text)
        return redirect(profile_url(request.user, tab if undo else "trash"))
    context = {"toast": text, "toast_link": profile_url(request.user, tab)}
    context["toast_link_text"] = f"Open your {tab}"
    if undo:
        slot = request.POST.get("slot", "")
        if slot == f"creation-{creation.id}" and tab == "drafts":
            context["card"] = selectors.card_for_owner(owner=request.user, creation_id=creation.pk)
            context.pop("toast_link")
        elif slot == f"post-{creation.id}" and tab == "posts":
            context["post"] = with_media(creation)
            context.pop("toast_link")
        return render(request, "creations/card.html#undone", context)
    return render_gone(request, creation, **context)


@never_cache
@require_http_methods(["GET", "POST"])
def creation_purge(request: HttpRequest, creation_id) -> HttpResponse:
    """Delete forever, from the trash: GET asks first (without JavaScript); POST deletes."""
    if request.method == "GET":
        return confirm_page(request, creation_id, action="purge")
    creation = _owned_or_404(request, creation_id)
    try:
        services.creation_purge(creation=creation)
    except ActionRefused as refusal:
        return refused(request, creation, refusal, default_tab="trash")
    text = "Deleted forever."
    if not request.htmx:
        messages.success(request, text)
        return redirect(profile_url(request.user, "trash"))
    return render_gone(request, creation, toast=text)


@require_POST
def creation_rerun(request: HttpRequest, creation_id) -> HttpResponse:
    """The card's Run again / New seed / Vary / Edit & run without JavaScript (with it, the
    form goes to the API): the drafts tab after, or the reason it was refused."""
    source = _owned_or_404(request, creation_id)
    data = {key: request.POST[key] for key in RERUN_FIELDS if key in request.POST}
    try:
        start_rerun(request.user, source, data)
    except (RequestProblem, ActionRefused) as problem:
        messages.error(request, problem.message)
    except Refusal as refusal:
        messages.error(request, refusal.body["message"])
    return redirect(drafts_url_for(request.user))


@require_POST
def creation_keep(request: HttpRequest, creation_id) -> HttpResponse:
    """ "Keep this one": the batch's other variations go to the trash, with Undo; the batch's
    grid comes back with what is left in it."""
    creation = _owned_or_404(request, creation_id)
    try:
        trashed = services.creation_keep(creation=creation)
    except ActionRefused as refusal:
        return refused(request, creation, refusal, default_tab="drafts")
    text = (
        f"Kept this one: {token_count_words(len(trashed), 'other variation')} moved to the trash."
    )
    if not request.htmx:
        messages.success(request, text)
        return redirect(profile_url(request.user, "drafts"))
    return render_batch(request, creation, toast=text, undo_ids=[c.id for c in trashed])


@require_POST
def creation_unkeep(request: HttpRequest, creation_id) -> HttpResponse:
    """Undo of Keep this one: the variations it trashed come back into the grid."""
    creation = _owned_or_404(request, creation_id)
    restored = services.creation_unkeep(
        creation=creation, sibling_ids=parse_ids(request.POST.getlist("ids"))
    )
    text = f"{token_count_words(len(restored), 'variation')} back in your drafts."
    if not request.htmx:
        messages.success(request, text)
        return redirect(profile_url(request.user, "drafts"))
    return render_batch(request, creation, toast=text)


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


# ---------------------------------------------------------------------------------------
# A post: its page, its caption, unpublish.


@require_POST
def creation_caption(request: HttpRequest, creation_id) -> HttpResponse:
    creation = _owned_or_404(request, creation_id)
    caption = request.POST.get("caption", "")
    try:
        services.creation_edit_caption(creation=creation, caption=caption)
    except ActionRefused as refusal:
        if refusal.code == "not_editable" or not request.htmx:
            return refused(request, creation, refusal, default_tab="posts")
        return render_post(
            request,
            creation,
            status=refusal.status,
            caption_error=refusal.message,
            caption=caption,
            caption_open=True,
        )
    text = "Caption saved."
    if not request.htmx:
        messages.success(request, text)
        return redirect(back_url(request, creation, "posts"))
    return render_post(request, creation, announcement=text, focus=True)


@require_POST
def creation_unpublish(request: HttpRequest, creation_id) -> HttpResponse:
    creation = _owned_or_404(request, creation_id)
    try:
        services.creation_unpublish(creation=creation)
    except ActionRefused as refusal:
        return refused(request, creation, refusal, default_tab="posts")
    text = "Unpublished. It is back in your drafts."
    if not request.htmx:
        messages.success(request, text)
        return redirect(profile_url(request.user, "drafts"))
    return render_gone(
        request,
        creation,
        toast=text,
        toast_link=profile_url(request.user, "drafts"),
        toast_link_text="Open your drafts",
    )


# ---------------------------------------------------------------------------------------
# Bulk actions on the Drafts and Trash tabs.

BULK_TABS = {"drafts": ("publish", "trash", "cancel"), "trash": ("restore", "purge")}
BULK_DONE = {
    "publish": "published",
    "trash": "moved to the trash",
    "cancel": "canceled",
    "restore": "restored",
    "purge": "deleted forever",
}


def skip_reason(code: str, creation: Creation | None) -> str:
    """Why one item of a bulk action was skipped, in a few words."""
    if creation is None or code == "not_found":
        return "not found"
    if creation.is_in_flight and code in ("not_publishable", "not_trashable"):
        return "still generating"
    if creation.is_trashed and code != "not_in_trash":
        return "in the trash"
    if code == "not_publishable":
        if creation.status in Creation.ENDED_WITHOUT_MEDIA:
            return "failed or canceled"
        return "already published or scheduled"
    if code == "not_cancelable":
        return "already finished"
    if code == "not_in_trash":
        return "not in the trash"
    return services.REFUSALS.get(code, code.replace("_", " "))


def bulk_summary(action: str, results: dict[str, str], creations: dict[str, Creation]) -> str:
    """A bulk action's outcome in words: "12 published, 2 skipped: still generating"."""
    done = [key for key, result in results.items() if result == "ok"]
    summary = f"{len(done)} {BULK_DONE[action]}"
    if action == "cancel" and done:
        summary += f", {token_count(sum(creations[key].cost for key in done))} refunded"
    reasons: dict[str, int] = {}
    for key, result in results.items():
        if result != "ok":
            reason = skip_reason(result, creations.get(key))
            reasons[reason] = reasons.get(reason, 0) + 1
    skipped = sum(reasons.values())
    if len(reasons) == 1:
        summary += f", {skipped} skipped: {next(iter(reasons))}"
    elif reasons:
        summary += f", {skipped} skipped: " + ", ".join(f"{n} {why}" for why, n in reasons.items())
    return summary + "."


@login_required
@require_POST
def creations_bulk(request: HttpRequest) -> HttpResponse:
    """One action for the creations ticked on a tab; each item is its own transaction and
    the answer is a summary in words. Without JavaScript, Delete forever asks first."""
    tab = request.POST.get("tab") if request.POST.get("tab") in BULK_TABS else "drafts"
    action = request.POST.get("action", "")
    ids = request.POST.getlist("ids")
    caption = request.POST.get("caption", "")
    summary, problem, status = "", "", 200
    try:
        if not ids:
            raise services.BulkRequestProblem("invalid_ids", "Select at least one first.")
        if action not in BULK_TABS[tab]:
            raise services.BulkRequestProblem("unknown_action", "Choose an action.")
        action, parsed, caption = services.parse_bulk_request(
            {"action": action, "ids": ids, "caption": caption}
        )
        if action == "publish":
            caption = services.clean_caption(caption)
    except services.BulkRequestProblem as bad:
        problem, status = bad.message, 400
    except ActionRefused as refusal:
        problem, status = refusal.message, refusal.status
    else:
        if action == "purge" and not request.htmx and not request.POST.get("confirmed"):
            return render(
                request,
                "creations/confirm.html",
                {"action": "bulk_purge", "ids": ids, "count": len(parsed)},
            )
        results = services.creations_bulk(
            owner=request.user, action=action, ids=parsed, caption=caption
        )
        creations = {
            str(c.pk): c for c in Creation.objects.filter(owner=request.user, pk__in=parsed)
        }
        summary = bulk_summary(action, results, creations)
    if not request.htmx:
        if problem:
            messages.error(request, problem)
        else:
            messages.success(request, summary)
        return redirect(profile_url(request.user, tab))
    context = tabs_context(request, request.user, tab, fresh_selection=not problem)
    context.update(bulk_summary=summary, bulk_error=problem)
    if action == "cancel" and summary:
        context["nav_balance"] = balance_of(request.user)
    return render(request, "profiles/profile.html#bulk_done", context, status=status)
