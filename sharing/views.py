"""The sharing pages: the owner's share panel for a draft, the read-only shared page with
its comment thread (polled by HTMX), and a link's own URL.

Anyone a draft is not shared with gets the same 404 as for an id that does not exist.
"""

from datetime import timedelta
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from creations.models import Creation
from library.models import Board
from phoenix.htmx import redirect_with_message, wants_partial

from . import selectors, services
from .models import COMMENT_MAX, Share
from .services import NotFound, SharingRefused

# What the panel's link form offers (days); the API takes any time within a year.
LINK_EXPIRY_CHOICES = [("", "Never"), ("1", "In a day"), ("7", "In a week"), ("30", "In 30 days")]


def _draft_or_404(request: HttpRequest, creation_id) -> Creation:
    creation = selectors.viewable_draft(user=request.user, creation_id=creation_id)
    if creation is None:
        raise Http404("No such creation.")
    return creation


def render_published(request: HttpRequest, post: Creation) -> HttpResponse:
    """The draft is no more (so 404), but it became a post: say where it went."""
    return render(request, "sharing/published.html", {"post": post}, status=404)


def _owned_or_404(request: HttpRequest, creation_id) -> Creation:
    creation = selectors.owned_creation(owner=request.user, creation_id=creation_id)
    if creation is None:
        raise Http404("No such creation.")
    return creation


def link_url(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("share_link", args=[token]))


# ---------------------------------------------------------------------------------------
# The owner's share panel.


def render_shares_panel(
    request: HttpRequest, template: str, shares: list[Share], *, status: int = 200, **context
) -> HttpResponse:
    """A share panel, a draft's (people and links) or a board's (links): the standing shares,
    the ended ones and the link form."""
    context = {
        "active": [share for share in shares if share.is_active],
        "ended": [share for share in shares if not share.is_active],
        "expiry_choices": LINK_EXPIRY_CHOICES,
        **context,
    }
    if wants_partial(request):
        template += "#panel"
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "private, no-store"  # a new link's URL is shown once, here
    return response


def render_panel(request: HttpRequest, creation: Creation, *, status: int = 200, **extra):
    return render_shares_panel(
        request,
        "sharing/panel.html",
        selectors.shares_of(creation),
        status=status,
        creation=creation,
        **extra,
    )


def link_created(request: HttpRequest, share: Share) -> dict:
    """What the panel shows once after a new link: its URL, and to copy it now."""
    return {
        "new_link": link_url(request, share.token),
        "announcement": "Link created. Copy it now: it is not shown again.",
    }


def revoked(request: HttpRequest, share: Share, *, panel_url: str, panel) -> HttpResponse:
    """Revoke `share` and say so: the panel again (`panel(**extra)`) for HTMX, its page with
    a message without JavaScript."""
    services.share_revoke(share=share)
    if share.kind == Share.Kind.PERSON:
        text = f"{share.recipient.username} no longer has access."
    else:
        text = "Link revoked: it opens nothing any more."
    if not request.htmx:
        return redirect_with_message(request, text, panel_url)
    return panel(announcement=text)


def _link_expiry(value: str):
    if not value:
        return None
    if value not in {choice for choice, _ in LINK_EXPIRY_CHOICES}:
        raise SharingRefused("invalid_expires_at", "Choose when the link expires.", status=400)
    return timezone.now() + timedelta(days=int(value))


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def creation_sharing(request: HttpRequest, creation_id) -> HttpResponse:
    """GET: who has access. POST: share with a creator by name (`username`), or make a link
    (`link`, with `expires_in` days)."""
    creation = _owned_or_404(request, creation_id)
    if request.method == "GET":
        return render_panel(request, creation)
    try:
        if request.POST.get("link"):
            expires_at = _link_expiry(request.POST.get("expires_in", ""))
            new = services.share_link_create(creation=creation, expires_at=expires_at)
            return render_panel(request, creation, status=201, **link_created(request, new))
        share = services.share_with_person(
            creation=creation, owner=request.user, username=request.POST.get("username")
        )
    except SharingRefused as refusal:
        return render_panel(
            request,
            creation,
            # 422 is what HTMX swaps in (the panel says why); a plain form keeps the status.
            status=422 if request.htmx and refusal.status in (400, 403, 429) else refusal.status,
            error=refusal.message,
            username=request.POST.get("username", ""),
        )
    text = f"Shared with {share.recipient.username}."
    if not request.htmx:
        return redirect_with_message(request, text, "creation_sharing", creation.id)
    return render_panel(request, creation, status=201, announcement=text)


@require_POST
@login_required
def share_revoke(request: HttpRequest, creation_id, share_id) -> HttpResponse:
    creation = _owned_or_404(request, creation_id)
    try:
        share = services.find_share(creation=creation, share_id=share_id)
    except NotFound:
        raise Http404("No such share.") from None
    return revoked(
        request,
        share,
        panel_url=reverse("creation_sharing", args=[creation.id]),
        panel=partial(render_panel, request, creation),
    )


# ---------------------------------------------------------------------------------------
# A link's own URL.


@never_cache
@require_GET
@login_required
def share_link(request: HttpRequest, token: str) -> HttpResponse:
    """Someone signed in opens a link (an anonymous visitor logs in first, then comes back
    here): from now on, while the link stands, the draft is shared with them."""
    try:
        shared = services.share_link_open(token=token, user=request.user)
    except NotFound:
        post = selectors.published_from_link(token)
        if post is not None:
            return render_published(request, post)
        raise Http404("No such link.") from None
    if isinstance(shared, Board):
        return redirect("shared_board", shared.pk)
    return redirect("shared_draft", shared.id)


