"""Writes of a creator's library: star and unstar their creations, make, rename and delete
boards, put creations on a board and take them off.

Everything acts on the caller's own rows only: someone else's creation or board is refused
exactly as one that does not exist (LibraryRefused "not_found"). Refusals carry a code and a
sentence, no HTTP (library.api maps codes to statuses). Every write is idempotent.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from creations.models import Creation

from .errors import LibraryRefused
from .models import BOARD_NAME_MAX, BOARDS_MAX, Board, BoardItem
from .selectors import _uuid, own_creation

# ---------------------------------------------------------------------------------------
# Favourites.


def creation_star(*, owner: AbstractBaseUser, creation_id, starred: bool = True) -> Creation:
    """Star (or unstar) one of the owner's creations. Starring a starred one keeps the time
    it was first starred; either way the answer is the creation as it is now."""
    creation = own_creation(owner=owner, creation_id=creation_id)
    rows = Creation.objects.filter(pk=creation.pk)
    if starred:
        rows.filter(starred_at__isnull=True).update(starred_at=timezone.now())
    else:
        rows.update(starred_at=None)
    creation.refresh_from_db(fields=["starred_at"])
    return creation


# ---------------------------------------------------------------------------------------
# Boards.


def clean_board_name(value) -> str:
    if not isinstance(value, str):
        raise LibraryRefused("invalid_name", "The board's name must be text.")
    name = " ".join(value.replace("\x00", " ").split())
    if not name:
        raise LibraryRefused("name_required", "Give the board a name.")
    if len(name) > BOARD_NAME_MAX:
        raise LibraryRefused(
            "name_too_long", f"A board's name has at most {BOARD_NAME_MAX} characters."
        )
    return name


def _name_taken(name: str) -> LibraryRefused:
    return LibraryRefused("name_taken", f"You already have a board called “{name}”.")


def board_create(*, owner: AbstractBaseUser, name) -> Board:
    name = clean_board_name(name)
    with transaction.atomic():
        # The owner's row is the lock that keeps two concurrent creates under the limit.
        get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
        if Board.objects.filter(owner_id=owner.pk).count() >= BOARDS_MAX:
            raise LibraryRefused("too_many_boards", f"You can have at most {BOARDS_MAX} boards.")
        if Board.objects.filter(owner_id=owner.pk, name__iexact=name).exists():
            raise _name_taken(name)
        try:
            with transaction.atomic():
                return Board.objects.create(owner_id=owner.pk, name=name)
        except IntegrityError:  # the same name by a concurrent request, case aside
            raise _name_taken(name) from None


def board_rename(*, board: Board, name) -> Board:
    name = clean_board_name(name)
    clash = (
        Board.objects.filter(owner_id=board.owner_id).exclude(pk=board.pk).filter(name__iexact=name)
    )
    if clash.exists():
        raise _name_taken(name)
    try:
        with transaction.atomic():
            Board.objects.filter(pk=board.pk).update(name=name)
    except IntegrityError:
        raise _name_taken(name) from None
    board.name = name
    return board


def board_delete(*, board: Board) -> None:
    """The board goes, with its items and its links (the creations stay where they are)."""
    board.delete()


@dataclass
class Added:
    """What a bulk "Add to board" did, per id: "ok", "already_there" or "not_found"."""

    board: Board
    results: dict[str, str] = field(default_factory=dict)

    def count(self, outcome: str) -> int:
        return sum(1 for value in self.results.values() if value == outcome)


def board_add(*, board: Board, creation_ids) -> Added:
    """Put some of the board owner's creations on it (at most PHOENIX_BULK_MAX a call);
    someone else's, a purged one or an unknown id is "not_found" and changes nothing."""
    ids = list(dict.fromkeys(str(value) for value in creation_ids))
    if not ids:
        raise LibraryRefused("nothing_selected", "Choose at least one creation.")
    if len(ids) > settings.PHOENIX_BULK_MAX:
        raise LibraryRefused("too_many", f"At most {settings.PHOENIX_BULK_MAX} creations at once.")
    added = Added(board=board, results=dict.fromkeys(ids, "not_found"))
    wanted = {pk for value in ids if (pk := _uuid(value))}
    own = set(
        Creation.objects.filter(
            pk__in=wanted, owner_id=board.owner_id, purged_at__isnull=True
        ).values_list("pk", flat=True)
    )
    there = set(
        BoardItem.objects.filter(board=board, creation_id__in=own).values_list(
            "creation_id", flat=True
        )
    )
    BoardItem.objects.bulk_create(
        [BoardItem(board=board, creation_id=pk) for pk in own - there], ignore_conflicts=True
    )
    by_text = {str(_uuid(value)): value for value in ids if _uuid(value)}
    for pk in own:
        added.results[by_text[str(pk)]] = "already_there" if pk in there else "ok"
    return added


def board_remove(*, board: Board, creation_id) -> bool:
    """Take a creation off the board; False when it was not on it."""
    pk = _uuid(creation_id)
    if pk is None:
        return False
    removed, _ = BoardItem.objects.filter(board=board, creation_id=pk).delete()
    return bool(removed)
