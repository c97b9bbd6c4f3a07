"""Who may see a shared draft, and what the sharing pages list.

The one rule, asked everywhere (the shared page, its comments, its media, the API): a
creator other than the owner sees a draft only while it is a draft (not trashed, not
purged, its owner active) and a share reaches them — shared with them by name, or a link
they opened — that is neither revoked nor expired. Checked on every request, so a revoke
or the draft leaving the drafts takes effect on the next one.
"""

from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from creations.models import Creation
from creations.presenters import media_url
from creations.selectors import Page, _page

from .models import Comment, Share

SHARED_PAGE_SIZE = 12


def active_shares() -> QuerySet[Share]:
    now = timezone.now()
    return Share.objects.filter(revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def shares_reaching(user: AbstractBaseUser) -> QuerySet[Share]:
    """The active shares that give `user` access: by name, or a link they opened."""
    return active_shares().filter(Q(recipient=user) | Q(openings__user=user))


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


def thread(creation: Creation) -> list[Comment]:
    return list(creation.comments.select_related("author").order_by("created_at", "id"))


def shared_with_page(*, user: AbstractBaseUser, cursor: str | None = None) -> Page:
    """The "Shared with me" tab: drafts of others a share reaches `user` through, the most
    recently shared first."""
    latest = (
        shares_reaching(user)
        .filter(creation=OuterRef("pk"))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    queryset = (
        shared_drafts()
        .exclude(owner=user)
        .annotate(shared_at=Subquery(latest))
        .filter(shared_at__isnull=False)
        .select_related("owner")
    )
    return _page(queryset, order_field="shared_at", cursor=cursor, size=SHARED_PAGE_SIZE)
