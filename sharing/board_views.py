"""A board shared read-only by link (the same links as a draft's: sharing.services): the
owner's panel of a board's links, and the board's read-only page for the people who opened
one. Anyone it is not shared with gets the 404 of an unknown board."""

from functools import partial

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from library.errors import LibraryRefused
from library.models import Board
from library.selectors import own_board
from phoenix.htmx import wants_partial

from . import boards, services
from .services import NotFound, SharingRefused
from .views import _link_expiry, link_created, render_shares_panel, revoked


def _own_board_or_404(request: HttpRequest, board_id) -> Board:
    try:
        return own_board(owner=request.user, board_id=board_id)
    except LibraryRefused:
        raise Http404("No such board.") from None


def render_board_panel(request: HttpRequest, board: Board, *, status: int = 200, **extra):
    return render_shares_panel(
        request,
        "sharing/board_panel.html",
        boards.board_links(board),
        status=status,
        board=board,
        **extra,
    )


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
    return render_board_panel(request, board, status=201, **link_created(request, new))


@require_POST
@login_required
def board_link_revoke(request: HttpRequest, board_id, link_id) -> HttpResponse:
    board = _own_board_or_404(request, board_id)
    try:
        share = boards.find_board_link(board=board, share_id=link_id)
    except NotFound:
        raise Http404("No such link.") from None
    return revoked(
        request,
        share,
        panel_url=reverse("board_sharing", args=[board.pk]),
        panel=partial(render_board_panel, request, board),
    )


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
    if wants_partial(request) and cursor:
        template += "#more"
    return render(request, template, context)
