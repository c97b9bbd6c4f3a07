"""Writes of the community: likes, follows, comments on posts, and the recount.

Each write and the figures it changes are one transaction: the like row and the post's
like_count and explore_score (creations/ranking.py), the follow row and both creators'
counters, the comment and the post's comment_count. The database refuses a second like or
follow of the same pair (unique constraints; INSERT … ON CONFLICT DO NOTHING makes a
repeat a no-op, also when requests race), so a figure moves once per row that appears or
goes.

Only active accounts count. A deactivated account's rows stay (its deletion is final, but
staff may reactivate one) and leave the figures in the transaction that deactivates it
(community.membership); the periodic recount does the same from the rows for every post,
and corrects any drift.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from creations import ranking
from creations.models import Creation
from creations.validation import normalise_line_breaks
from notifications.models import Notification
from notifications.services import notification_create

from . import selectors
from .jobs import sending
from .models import COMMENT_MAX, CreatorCounts, Follow, PostComment, PostLike

User = get_user_model()


class SocialRefused(Exception):
    """A community write refused: a code for the API, a sentence for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def post_not_found() -> SocialRefused:
    return SocialRefused("not_found", "No such post.")


@dataclass(frozen=True)
class Liked:
    post: Creation
    liked: bool
    like_count: int


def _public_rows(post_id):
    return Creation.objects.filter(
        pk=post_id, status=Creation.Status.PUBLISHED, trashed_at__isnull=True
    )


_LIKE_SQL = f"""
INSERT INTO {PostLike._meta.db_table} (post_id, user_id, created_at) VALUES (%s, %s, %s)
ON CONFLICT (post_id, user_id) DO NOTHING RETURNING id
"""  # nosec B608 # table name from model metadata; every value is a bound parameter
_UNLIKE_SQL = f"""
DELETE FROM {PostLike._meta.db_table} WHERE post_id = %s AND user_id = %s RETURNING created_at
"""  # nosec B608 # table name from model metadata; every value is a bound parameter


def _like_count(post_id) -> int:
    return Creation.objects.filter(pk=post_id).values_list("like_count", flat=True).first() or 0


def post_like(*, user: AbstractBaseUser, post_id) -> Liked:
    """Like a public post, once: a repeat (or a race of repeats) changes nothing."""
    post = selectors.public_post(post_id)
    if post is None:
        raise post_not_found()
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_LIKE_SQL, [post.pk, user.pk, now])
            added = cursor.fetchone() is not None
        # The post's row is written (and locked) only by a like that is new; the guard
        # refuses a post that stopped being public since it was read.
        if added and not _public_rows(post.pk).update(
            like_count=F("like_count") + 1,
            explore_score=ranking.log_add(ranking.exponent(now)),
        ):
            transaction.set_rollback(True)
            raise post_not_found()
    return Liked(post=post, liked=True, like_count=_like_count(post.pk))


def post_unlike(*, user: AbstractBaseUser, post_id) -> Liked:
    """Take a like back; not liked is a no-op."""
    post = selectors.public_post(post_id)
    if post is None:
        raise post_not_found()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_UNLIKE_SQL, [post.pk, user.pk])
            gone = cursor.fetchone()
        if gone is not None:
            Creation.objects.filter(pk=post.pk).update(
                like_count=Greatest(F("like_count") - 1, 0),
                explore_score=ranking.log_subtract(ranking.exponent(gone[0])),
            )
    return Liked(post=post, liked=False, like_count=_like_count(post.pk))


# ---------------------------------------------------------------------------------------
# Follows.


@dataclass(frozen=True)
class Followed:
    creator: AbstractBaseUser
    following: bool
    followers: int


_FOLLOW_SQL = f"""
INSERT INTO {Follow._meta.db_table} (follower_id, followee_id, created_at) VALUES (%s, %s, %s)
ON CONFLICT (follower_id, followee_id) DO NOTHING RETURNING id
"""  # nosec B608 # table name from model metadata; every value is a bound parameter
_UNFOLLOW_SQL = f"""
DELETE FROM {Follow._meta.db_table} WHERE follower_id = %s AND followee_id = %s RETURNING id
"""  # nosec B608 # table name from model metadata; every value is a bound parameter
_COUNTS = CreatorCounts._meta.db_table
_BUMP_SQL = f"""
INSERT INTO {_COUNTS} (user_id, followers, following) VALUES (%s, GREATEST(%s, 0), GREATEST(%s, 0))
ON CONFLICT (user_id) DO UPDATE SET
  followers = GREATEST({_COUNTS}.followers + %s, 0),
  following = GREATEST({_COUNTS}.following + %s, 0)
"""  # nosec B608 # table name from model metadata; every value is a bound parameter


