"""An account leaving or coming back (deleted, suspended, deactivated or reactivated by
staff) moves the public figures in the same transaction as its `is_active`: its likes
leave (or rejoin) each post's like_count and explore_score, its comments the posts'
comment_count, its follows the creators' follower counters. Only active accounts count
(community.recount says the same from the rows), so a public page never shows the likes of
an account that is gone, not even until the next recount.

Each figure moves by what the account's own rows add to it (a like's term of the score,
its comments on the post), set-based: one statement per kind of row, however many the
account has. The rows it writes are locked first in the order the other writers lock
them (posts by id, as the recount does; counters by user id, as a follow does), so it
waits for them rather than deadlocking with them. A like that was in flight when the
account left and commits after it is counted until the recount queued after COMMIT (and
the periodic one) takes it out again.
"""

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from creations import ranking
from creations.models import Creation

from .jobs.sending import member_recount_enqueue
from .models import CreatorCounts, Follow, PostComment, PostLike

_USERS = get_user_model()._meta.db_table
_POSTS = Creation._meta.db_table
_LIKES = PostLike._meta.db_table
_COMMENTS = PostComment._meta.db_table
_FOLLOWS = Follow._meta.db_table
_COUNTS = CreatorCounts._meta.db_table

_FLIP_SQL = f"""
UPDATE {_USERS} SET is_active = %(active)s WHERE id = %(user)s AND is_active <> %(active)s
"""  # nosec B608 # table name from model metadata; every value is a bound parameter

_LOCK_POSTS_SQL = f"""
SELECT id FROM {_POSTS} WHERE id IN (
  SELECT post_id FROM {_LIKES} WHERE user_id = %(user)s
  UNION SELECT post_id FROM {_COMMENTS} WHERE author_id = %(user)s AND deleted_at IS NULL
) ORDER BY id FOR UPDATE
"""  # nosec B608 # table names from model metadata; every value is a bound parameter

# A like's term: half-lives since ranking.EPOCH, as the recount computes it.
_TERM = "(extract(epoch FROM l.created_at - %(epoch)s::timestamptz) / %(half)s)"
_SCORE = {
    -1: ranking.LOG_SUBTRACT_SQL.format(s="post.explore_score", x=_TERM, n=ranking.NEGLIGIBLE),
    1: ranking.LOG_ADD_SQL.format(s="post.explore_score", x=_TERM, n=ranking.NEGLIGIBLE),
}
_LIKES_SQL = {
    step: f"""
UPDATE {_POSTS} AS post
SET like_count = GREATEST(post.like_count + %(step)s, 0), explore_score = {score}
FROM {_LIKES} l WHERE l.user_id = %(user)s AND l.post_id = post.id
"""  # nosec B608 # table names from model metadata, SQL from creations.ranking; values bound
    for step, score in _SCORE.items()
}

_COMMENTS_SQL = f"""
UPDATE {_POSTS} AS post
SET comment_count = GREATEST(post.comment_count + %(step)s * mine.n, 0)
FROM (
  SELECT post_id, count(*) AS n FROM {_COMMENTS}
  WHERE author_id = %(user)s AND deleted_at IS NULL GROUP BY post_id
) AS mine
WHERE mine.post_id = post.id
"""  # nosec B608 # table names from model metadata; every value is a bound parameter

_LOCK_COUNTS_SQL = f"""
SELECT user_id FROM {_COUNTS} WHERE user_id IN (
  SELECT followee_id FROM {_FOLLOWS} WHERE follower_id = %(user)s
  UNION SELECT follower_id FROM {_FOLLOWS} WHERE followee_id = %(user)s
) ORDER BY user_id FOR UPDATE
"""  # nosec B608 # table names from model metadata; every value is a bound parameter

# The creators the account follows lose (or regain) a follower; those who follow it, one
# they follow. A counters row that is missing is written (a missing row reads as zeros).
_FOLLOWERS_SQL = f"""
INSERT INTO {_COUNTS} (user_id, followers, following)
SELECT followee_id, GREATEST(%(step)s, 0), 0 FROM {_FOLLOWS} WHERE follower_id = %(user)s
ORDER BY followee_id
ON CONFLICT (user_id) DO UPDATE SET followers = GREATEST({_COUNTS}.followers + %(step)s, 0)
"""  # nosec B608 # table names from model metadata; every value is a bound parameter
_FOLLOWING_SQL = f"""
INSERT INTO {_COUNTS} (user_id, followers, following)
SELECT follower_id, 0, GREATEST(%(step)s, 0) FROM {_FOLLOWS} WHERE followee_id = %(user)s
ORDER BY follower_id
ON CONFLICT (user_id) DO UPDATE SET following = GREATEST({_COUNTS}.following + %(step)s, 0)
"""  # nosec B608 # table names from model metadata; every value is a bound parameter


def _member_set_active(user_id: int, active: bool) -> bool:
    params = {
        "user": user_id,
        "active": active,
        "step": 1 if active else -1,
        "epoch": ranking.EPOCH.isoformat(),
        "half": ranking.half_life_seconds(),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_FLIP_SQL, params)
        if cursor.rowcount == 0:
            return False  # already so: its rows are already in (or out of) the figures
        cursor.execute(_LOCK_POSTS_SQL, params)
        cursor.execute(_LIKES_SQL[params["step"]], params)
        cursor.execute(_COMMENTS_SQL, params)
        cursor.execute(_LOCK_COUNTS_SQL, params)
        cursor.execute(_FOLLOWERS_SQL, params)
        cursor.execute(_FOLLOWING_SQL, params)
        transaction.on_commit(lambda: member_recount_enqueue(user_id))
    return True


def member_deactivate(*, user_id: int) -> bool:
    """Make the account inactive, and take its likes, comments and follows out of the
    public figures, in the caller's transaction. False (nothing changed) if it was
    inactive already."""
    return _member_set_active(user_id, False)


def member_reactivate(*, user_id: int) -> bool:
    """Make the account active again, its likes, comments and follows counted again, in
    the caller's transaction. False (nothing changed) if it was active already."""
    return _member_set_active(user_id, True)
