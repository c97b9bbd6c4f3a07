"""The library's pages and forms: the star on a card or post, and the boards of the drafts
tab's sidebar (make, rename, delete; put the ticked cards on one, take them off).

Each is a plain function view around one service. An HTMX request gets a fragment back (the
star, the sidebar, a toast); without JavaScript the form posts and the view redirects to
the drafts tab with a message.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import selectors, services
from .errors import LibraryRefused
from .models import Board


def drafts_url(request: HttpRequest, **params: str) -> str:
    url = reverse("profile", args=[request.user.get_username()]) + "?tab=drafts"
    return url + "".join(f"&{name}={value}" for name, value in params.items())


def back_or_drafts(request: HttpRequest) -> str:
    """Where a form without JavaScript goes back to: the page it was sent from (this site's
    only), else the drafts tab."""
    back = request.POST.get("back") or request.headers.get("Referer") or ""
    if back and url_has_allowed_host_and_scheme(
        back, {request.get_host()}, require_https=request.is_secure()
    ):
        return back
    return drafts_url(request)


def toast(request: HttpRequest, text: str, *, level: str = "success", status: int = 200):
    return render(
        request, "library/sidebar.html#toast", {"text": text, "level": level}, status=status
    )


def said(request: HttpRequest, text: str, *, level: str = "success", go: str | None = None):
    """A sentence for the person: a toast for HTMX, a message and a redirect otherwise."""
    if request.htmx:
        return toast(request, text, level=level, status=200 if level == "success" else 422)
    getattr(messages, level)(request, text)
    return redirect(go or back_or_drafts(request))


@require_POST
@login_required
def creation_star(request: HttpRequest, creation_id) -> HttpResponse:
    """Star (`starred=1`) or unstar (`starred=0`) one of one's creations; HTMX gets the star
    back, in its new state."""
    try:
        creation = services.creation_star(
            owner=request.user,
            creation_id=creation_id,
            starred=request.POST.get("starred", "1") != "0",
        )
    except LibraryRefused:
        raise Http404("No such creation.") from None
    if request.htmx:
        return render(request, "library/star.html#star", {"creation": creation, "announce": True})
    return redirect(back_or_drafts(request))


def render_sidebar(request: HttpRequest, *, current: Board | None = None, **extra) -> HttpResponse:
    context = {
        "boards": selectors.boards_of(request.user),
        "current_board": current,
        "filters": selectors.Filters(board=current),
        **extra,
    }
    return render(request, "library/sidebar.html#boards", context)


@require_POST
@login_required
def board_create(request: HttpRequest) -> HttpResponse:
    name = request.POST.get("name", "")
    try:
        board = services.board_create(owner=request.user, name=name)
    except LibraryRefused as refusal:
        if request.htmx:
            return render_sidebar(request, board_error=refusal.message, board_name=name)
        messages.error(request, refusal.message)
        return redirect(drafts_url(request))
    if request.htmx:
        return render_sidebar(request, announcement=f"Board “{board.name}” made.")
    messages.success(request, f"Board “{board.name}” made.")
    return redirect(drafts_url(request, board=str(board.pk)))


def _own_board(request: HttpRequest, board_id) -> Board:
    try:
        return selectors.own_board(owner=request.user, board_id=board_id)
    except LibraryRefused:
        raise Http404("No such board.") from None


@require_POST
@login_required
def board_rename(request: HttpRequest, board_id) -> HttpResponse:
    board = _own_board(request, board_id)
    try:
        services.board_rename(board=board, name=request.POST.get("name", ""))
    except LibraryRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"Renamed to “{board.name}”.")
    # The board's heading, the sidebar and the Add to board list all name it: the page again.
    url = drafts_url(request, board=str(board.pk))
    if request.htmx:
        return hx_redirect(url)
    return redirect(url)


@require_POST
@login_required
def board_delete(request: HttpRequest, board_id) -> HttpResponse:
    board = _own_board(request, board_id)
    name = board.name
    services.board_delete(board=board)
    messages.success(request, f"Board “{name}” deleted. Its creations are still in your library.")
    url = drafts_url(request)
    if request.htmx:
        return hx_redirect(url)
    return redirect(url)


def hx_redirect(url: str) -> HttpResponse:
    # The page again, whole: the heading, the sidebar and Add to board all name the boards,
    # and the message shows as on any page.
    response = HttpResponse()
    response["HX-Redirect"] = url
    return response


def _ticked(request: HttpRequest) -> list[str]:
    return request.POST.getlist("ids")


@require_POST
@login_required
def board_add(request: HttpRequest) -> HttpResponse:
    """The bulk action "Add to board": the ticked cards onto the chosen board."""
    try:
        board = selectors.own_board(owner=request.user, board_id=request.POST.get("target_board"))
    except LibraryRefused:
        return said(request, "Choose a board first.", level="error")
    try:
        added = services.board_add(board=board, creation_ids=_ticked(request))
    except LibraryRefused as refusal:
        return said(request, refusal.message, level="error")
    parts = [f"{added.count('ok')} added to “{board.name}”"]
    if added.count("already_there"):
        parts.append(f"{added.count('already_there')} already on it")
    if added.count("not_found"):
        parts.append(f"{added.count('not_found')} skipped: not found")
    return said(request, ", ".join(parts) + ".")


@require_POST
@login_required
def board_remove(request: HttpRequest, board_id) -> HttpResponse:
    """The bulk action on a board: take the ticked cards off it (they stay in the library)."""
    board = _own_board(request, board_id)
    ids = _ticked(request)
    if not ids:
        return said(request, "Tick the cards to take off the board first.", level="error")
    removed = sum(services.board_remove(board=board, creation_id=pk) for pk in ids)
    messages.success(request, f"{removed} taken off “{board.name}”.")
    url = drafts_url(request, board=str(board.pk))
    if request.htmx:
        return hx_redirect(url)
    return redirect(url)
