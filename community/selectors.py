"""Reads for the community pages and API: Explore, the Following feed, public search, a
post's figures and comments, a creator's follower figures.

Every list is one query for its rows (the owner joined; the figures are columns of the
post) plus one for what the viewer did among them (liked, follows): the same number of
queries for 10 posts as for 1,000. Only public posts are listed (Creation.objects.public():
published, not in the trash, its creator active), so a post unpublished, trashed or taken
down leaves every list, count and search in the same transaction.
"""

from dataclasses import dataclass, field
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import F, Q

from creations import search
from creations import selectors as creation_selectors
from creations.models import Creation
from creations.search import clean_query
from creations.selectors import creations_page, with_media_urls
from notifications.selectors import unread_count_sql
from phoenix.paging import Page, cursor_for, parse_cursor
from tokens.selectors import balance_sql

from .models import CreatorCounts, Follow, PostComment, PostLike

EXPLORE_PAGE_SIZE = 10
SEARCH_PAGE_SIZE = 12
FOLLOWING_PAGE_SIZE = 10
COMMENTS_PAGE_SIZE = 50


@dataclass
class ScoredPage:
    items: list[Creation] = field(default_factory=list)
    next_cursor: str | None = None


def public_post(post_id) -> Creation | None:
    try:
        post_id = UUID(str(post_id))
    except ValueError:
        return None
    return Creation.objects.public().select_related("owner").filter(pk=post_id).first()


def liked_among(*, user: AbstractBaseUser, posts: list[Creation]) -> set:
    """Which of `posts` the user liked: one query for a page (the unique (post, user) index)."""
    if not user.is_authenticated or not posts:
        return set()
    return set(
        PostLike.objects.filter(user=user, post_id__in=[p.pk for p in posts]).values_list(
            "post_id", flat=True
        )
    )


def with_viewer_state(posts: list[Creation], *, viewer: AbstractBaseUser) -> list[Creation]:
    """Give each post `liked` (by the viewer): one query for the page."""
    liked = liked_among(user=viewer, posts=posts)
    for post in posts:
        post.liked = post.pk in liked
    return posts


def _score_cursor(post: Creation) -> str:
    return f"{post.explore_score!r}~{post.pk.hex}"


def _parse_score_cursor(cursor: str | None) -> tuple[float, UUID] | None:
    if not cursor:
        return None
    try:
        score, pk = cursor.split("~", 1)
        value = float(score)
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return value, UUID(hex=pk)
    except ValueError:
        return None


def explore_page(*, viewer: AbstractBaseUser, cursor: str | None = None) -> ScoredPage:
    """Public posts by score, highest first: a walk down the partial index creation_explore
    (no sort of the table), a page at a time by keyset (score, id)."""
    queryset = Creation.objects.public().filter(explore_score__isnull=False)
    after = _parse_score_cursor(cursor)
    if after is not None:
        score, pk = after
        queryset = queryset.filter(Q(explore_score__lt=score) | Q(explore_score=score, pk__lt=pk))
    rows = list(
        queryset.select_related("owner").order_by(
            F("explore_score").desc(nulls_last=True), F("id").desc()
        )[: EXPLORE_PAGE_SIZE + 1]
    )
    items = rows[:EXPLORE_PAGE_SIZE]
    next_cursor = _score_cursor(items[-1]) if len(rows) > EXPLORE_PAGE_SIZE else None
    with_viewer_state(with_media_urls(items), viewer=viewer)
    return ScoredPage(items=items, next_cursor=next_cursor)


def following_page(*, viewer: AbstractBaseUser, cursor: str | None = None) -> Page:
    """The public posts of the creators the viewer follows, newest first."""
    followed = Follow.objects.filter(follower=viewer).values("followee_id")
    queryset = Creation.objects.public().filter(owner_id__in=followed).select_related("owner")
    page = creations_page(
        queryset, order_field="first_published_at", cursor=cursor, size=FOLLOWING_PAGE_SIZE
    )
    with_viewer_state(page.items, viewer=viewer)
    return page


def search_page(*, q: str, viewer: AbstractBaseUser, cursor: str | None = None) -> Page:
    """Public posts whose words match `q` (creations.search: whole words through the search
    vector, websearch syntax; a part of a word through trigrams), newest first, a page at a
    time by keyset (first_published_at, id) as the feed."""
    q = clean_query(q)
    if not q:
        return Page()
    rows = search.public_posts_matching(q, after=parse_cursor(cursor), limit=SEARCH_PAGE_SIZE + 1)
    items = with_media_urls(rows[:SEARCH_PAGE_SIZE])
    next_cursor = None
    if len(rows) > SEARCH_PAGE_SIZE:
        next_cursor = cursor_for(items[-1].first_published_at, items[-1].pk)
    with_viewer_state(items, viewer=viewer)
    return Page(items=items, next_cursor=next_cursor)


