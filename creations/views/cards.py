"""A creation's card and the drafts tab's poll: the card answers its own poll until it is
finished (then it is rendered without its trigger and polling stops)."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tokens.selectors import balance_of

from .. import events, polling, selectors, versions
from ..models import Creation
from .common import (
    render_card,
)

STATUS_ANNOUNCEMENTS = {
    Creation.Status.PROCESSING: "Your {kind} is being generated.",
    Creation.Status.DRAFT: "Your {kind} is ready.",
    Creation.Status.FAILED: "Your {kind} failed. {message}",
    Creation.Status.CANCELED: "Your {kind} was canceled. Your tokens were refunded.",
    Creation.Status.PUBLISHED: "Your {kind} is published.",
}
# A card polls while these are shown (in flight), or asks once at its time (scheduled).
WATCHED_STATUSES = (*Creation.IN_FLIGHT, Creation.Status.SCHEDULED)


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
    creation = selectors.card_for_owner(
        owner=request.user,
        creation_id=creation_id,
        queue_read=fingerprint.queue if fingerprint is not None else None,
    )
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
        # refreshes the bell (notifications listens, see creations.events.news_seen).
        context["nav_unread"] = events.news_seen(owner=request.user, creation=creation, shown=shown)
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