def _bump_counts(follower_id: int, followee_id: int, step: int) -> None:
    # Both rows in the order of their ids: two creators following each other at once
    # would otherwise each hold one row and wait for the other's.
    changes = {followee_id: (step, 0), follower_id: (0, step)}
    with connection.cursor() as cursor:
        for user_id in sorted(changes):
            followers, following = changes[user_id]
            cursor.execute(_BUMP_SQL, [user_id, followers, following, followers, following])


def creator_to_follow(username) -> AbstractBaseUser:
    username = str(username or "")
    creator = None
    if "\x00" not in username:
        creator = User.objects.filter(username=username, is_active=True).first()
    if creator is None:
        raise SocialRefused("not_found", "No such creator.")
    return creator


def creator_follow(*, follower: AbstractBaseUser, username) -> Followed:
    creator = creator_to_follow(username)
    if creator.pk == follower.pk:
        raise SocialRefused("cannot_follow_yourself", "You cannot follow yourself.")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_FOLLOW_SQL, [follower.pk, creator.pk, timezone.now()])
            added = cursor.fetchone() is not None
        if added:
            _bump_counts(follower.pk, creator.pk, 1)
    return Followed(creator, True, selectors.counts_of(creator.pk).followers)


def creator_unfollow(*, follower: AbstractBaseUser, username) -> Followed:
    creator = creator_to_follow(username)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_UNFOLLOW_SQL, [follower.pk, creator.pk])
            gone = cursor.fetchone() is not None
        if gone:
            _bump_counts(follower.pk, creator.pk, -1)
    return Followed(creator, False, selectors.counts_of(creator.pk).followers)


# ---------------------------------------------------------------------------------------
# Comments on posts.


def clean_comment(text) -> str:
    if not isinstance(text, str):
        raise SocialRefused("invalid_comment", "A comment must be text.")
    text = normalise_line_breaks(text).strip()
    if "\x00" in text:
        raise SocialRefused("invalid_comment", "The comment contains a null character.")
    if not text:
        raise SocialRefused("empty_comment", "Write something first.")
    if len(text) > COMMENT_MAX:
        raise SocialRefused(
            "comment_too_long",
            f"The comment is {len(text)} characters; the limit is {COMMENT_MAX}.",
        )
    return text


def comment_post(*, author: AbstractBaseUser, post_id, text) -> PostComment:
    """A comment on a public post; its owner is told by a job after COMMIT."""
    text = clean_comment(text)
    post = selectors.public_post(post_id)
    if post is None:
        raise post_not_found()
    with transaction.atomic():
        if not _public_rows(post.pk).update(comment_count=F("comment_count") + 1):
            raise post_not_found()
        comment = PostComment.objects.create(post=post, author=author, text=text)
        if post.owner_id != author.pk:
            transaction.on_commit(lambda: notify_comment_enqueue(comment.pk))
    comment.author = author
    comment.post = post
    return comment


def comment_delete(*, user: AbstractBaseUser, comment: PostComment) -> None:
    """Its author or the post's owner deletes it: the words go, the row stays (a
    notification about it then says nothing of them)."""
    if not comment.can_delete(user):
        raise SocialRefused("not_allowed", "Only its author or the post's owner can delete it.")
    _comment_erase(comment)


def comment_remove_by_staff(*, comment: PostComment) -> bool:
    """Staff remove any comment on a post (moderation, which logs who and why): as when its
    author deletes it, its words go and it leaves the thread and the post's count. False if
    it was gone already."""
    return _comment_erase(comment)


def _comment_erase(comment: PostComment) -> bool:
    with transaction.atomic():
        deleted = PostComment.objects.filter(pk=comment.pk, deleted_at__isnull=True).update(
            deleted_at=timezone.now(), text=""
        )
        # An inactive author's comments are out of the count already (community.membership).
        if deleted and comment.author.is_active:
            Creation.objects.filter(pk=comment.post_id).update(
                comment_count=Greatest(F("comment_count") - 1, 0)
            )
    comment.refresh_from_db(fields=["deleted_at", "text"])
    return bool(deleted)


def notify_comment_enqueue(comment_id) -> None:
    if not sending.notify_comment_enqueue(comment_id):
        notify_post_comment(comment_id=comment_id)  # one INSERT: written now rather than lost


def notify_post_comment(*, comment_id) -> bool:
    """Tell the post's owner (once: notifications' unique event key), if the comment and the
    post are still there to see."""
    comment = (
        PostComment.objects.filter(pk=comment_id, deleted_at__isnull=True)
        .select_related("post__owner")
        .first()
    )
    if comment is None or not comment.post.is_public or comment.post.owner_id == comment.author_id:
        return False
    written = notification_create(
        recipient_id=comment.post.owner_id,
        kind=Notification.Kind.POST_COMMENT,
        creation=comment.post,
        comment_id=comment.pk,
    )
    return written is not None
