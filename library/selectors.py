"""Reads of a creator's library: their creations searched and filtered (the drafts tab with
a search or a chip, and GET /api/creations), and their boards.

A library page is one query for its rows whatever the filters (the card's extras are
annotations of it, creations.selectors.with_card_details), plus the pending cards' one
Redis round trip for their places in line; the boards are one more query.
"""

from dataclasses import dataclass, replace
from urllib.parse import urlencode
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import QuerySet

from creations import search
from creations.models import Creation
from creations.selectors import (
    DRAFTS_PAGE_SIZE,
    creations_page,
    with_card_details,
    with_queue_estimates,
)
from phoenix.paging import Page

from .errors import LibraryRefused
from .models import Board, BoardItem

LIBRARY_PAGE_SIZE = DRAFTS_PAGE_SIZE
TRUE_WORDS = ("1", "true", "yes", "on")


def _uuid(value) -> UUID | None:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except (ValueError, AttributeError, TypeError):
        return None


def own_creation(*, owner: AbstractBaseUser, creation_id) -> Creation:
    """The owner's creation (not purged: its words and files are gone), or not_found."""
    pk = _uuid(creation_id)
    creation = (
        Creation.objects.filter(pk=pk, owner_id=owner.pk, purged_at__isnull=True).first()
        if pk and owner.is_authenticated
        else None
    )
    if creation is None:
        raise LibraryRefused("not_found", "No such creation.")
    return creation


def own_board(*, owner: AbstractBaseUser, board_id) -> Board:
    pk = _uuid(board_id)
    board = (
        Board.objects.filter(pk=pk, owner_id=owner.pk).first()
        if pk and owner.is_authenticated
        else None
    )
    if board is None:
        raise LibraryRefused("not_found", "No such board.")
    return board


@dataclass(frozen=True)
class Filters:
    """What a library page is narrowed to. Empty: every creation of the owner not in the
    trash (purged ones were trashed first, so never)."""

    q: str = ""
    kind: str = ""
    status: str = ""
    starred: bool = False
    board: Board | None = None

    @property
    def active(self) -> bool:
        return bool(self.q or self.kind or self.status or self.starred or self.board)

    def params(self, **changes) -> dict[str, str]:
        """The filters as query parameters (those set), with some changed."""
        filters = replace(self, **changes)
        values = {
            "q": filters.q,
            "type": filters.kind,
            "status": filters.status,
            "starred": "1" if filters.starred else "",
            "board": str(filters.board.pk) if filters.board else "",
        }
        return {name: value for name, value in values.items() if value}

    @property
    def clear_query(self) -> str:
        """The drafts tab's query string with the search and chips cleared (the board kept)."""
        return Filters(board=self.board).query()

    def query(self, **changes) -> str:
        """`tab=drafts&q=…` for a link on the drafts tab with some filters changed."""
        return urlencode({"tab": "drafts", **self.params(**changes)})


def parse_filters(params, *, owner: AbstractBaseUser, strict: bool = True) -> Filters:
    """The filters of a request's query string. `strict` (the API): a value that is not one
    of the choices, or a board that is not the owner's, is refused (LibraryRefused); the
    page instead leaves such a filter out, as a link from an old bookmark would expect."""
    kind = params.get("type") or ""
    status = params.get("status") or ""
    starred = (params.get("starred") or "").lower()
    board_id = params.get("board") or ""
    problems = []
    if kind and kind not in Creation.Kind.values:
        problems.append(("invalid_type", "type is image or video."))
        kind = ""
    if status and status not in Creation.Status.values:
        choices = ", ".join(Creation.Status.values)
        problems.append(("invalid_status", f"status is one of {choices}."))
        status = ""
    if starred and starred not in (*TRUE_WORDS, "0", "false", "no", "off"):
        problems.append(("invalid_starred", "starred is 1 (only starred ones) or 0."))
    board = None
    if board_id:
        try:
            board = own_board(owner=owner, board_id=board_id)
        except LibraryRefused as refusal:
            problems.append((refusal.code, refusal.message))
    if strict and problems:
        raise LibraryRefused(*problems[0])
    return Filters(
        q=search.clean_query(params.get("q")),
        kind=kind,
        status=status,
        starred=starred in TRUE_WORDS,
        board=board,
    )


def library_creations(*, owner: AbstractBaseUser, filters: Filters) -> QuerySet[Creation]:
    """The owner's creations not in the trash (so never a purged one), narrowed by the
    filters. Only ever the owner's: every filter narrows this."""
    queryset = Creation.objects.filter(owner_id=owner.pk, trashed_at__isnull=True)
    queryset = search.matching(queryset, filters.q)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.starred:
        queryset = queryset.filter(starred_at__isnull=False)
    if filters.board is not None:
        # One item per board and creation (a constraint): the join never repeats a row.
        queryset = queryset.filter(board_items__board=filters.board)
    return queryset


def library_page(*, owner: AbstractBaseUser, filters: Filters, cursor: str | None = None) -> Page:
    """A page of the owner's library, newest first (keyset cursor), with what each card
    shows: one query, and one Redis round trip for the pending cards' places in line."""
    queryset = with_card_details(library_creations(owner=owner, filters=filters))
    page = creations_page(queryset, order_field="created_at", cursor=cursor, size=LIBRARY_PAGE_SIZE)
    with_queue_estimates(page.items)
    return page


_BOARDS_SQL = f"""
SELECT board.id, board.owner_id, board.name, board.created_at,
       count(item.id) FILTER (WHERE creation.trashed_at IS NULL) AS item_count
FROM {Board._meta.db_table} AS board
LEFT JOIN {BoardItem._meta.db_table} AS item ON item.board_id = board.id
LEFT JOIN {Creation._meta.db_table} AS creation ON creation.id = item.creation_id
WHERE board.owner_id = %s
GROUP BY board.id
ORDER BY lower(board.name), board.created_at
"""  # nosec B608 # table names from model metadata; the owner is a bound parameter


def boards_of(owner: AbstractBaseUser) -> list[Board]:
    """The owner's boards by name, each with how many of its creations are not in the
    trash (`item_count`): one query. Written as SQL: the ORM spent ~1 ms of CPU building
    this one on every drafts tab, more than the database took (make bench, issue 19)."""
    return list(Board.objects.raw(_BOARDS_SQL, [owner.pk]))


@dataclass(frozen=True)
class BoardLink:
    """A board as the drafts tab's sidebar and "Add to board" name it: values only, so that
    those parts of the page can be kept (phoenix.fragments)."""

    id: UUID
    name: str
    item_count: int

    @property
    def pk(self) -> UUID:
        return self.id


def board_links(owner: AbstractBaseUser) -> tuple[BoardLink, ...]:
    """boards_of as values: the same statement."""
    with connection.cursor() as cursor:
        cursor.execute(_BOARDS_SQL, [owner.pk])
        return tuple(
            BoardLink(id=pk, name=name, item_count=item_count)
            for pk, _, name, _, item_count in cursor.fetchall()
        )


def boards_for_export(owner: AbstractBaseUser) -> list[dict]:
    """The owner's boards for "Download my data": name, when made, what is on them."""
    boards = (
        Board.objects.filter(owner_id=owner.pk)
        .prefetch_related("items")
        .order_by("created_at", "pk")
    )
    return [
        {
            "id": board.pk,
            "name": board.name,
            "created_at": board.created_at,
            "creation_ids": [item.creation_id for item in board.items.all()],
        }
        for board in boards
    ]
