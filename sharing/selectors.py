"""Who may see a shared draft, and what the sharing pages list.

The one rule, asked everywhere (the shared page, its comments, its media, the API): a
creator other than the owner sees a draft only while it is a draft (not trashed, not
purged, its owner active) and a share reaches them — shared with them by name, or a link
they opened — that is neither revoked nor expired. Checked on every request, so a revoke
or the draft leaving the drafts takes effect on the next one.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from creations.models import Creation
from creations.presenters import media_url
from creations.selectors import creations_page
from phoenix.paging import Page

from .models import Block, Comment, LinkOpening, Share, hash_token

SHARED_PAGE_SIZE = 12
THREAD_PAGE_SIZE = 20


def active_shares() -> QuerySet[Share]:
    now = timezone.now()
    return Share.objects.filter(revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def shares_reaching(user: AbstractBaseUser) -> QuerySet[Share]:
    """The active shares that give `user` access: by name, or a link they opened. (A
    subquery rather than a join to the openings: one row per share, no DISTINCT needed.)"""
    opened = LinkOpening.objects.filter(user=user).values("share_id")
    return active_shares().filter(Q(recipient=user) | Q(pk__in=opened))


def creation_ids_reaching(user: AbstractBaseUser) -> QuerySet:
    """The ids of the creations an active share reaches `user` through, as a subquery that
    starts from the user's own rows — their shares by name (the partial index of active
    shares by recipient) and the links they opened (LinkOpening by user) — so its cost
    follows what was shared with them, not how many drafts the site holds."""
    by_name = active_shares().filter(recipient=user).order_by().values("creation_id")
    opened = LinkOpening.objects.filter(user=user).values("share_id")
    by_link = (
        active_shares()
        .filter(pk__in=opened, creation__isnull=False)
        .order_by()
        .values("creation_id")
    )
    return by_name.union(by_link)


def shared_drafts() -> QuerySet[Creation]:
    """Drafts that may be seen through a share at all (the same test as is_shareable)."""
    return Creation.objects.filter(
        status=Creation.Status.DRAFT,
        trashed_at__isnull=True,
        purged_at__isnull=True,
        owner__is_active=True,
    )


def is_shared_with(*, creation: Creation, user: AbstractBaseUser) -> bool:
    """Someone other than the owner may see this draft now (see the module's rule)."""
    if not user.is_authenticated or creation.owner_id == user.pk:
        return False
    if not creation.is_shareable or not creation.owner.is_active:
        return False
    return shares_reaching(user).filter(creation_id=creation.pk).exists()


def seen_through_board(*, creation: Creation, user: AbstractBaseUser) -> bool:
    """A draft on a board whose standing link `user` opened (sharing.boards): they may see
    its media (a board's link gives no comment thread: is_shared_with stays the draft's)."""
    if not user.is_authenticated or creation.owner_id == user.pk:
        return False
    if not creation.is_shareable or not creation.owner.is_active:
        return False
    return (
        shares_reaching(user)
        .filter(board__isnull=False, board__items__creation_id=creation.pk)
        .exists()
    )


def shared_with_among(*, user: AbstractBaseUser, creations: Iterable[Creation]) -> set[UUID]:
    """is_shared_with for a page of creations (their owners loaded) and one reader, in one
    query: the ids of those `user` may see through a share now."""
    if not user.is_authenticated:
        return set()
    candidates = [
        creation.pk
        for creation in creations
        if creation.owner_id != user.pk and creation.is_shareable and creation.owner.is_active
    ]
    if not candidates:
        return set()
    reaching = shares_reaching(user).filter(creation_id__in=candidates)
    return set(reaching.values_list("creation_id", flat=True))


def users_reached(*, creation: Creation, user_ids: Iterable[int]) -> set[int]:
    """is_shared_with for one draft and many people, in one query: which of `user_ids` (the
    owner never) a share reaches now."""
    wanted = set(user_ids) - {creation.owner_id}
    if not wanted or not creation.is_shareable or not creation.owner.is_active:
        return set()
    shares = active_shares().filter(creation_id=creation.pk)
    by_name = shares.filter(recipient_id__in=wanted).order_by().values_list("recipient_id")
    by_link = LinkOpening.objects.filter(share__in=shares, user_id__in=wanted).values_list(
        "user_id"
    )
    return {user_id for (user_id,) in by_name.union(by_link)}


def can_view(*, creation: Creation, user: AbstractBaseUser) -> bool:
    """The shared page and its thread: the owner while it is a draft, and the people a
    share reaches."""
    if not user.is_authenticated or not creation.is_shareable:
        return False
    return creation.owner_id == user.pk or is_shared_with(creation=creation, user=user)


def _uuid(value) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


def viewable_draft(*, user: AbstractBaseUser, creation_id) -> Creation | None:
    """The draft with its owner and media URLs if `user` may see it; else None — the same
    for a draft that does not exist, is someone else's, or no longer shared."""
    pk = _uuid(creation_id)
    if pk is None or not user.is_authenticated:
        return None
    creation = Creation.objects.select_related("owner").filter(pk=pk).first()
    if creation is None or not can_view(creation=creation, user=user):
        return None
    creation.media_src = media_url(creation, "media")
    creation.poster_src = media_url(creation, "poster")
    return creation


# The shares a publication ended: their viewers are told where the post went.
ENDED_BY_PUBLISHING = ("published", "scheduled")


def published_since_shared(*, user: AbstractBaseUser, creation_id) -> Creation | None:
    """The post a draft became, for someone it was shared with (by name, or a link they
    opened) until its publication ended the share; None otherwise, or while the post is
    not public (scheduled, unpublished, taken down)."""
    pk = _uuid(creation_id)
    if pk is None or not user.is_authenticated:
        return None
    opened = LinkOpening.objects.filter(user=user).values("share_id")
    was_shared = Share.objects.filter(
        Q(recipient=user) | Q(pk__in=opened),
        creation_id=pk,
        revoked_reason__in=ENDED_BY_PUBLISHING,
    )
    return Creation.objects.public().filter(pk=pk, shares__in=was_shared).first()


def published_from_link(token: str) -> Creation | None:
    """The post a draft shared by this link became (the link ended with the publication)."""
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    ended = Share.objects.filter(
        kind=Share.Kind.LINK,
        token_hash=hash_token(token),
        revoked_reason__in=ENDED_BY_PUBLISHING,
    )
    return Creation.objects.public().filter(shares__in=ended).first()


def owned_creation(*, owner: AbstractBaseUser, creation_id) -> Creation | None:
    """The owner's creation in any state (its sharing panel), or None."""
    pk = _uuid(creation_id)
    if pk is None or not owner.is_authenticated:
        return None
    return Creation.objects.filter(pk=pk, owner=owner).first()


def shares_of(creation: Creation) -> list[Share]:
    """The owner's list: who has access now (active shares first), then what ended."""
    shares = list(creation.shares.select_related("recipient").prefetch_related("openings__user"))
    return sorted(shares, key=lambda share: (not share.is_active, -share.created_at.timestamp()))


def comments_by_id(ids: Iterable) -> dict[UUID, Comment]:
    """Comments with their authors, by id, in one query (deleted ones too: their words are
    already gone)."""
    ids = [pk for pk in ids if pk]
    if not ids:
        return {}
    return {c.pk: c for c in Comment.objects.filter(pk__in=ids).select_related("author")}


def open_comments(creation_id) -> QuerySet[Comment]:
    """The comments of the draft's current sharing (earlier ones were closed with it)."""
    return Comment.objects.filter(creation_id=creation_id, closed_at__isnull=True)


def thread(creation: Creation) -> list[Comment]:
    return list(open_comments(creation.pk).select_related("author").order_by("created_at", "id"))


@dataclass(frozen=True)
class ThreadPage:
    comments: list[Comment]  # newest first
    since: str  # the oldest shown: the page polls everything from it on
    older: str  # the cursor of the next "Show older", or "" when there is none


def comment_cursor(comment: Comment) -> str:
    return f"{comment.created_at.isoformat()}|{comment.pk}"


def _parse_cursor(cursor: str) -> tuple | None:
    moment, _, pk = (cursor or "").partition("|")
    when = parse_datetime(moment) if moment and len(moment) < 40 else None
    pk = _uuid(pk)
    return (when, pk) if when and pk else None


def thread_page(
    creation_id, *, since: str = "", before: str = "", size: int = THREAD_PAGE_SIZE
) -> ThreadPage:
    """The thread newest first. With `before`: the `size` comments older than that cursor
    ("Show older"). With `since`: every comment from that one on (what a page that loaded
    `since` as its oldest shows on each poll: new comments never push one out of view
    unseen). Neither: the newest `size`."""
    queryset = open_comments(creation_id).select_related("author").order_by("-created_at", "-id")
    start, end = _parse_cursor(since), _parse_cursor(before)
    if start:
        comments = list(
            queryset.filter(Q(created_at__gt=start[0]) | Q(created_at=start[0], id__gte=start[1]))
        )
        return ThreadPage(comments, since, older=since if _has_older(creation_id, start) else "")
    if end:
        queryset = queryset.filter(Q(created_at__lt=end[0]) | Q(created_at=end[0], id__lt=end[1]))
    rows = list(queryset[: size + 1])
    comments = rows[:size]
    oldest = comment_cursor(comments[-1]) if comments else ""
    return ThreadPage(comments, since=oldest, older=oldest if len(rows) > size else "")


def _has_older(creation_id, key: tuple) -> bool:
    return (
        open_comments(creation_id)
        .filter(Q(created_at__lt=key[0]) | Q(created_at=key[0], id__lt=key[1]))
        .exists()
    )


def thread_version(creation_id) -> str:
    """Changes whenever a comment is added, deleted or closed: a poll that brings the
    version it has is answered "nothing new" without rendering (one aggregate query)."""
    figures = open_comments(creation_id).aggregate(
        count=Count("id"), newest=Max("created_at"), deleted=Max("deleted_at")
    )
    text = f"{figures['count']}|{figures['newest']}|{figures['deleted']}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def shared_with_page(*, user: AbstractBaseUser, cursor: str | None = None) -> Page:
    """The "Shared with me" tab: drafts of others a share reaches `user` through, the most
    recently shared first. Restricted first to the creations shared with them
    (creation_ids_reaching), so the drafts of everyone else are never scanned."""
    latest = (
        shares_reaching(user)
        .filter(creation=OuterRef("pk"))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    queryset = (
        shared_drafts()
        .filter(pk__in=creation_ids_reaching(user))
        .exclude(owner=user)
        .annotate(shared_at=Subquery(latest))
        .filter(shared_at__isnull=False)
        .select_related("owner")
    )
    return creations_page(queryset, order_field="shared_at", cursor=cursor, size=SHARED_PAGE_SIZE)


def blocks_of(user: AbstractBaseUser) -> list[Block]:
    return list(Block.objects.filter(blocker=user).select_related("blocked"))
