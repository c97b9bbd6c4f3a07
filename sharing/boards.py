"""Reads of a board shared read-only by a link, the way a draft is (the same Share rows, tokens,
openings, expiry and revoke): whoever signed in opens the link sees, while it stands, the
board's drafts and posts — not its other creations, and nothing of the owner's other
drafts. A board's link gives no comment thread: its drafts' own pages and threads stay the
drafts' own shares'.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from creations.models import Creation
from creations.selectors import creations_page
from library.models import Board
from phoenix.paging import Page

from .models import Share
from .selectors import _uuid, shares_reaching
from .services import NotFound

BOARD_PAGE_SIZE = 24
# What a board's link shows of its creations: its drafts (as a draft's link does) and its
# posts (public anyway); never one in the trash, generating, failed or taken down.
SHOWN_STATUSES = (Creation.Status.DRAFT, Creation.Status.PUBLISHED)


def board_links(board: Board) -> list[Share]:
    """The owner's list of a board's links: standing ones first, newest first."""
    shares = list(board.shares.prefetch_related("openings__user"))
    return sorted(shares, key=lambda share: (not share.is_active, -share.created_at.timestamp()))


def find_board_link(*, board: Board, share_id) -> Share:
    pk = _uuid(share_id)
    share = Share.objects.filter(pk=pk, board=board).first() if pk else None
    if share is None:
        raise NotFound("No such link.")
    return share


def viewable_board(*, user: AbstractBaseUser, board_id) -> Board | None:
    """The board if `user` may see it: its owner, or someone a standing link to it reaches
    (one they opened); None alike for an unknown board and one not shared with them."""
    pk = _uuid(board_id)
    if pk is None or not user.is_authenticated:
        return None
    board = Board.objects.select_related("owner").filter(pk=pk).first()
    if board is None or not board.owner.is_active:
        return None
    if board.owner_id == user.pk or shares_reaching(user).filter(board_id=board.pk).exists():
        return board
    return None


def shown_creations(board: Board) -> QuerySet[Creation]:
    return Creation.objects.filter(
        board_items__board=board, status__in=SHOWN_STATUSES, trashed_at__isnull=True
    )


def board_page(*, board: Board, cursor: str | None = None) -> Page:
    """What the board's link shows, newest first: one query a page."""
    return creations_page(
        shown_creations(board), order_field="created_at", cursor=cursor, size=BOARD_PAGE_SIZE
    )
