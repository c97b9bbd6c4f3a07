"""A board shared read-only by link (the same links as a draft's: sharing.services): the
owner's panel of a board's links, and the board's read-only page for the people who opened
one. Anyone it is not shared with gets the 404 of an unknown board."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from library.errors import LibraryRefused
from library.models import Board
from library.selectors import own_board

from . import boards, services
from .services import NotFound, SharingRefused
from .views import LINK_EXPIRY_CHOICES, _link_expiry, link_url


def _own_board_or_404(request: HttpRequest, board_id) -> Board:
    try:
        return own_board(owner=request.user, board_id=board_id)
    except LibraryRefused:
        raise Http404("No such board.") from None


def render_board_panel(request: HttpRequest, board: Board, *, status: int = 200, **extra):
    links = boards.board_links(board)
    context = {
        "board": board,
        "active": [share for share in links if share.is_active],
        "ended": [share for share in links if not share.is_active],
        "expiry_choices": LINK_EXPIRY_CHOICES,
        **extra,
    }
    template = "sharing/board_panel.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#panel"
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "private, no-store"  # a new link's URL is shown once, here
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def board_sharing(request: HttpRequest, board_id) -> HttpResponse:
    """GET: the board's links. POST: a new link (`expires_in` days)."""
    board = _own_board_or_404(request, board_id)
    if request.method == "GET":
        return render_board_panel(request, board)
    try:
        expires_at = _link_expiry(request.POST.get("expires_in", ""))
    except SharingRefused as refusal:
        return render_board_panel(request, board, status=refusal.status, error=refusal.message)
    new = services.board_link_create(board=board, expires_at=expires_at)
    return render_board_panel(
        request,
        board,
        status=201,
        new_link=link_url(request, new.token),
        announcement="Link created. Copy it now: it is not shown again.",
    )


@require_POST
@login_required
def board_link_revoke(request: HttpRequest, board_id, link_id) -> HttpResponse:
    board = _own_board_or_404(request, board_id)
    try:
        share = boards.find_board_link(board=board, share_id=link_id)
    except NotFound:
        raise Http404("No such link.") from None
    services.share_revoke(share=share)
    text = "Link revoked: it opens nothing any more."
    if not request.htmx:
        messages.success(request, text)
        return redirect("board_sharing", board.pk)
    return render_board_panel(request, board, announcement=text)


@never_cache
@require_GET
@login_required
def shared_board(request: HttpRequest, board_id) -> HttpResponse:
    """The board, read-only: its drafts and posts, for its owner and whoever opened one of
    its standing links."""
    board = boards.viewable_board(user=request.user, board_id=board_id)
    if board is None:
        raise Http404("No such board.")
    cursor = request.GET.get("cursor")
    page = boards.board_page(board=board, cursor=cursor)
    context = {
        "board": board,
        "page": page,
        "cursor": cursor,
        "is_owner": board.owner_id == request.user.pk,
    }
    template = "sharing/shared_board.html"
    if request.htmx and cursor and not request.htmx.history_restore_request:
        template += "#more"
    return render(request, template, context)