# ---------------------------------------------------------------------------------------
# The shared page and its thread.


def thread_context(request: HttpRequest, creation: Creation, *, since: str = "", **extra) -> dict:
    page = selectors.thread_page(creation.pk, since=since)
    return {
        "creation": creation,
        "comments": page.comments,
        "since": page.since,
        "older": page.older,
        "thread_version": selectors.thread_version(creation.pk),
        "is_owner": creation.owner_id == request.user.pk,
        "comment_max": COMMENT_MAX,
        **extra,
    }


@never_cache
@require_GET
@login_required
def shared_draft(request: HttpRequest, creation_id) -> HttpResponse:
    creation = selectors.viewable_draft(user=request.user, creation_id=creation_id)
    if creation is None:
        post = selectors.published_since_shared(user=request.user, creation_id=creation_id)
        if post is not None:
            return render_published(request, post)
        raise Http404("No such creation.")
    return render(request, "sharing/shared.html", thread_context(request, creation))


@never_cache
@require_http_methods(["GET", "POST"])
def comments(request: HttpRequest, creation_id) -> HttpResponse:
    """GET: the thread (what the page polls). POST: a new comment; HTMX gets the thread
    and an empty form back, a form without JavaScript goes back to the page."""
    creation = _draft_or_404(request, creation_id)
    if request.method == "GET":
        return thread_part(request, creation)
    since = request.POST.get("since", "")
    text = request.POST.get("text", "")
    try:
        services.comment_post(creation=creation, author=request.user, text=text)
    except SharingRefused as refusal:
        if refusal.status == 429:
            headers = {"Retry-After": str(refusal.extra.get("retry_after", 60))}
            if request.htmx:
                # Not swapped: phoenix.js shows the message under the form, the text stays.
                body = {"error": refusal.code, "message": refusal.message}
                return JsonResponse(body, status=429, headers=headers)
        context = thread_context(request, creation, since=since, error=refusal.message, text=text)
        if request.htmx:
            # 422 is swapped (base.html's htmx-config): the form again, with why.
            return render(request, "sharing/shared.html#posted", context, status=422)
        response = render(request, "sharing/shared.html", context, status=refusal.status)
        if refusal.status == 429:
            response["Retry-After"] = headers["Retry-After"]
        return response
    if not request.htmx:
        messages.success(request, "Comment posted.")
        return redirect(reverse("shared_draft", args=[creation.id]) + "#comments")
    context = thread_context(request, creation, since=since, announcement="Comment posted.")
    return render(request, "sharing/shared.html#posted", context, status=201)


def thread_part(request: HttpRequest, creation: Creation) -> HttpResponse:
    """The thread's polls and its "Show older": a poll that brings the version it shows
    gets 204 (HTMX swaps nothing) unless a comment came, went or closed; `before` is the
    next older page, appended below the thread."""
    before = request.GET.get("before", "")
    if before:
        context = {
            "creation": creation,
            "page": selectors.thread_page(creation.pk, before=before),
            "is_owner": creation.owner_id == request.user.pk,
        }
        return render(request, "sharing/shared.html#older", context)
    if request.GET.get("v") == selectors.thread_version(creation.pk):
        return HttpResponse(status=204)
    context = thread_context(request, creation, since=request.GET.get("since", ""))
    return render(request, "sharing/shared.html#thread", context)


@require_POST
def comment_delete(request: HttpRequest, creation_id, comment_id) -> HttpResponse:
    creation = _draft_or_404(request, creation_id)
    try:
        comment = services.find_comment(creation=creation, comment_id=comment_id)
        services.comment_delete(comment=comment, user=request.user)
    except NotFound:
        raise Http404("No such comment.") from None
    if not request.htmx:
        messages.success(request, "Comment deleted.")
        return redirect(reverse("shared_draft", args=[creation.id]) + "#comments")
    since = request.POST.get("since", "")
    context = thread_context(request, creation, since=since, announcement="Comment deleted.")
    return render(request, "sharing/shared.html#deleted", context)


# ---------------------------------------------------------------------------------------
# The person a draft reaches: decline it, block its owner.


@require_POST
@login_required
def share_decline(request: HttpRequest, creation_id) -> HttpResponse:
    creation = _draft_or_404(request, creation_id)
    if creation.owner_id == request.user.pk:
        raise Http404("No such creation.")
    try:
        services.share_decline(creation_id=creation.pk, user=request.user)
    except NotFound:
        raise Http404("No such creation.") from None
    messages.success(
        request, f"Declined: {creation.owner.username}’s draft is gone from your list."
    )
    return redirect(reverse("profile", args=[request.user.username]) + "?tab=shared")


@require_POST
@login_required
def person_block(request: HttpRequest, username: str) -> HttpResponse:
    try:
        block = services.person_block(blocker=request.user, username=username)
    except SharingRefused as refusal:
        raise Http404(refusal.message) from None
    messages.success(
        request,
        f"You blocked {block.blocked.username}: they can no longer share drafts with you. "
        "You can unblock them in Settings.",
    )
    return redirect(reverse("profile", args=[request.user.username]) + "?tab=shared")


@require_POST
@login_required
def person_unblock(request: HttpRequest, username: str) -> HttpResponse:
    if services.person_unblock(blocker=request.user, username=username):
        messages.success(request, f"You unblocked {username}.")
    return redirect("blocked_people")


@never_cache
@require_GET
@login_required
def blocked_people(request: HttpRequest) -> HttpResponse:
    context = {"blocks": selectors.blocks_of(request.user)}
    return render(request, "sharing/blocked.html", context)
