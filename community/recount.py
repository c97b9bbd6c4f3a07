"""The periodic recount: every post's like_count, comment_count and explore_score, and every
creator's follower counters, computed again from the rows (active accounts only) and
written where they differ. It corrects drift (a write lost between its row and its
counter, an account deactivated or reactivated in the admin); it never has to decay
anything, because the score's decay is built into its form (creations/ranking.py).

Each batch is one transaction that first locks its posts' rows and then counts in a later
statement: a like committed before the lock is counted, and one that comes after waits for
the lock and then adds itself to the recounted figure — no like is lost or counted twice.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from creations import ranking
from creations.models import Creation

from .models import CreatorCounts, Follow, PostComment, PostLike

BATCH = 1000
# The score is rewritten only when it differs by more than rounding.
SCORE_TOLERANCE = 1e-9

_POSTS = Creation._meta.db_table
_LIKES = PostLike._meta.db_table
_COMMENTS = PostComment._meta.db_table
_USERS = get_user_model()._meta.db_table
_FOLLOWS = Follow._meta.db_table
_COUNTS = CreatorCounts._meta.db_table

_LOCK_POSTS_SQL = f"""
SELECT id FROM {_POSTS} WHERE id = ANY(%s::uuid[]) ORDER BY id FOR UPDATE
"""  # nosec B608 # table names from model metadata; every value is a bound parameter

# x = half-lives since ranking.EPOCH: the first publication's term and each active like's.
_RECOUNT_POSTS_SQL = f"""
WITH batch AS (
  SELECT id, first_published_at FROM {_POSTS} WHERE id = ANY(%(ids)s::uuid[])
), terms AS (
  SELECT b.id AS post_id,
         extract(epoch FROM b.first_published_at - %(epoch)s::timestamptz) / %(half)s AS x
  FROM batch b WHERE b.first_published_at IS NOT NULL
  UNION ALL
  SELECT l.post_id, extract(epoch FROM l.created_at - %(epoch)s::timestamptz) / %(half)s
  FROM {_LIKES} l JOIN batch b ON b.id = l.post_id
  JOIN {_USERS} u ON u.id = l.user_id AND u.is_active
), peak AS (
  SELECT post_id, max(x) AS m FROM terms GROUP BY post_id
), score AS (
  SELECT t.post_id,
         p.m + ln(sum(power(2.0::float8, -LEAST(p.m - t.x, %(negligible)s)))) / ln(2) AS s
  FROM terms t JOIN peak p USING (post_id) GROUP BY t.post_id, p.m
), likes AS (
  SELECT l.post_id, count(*) AS n FROM {_LIKES} l JOIN batch b ON b.id = l.post_id
  JOIN {_USERS} u ON u.id = l.user_id AND u.is_active GROUP BY l.post_id
), comments AS (
  SELECT c.post_id, count(*) AS n FROM {_COMMENTS} c JOIN batch b ON b.id = c.post_id
  JOIN {_USERS} u ON u.id = c.author_id AND u.is_active
  WHERE c.deleted_at IS NULL GROUP BY c.post_id
), fresh AS (
  SELECT b.id, coalesce(likes.n, 0) AS likes, coalesce(comments.n, 0) AS comments, score.s
  FROM batch b LEFT JOIN likes ON likes.post_id = b.id
  LEFT JOIN comments ON comments.post_id = b.id LEFT JOIN score ON score.post_id = b.id
)
UPDATE {_POSTS} AS post
SET like_count = fresh.likes, comment_count = fresh.comments, explore_score = fresh.s
FROM fresh
WHERE post.id = fresh.id AND (
  post.like_count <> fresh.likes OR post.comment_count <> fresh.comments
  OR (post.explore_score IS NULL) <> (fresh.s IS NULL)
  OR abs(post.explore_score - fresh.s) > %(tolerance)s
)
"""  # nosec B608 # table names from model metadata; every value is a bound parameter

_RECOUNT_CREATORS_SQL = f"""
INSERT INTO {_COUNTS} (user_id, followers, following)
SELECT * FROM (
  SELECT u.id,
    (SELECT count(*) FROM {_FOLLOWS} f JOIN {_USERS} a ON a.id = f.follower_id AND a.is_active
     WHERE f.followee_id = u.id) AS followers,
    (SELECT count(*) FROM {_FOLLOWS} f JOIN {_USERS} a ON a.id = f.followee_id AND a.is_active
     WHERE f.follower_id = u.id) AS following
  FROM {_USERS} u WHERE u.id = ANY(%s::integer[])
) AS fresh
-- A creator nobody follows and who follows nobody needs no row (none reads as zeros).
WHERE fresh.followers > 0 OR fresh.following > 0
   OR EXISTS (SELECT 1 FROM {_COUNTS} c WHERE c.user_id = fresh.id)