def feed_page(*, viewer: AbstractBaseUser, cursor: str | None = None) -> Page:
    """The feed (every public post, newest first) with what the viewer did among them."""
    page = creation_selectors.feed_page(cursor=cursor)
    with_viewer_state(page.items, viewer=viewer)
    return page


@dataclass(frozen=True)
class CreatorFigures:
    followers: int
    following: int
    posts: int
    followed_by_viewer: bool


_FIGURES_SQL = f"""
SELECT
  (SELECT followers FROM {CreatorCounts._meta.db_table} WHERE user_id = %(creator)s),
  (SELECT following FROM {CreatorCounts._meta.db_table} WHERE user_id = %(creator)s),
  (SELECT count(*) FROM {Creation._meta.db_table}
   WHERE owner_id = %(creator)s AND status = 'published' AND trashed_at IS NULL),
  EXISTS (SELECT 1 FROM {Follow._meta.db_table}
          WHERE follower_id = %(viewer)s AND followee_id = %(creator)s)
"""  # nosec B608 # table names from model metadata; every value is a bound parameter


def creator_figures(*, creator: AbstractBaseUser, viewer: AbstractBaseUser) -> CreatorFigures:
    """An active creator's public figures in one statement: the counters row, their public
    posts (the partial index creation_owner_posts) and whether the viewer follows them."""
    viewer_id = viewer.pk if viewer.is_authenticated else None
    with connection.cursor() as cursor:
        cursor.execute(_FIGURES_SQL, {"creator": creator.pk, "viewer": viewer_id})
        followers, following, posts, followed = cursor.fetchone()
    return CreatorFigures(
        followers=followers or 0,
        following=following or 0,
        posts=posts,
        followed_by_viewer=bool(followed),
    )


@dataclass(frozen=True)
class OwnPageFigures:
    """One's own page: the public figures, and what the page shows its owner besides (the
    balance, the bell's count)."""

    figures: CreatorFigures
    balance: int
    unread_notifications: int


_OWN_PAGE_SQL = f"""
SELECT
  (SELECT followers FROM {CreatorCounts._meta.db_table} WHERE user_id = %(user)s),
  (SELECT following FROM {CreatorCounts._meta.db_table} WHERE user_id = %(user)s),
  (SELECT count(*) FROM {Creation._meta.db_table}
   WHERE owner_id = %(user)s AND status = 'published' AND trashed_at IS NULL),
  {balance_sql("%(user)s")},
  {unread_count_sql("%(user)s")}
"""  # nosec B608 # table names from model metadata; every value is a bound parameter


def own_page_figures(*, user: AbstractBaseUser) -> OwnPageFigures:
    """A creator's figures on their own page, their balance and their unread notifications
    in one statement: the page read them in three queries (the balance with the profile's
    user, the unread count in the navigation), the most of any page (make bench, issue 19).
    A page that shows the bell's poll reads the bell's version before this."""
    with connection.cursor() as cursor:
        cursor.execute(_OWN_PAGE_SQL, {"user": user.pk})
        followers, following, posts, balance, unread = cursor.fetchone()
    figures = CreatorFigures(
        followers=followers or 0, following=following or 0, posts=posts, followed_by_viewer=False
    )
    return OwnPageFigures(figures=figures, balance=balance or 0, unread_notifications=unread)


def counts_of(user_id: int) -> CreatorCounts:
    return CreatorCounts.objects.filter(pk=user_id).first() or CreatorCounts(user_id=user_id)


def visible_comments(post: Creation):
    """A post's comments as the public sees them: not deleted, their author active."""
    return PostComment.objects.filter(
        post=post, deleted_at__isnull=True, author__is_active=True
    ).select_related("author")


def comments_page(*, post: Creation, cursor: str | None = None) -> Page:
    """Oldest first (a conversation reads down), a page at a time."""
    queryset = visible_comments(post)
    after = parse_cursor(cursor)
    if after is not None:
        moment, pk = after
        queryset = queryset.filter(Q(created_at__gt=moment) | Q(created_at=moment, pk__gt=pk))
    rows = list(queryset.order_by("created_at", "id")[: COMMENTS_PAGE_SIZE + 1])
    items = rows[:COMMENTS_PAGE_SIZE]
    next_cursor = None
    if len(rows) > COMMENTS_PAGE_SIZE:
        next_cursor = cursor_for(items[-1].created_at, items[-1].pk)
    return Page(items=items, next_cursor=next_cursor)


def find_comment(*, post: Creation, comment_id) -> PostComment | None:
    try:
        comment_id = UUID(str(comment_id))
    except ValueError:
        return None
    return (
        PostComment.objects.filter(pk=comment_id, post=post, deleted_at__isnull=True)
        .select_related("author", "post")
        .first()
    )


def comments_for_notifications(ids: list) -> dict:
    """{id: comment} for the bell (notifications.presenters): one query."""
    return {c.pk: c for c in PostComment.objects.filter(pk__in=ids).select_related("author")}