ON CONFLICT (user_id) DO UPDATE SET
  followers = EXCLUDED.followers, following = EXCLUDED.following
WHERE ({_COUNTS}.followers, {_COUNTS}.following)
  IS DISTINCT FROM (EXCLUDED.followers, EXCLUDED.following)
"""  # nosec B608 # table names from model metadata; every value is a bound parameter


def recount_posts(post_ids: list) -> int:
    """Recount these posts in one transaction; returns how many rows were corrected."""
    if not post_ids:
        return 0
    params = {
        "ids": [str(pk) for pk in post_ids],
        "epoch": ranking.EPOCH.isoformat(),
        "half": ranking.half_life_seconds(),
        "negligible": ranking.NEGLIGIBLE,
        "tolerance": SCORE_TOLERANCE,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_LOCK_POSTS_SQL, [params["ids"]])
        cursor.execute(_RECOUNT_POSTS_SQL, params)
        return cursor.rowcount


def recount_creators(user_ids: list[int]) -> int:
    if not user_ids:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_RECOUNT_CREATORS_SQL, [list(user_ids)])
        return cursor.rowcount


def recount_all(*, batch: int = BATCH) -> dict[str, int]:
    """Every post ever published and every creator in a follow, a batch at a time (keyset
    by id: each batch a short transaction, whatever the table's size)."""
    corrected = {"posts": 0, "creators": 0}
    after = None
    posts = Creation.objects.filter(first_published_at__isnull=False).order_by("id")
    while True:
        page = posts.filter(id__gt=after) if after else posts
        ids = list(page.values_list("id", flat=True)[:batch])
        if not ids:
            break
        corrected["posts"] += recount_posts(ids)
        after = ids[-1]
    users = get_user_model().objects.order_by("id")
    last = 0
    while True:
        ids = list(users.filter(id__gt=last).values_list("id", flat=True)[:batch])
        if not ids:
            break
        corrected["creators"] += recount_creators(ids)
        last = ids[-1]
    return corrected


def member_recount(user_id: int) -> dict[str, int]:
    """After an account is deactivated (or reactivated): the figures of everything it
    touched — the posts it liked or commented on, the creators it followed or who followed
    it — from the rows, without its own."""
    liked = PostLike.objects.filter(user_id=user_id).values_list("post_id", flat=True)
    commented = PostComment.objects.filter(author_id=user_id).values_list("post_id", flat=True)
    post_ids = sorted({*liked, *commented})
    followed = Follow.objects.filter(follower_id=user_id).values_list("followee_id", flat=True)
    followers = Follow.objects.filter(followee_id=user_id).values_list("follower_id", flat=True)
    user_ids = sorted({user_id, *followed, *followers})
    corrected = {"posts": 0, "creators": 0}
    for start in range(0, len(post_ids), BATCH):
        corrected["posts"] += recount_posts(post_ids[start : start + BATCH])
    for start in range(0, len(user_ids), BATCH):
        corrected["creators"] += recount_creators(user_ids[start : start + BATCH])
    return corrected


def interval_seconds() -> int:
    return settings.PHOENIX_COMMUNITY_RECOUNT_INTERVAL
