"""`make bench`'s community part (issue 22): public search, an Explore page and a creator's
page with a million creations and five million likes in the tables.

BENCH_COMMUNITY_CREATIONS creations (default 1,000,000; three in ten published) are written
by one `generate_series` INSERT that copies a template row (bench.fills),
spread over BENCH_COMMUNITY_CREATORS creators, with words of every frequency in prompts and
captions; BENCH_COMMUNITY_LIKES likes (default 5,000,000) by BENCH_COMMUNITY_LIKERS
accounts are written by one INSERT … SELECT over generate_series (skewed: a few posts get
many), and the posts' counters and Explore scores are then set by the community's own
recount (community.recount, the periodic job's code) — as production keeps them. Then,
in-process through the views with a signed-in viewer: `GET /api/posts?q=…` (a common word,
a rare one, a part of a word, a word found nowhere), `GET /explore` and its next page,
`GET /api/explore`, and a creator's page `/soho/<name>` (a creator with thousands of posts).
Each is timed BENCH_COMMUNITY_SAMPLES times (p95, goal ≤ 50 ms) and its main query's
`EXPLAIN (ANALYZE, BUFFERS)` plan is kept with the indexes it used.
"""

import os
import statistics
import time

from bench import fills
from bench.common import log

CREATIONS = int(os.getenv("BENCH_COMMUNITY_CREATIONS", "1000000"))
CREATORS = int(os.getenv("BENCH_COMMUNITY_CREATORS", "1000"))
LIKES = int(os.getenv("BENCH_COMMUNITY_LIKES", "5000000"))
LIKERS = int(os.getenv("BENCH_COMMUNITY_LIKERS", "20000"))
SAMPLES = int(os.getenv("BENCH_COMMUNITY_SAMPLES", "20"))
GOAL_P95_MS = 50

SEARCHES = [
    ("search: whole word, common", "lighthouse"),
    ("search: whole word, rare", "zeppelin"),
    ("search: two words", "red fox"),
    ("search: part of a word", "ghthou"),
    ("search: found nowhere", "qwxzvk"),
]


def heaviest_creator() -> int:
    """The creator with the most public posts (a creator's page at its heaviest)."""
    from django.db.models import Count

    from creations.models import Creation

    return (
        Creation.objects.filter(status="published", trashed_at__isnull=True)
        .values("owner_id")
        .annotate(posts=Count("id"))
        .order_by("-posts")
        .values_list("owner_id", flat=True)
        .first()
    )


def fill(creator_ids: list[int], liker_ids: list[int]) -> dict:
    from django.db import connection, transaction

    from community import recount
    from community.models import PostLike
    from creations.models import Creation

    heavy = creator_ids[0]
    reused = Creation.objects.count() >= CREATIONS
    if reused:
        # The library part (run just before) wrote a million creations with the same kind of
        # words, three in ten published: the likes go on them rather than on a second million.
        heavy = heaviest_creator()
    template = None if reused else fills.template_creation(heavy)
    published = "mod(n, 10) BETWEEN 6 AND 8"
    moment = "now() - n * interval '2 seconds'"
    insert = fills.copy_rows_sql(
        Creation,
        CREATIONS,
        {
            "id": "md5('phoenix-bench-community-' || n)::uuid",
            "owner_id": fills.owner_sql(heavy, creator_ids[1:]),
            "prompt": fills.PROMPT_SQL,
            "caption": f"CASE WHEN {published} THEN 'posted ' || {fills.word_sql('d')} ELSE '' END",
            "status": f"CASE WHEN {published} THEN 'published' ELSE 'draft' END",
            "idempotency_key": "NULL",
            "created_at": moment,
            "published_at": f"CASE WHEN {published} THEN {moment} END",
            "first_published_at": f"CASE WHEN {published} THEN {moment} END",
        },
    )
    # Likes: post k of the published ones (numbered by recency) gets its share by a skewed
    # pick (k = floor(P * u^3)): the newest few hundred posts get most of them. Each like is
    # a distinct (post, liker) pair: liker = n mod LIKERS, post chosen from n / LIKERS.
    likes = f"""
        WITH posts AS (
          SELECT id, row_number() OVER (ORDER BY first_published_at DESC) AS k,
                 first_published_at
          FROM {Creation._meta.db_table} WHERE status = 'published'
        ), total AS (SELECT count(*) AS p FROM posts)
        INSERT INTO {PostLike._meta.db_table} (post_id, user_id, created_at)
        SELECT posts.id, (%(likers)s::integer[])[1 + mod(n, %(nlikers)s)],
               greatest(posts.first_published_at, now() - mod(n, 86400 * 7) * interval '1 second')
        FROM generate_series(0, %(likes)s - 1) AS n, total
        JOIN LATERAL (
          SELECT 1 + mod(floor(total.p * power(
                   abs(hashtext(n::text || 'like')) / 2147483648.0, 3))::bigint
                   + (n / %(nlikers)s), total.p) AS k
        ) AS pick ON true
        JOIN posts ON posts.k = pick.k
        ON CONFLICT (post_id, user_id) DO NOTHING
    """  # nosec B608 # table names from model metadata; every value is a bound parameter
    if not reused:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(insert, [template.pk])
        template.delete()
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        # The pairs are distinct and their posts and likers exist by construction: the
        # foreign keys' per-row triggers are skipped for this one INSERT (a fill, as a
        # restore would), which made it several times faster.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(likes, {"likers": liker_ids, "nlikers": len(liker_ids), "likes": LIKES})
        written = cursor.rowcount
    likes_seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE creations_creation")
        cursor.execute(f"VACUUM ANALYZE {PostLike._meta.db_table}")
        # The 21,000 accounts just made, as autovacuum would have counted them (a server
        # without it kept statistics of a few hundred, which misled the joins on owners).
        cursor.execute("ANALYZE auth_user")
    started = time.monotonic()
    # The counters and scores from the rows by the recount's own statement, over every post
    # at once (one pass of hash joins; production's periodic run goes in short batches).
    post_ids = list(
        Creation.objects.filter(first_published_at__isnull=False).values_list("id", flat=True)
    )
    corrected = {"posts": recount.recount_posts(post_ids)}
    recount_seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE creations_creation")
    return {
        "heavy": heavy,
        "reused_creations": reused,
        "likes_written": written,
        "likes_s": round(likes_seconds, 1),
        "recount_s": round(recount_seconds, 1),
        "recount_corrected": corrected,
    }


def search_explain(q: str) -> dict:
    """Public search's statements (creations.search.public_posts_matching), each explained:
    the walk down the newest posts, then the rows it found or the matches the word indexes
    find; their SQL times added."""
    from django.core.exceptions import EmptyResultSet
    from django.db import connection

    from community import selectors
    from creations import search

    limit = selectors.SEARCH_PAGE_SIZE + 1
    walk_sql, walk_params = search.ordered_walk_sql(q, after=None, limit=limit)
    with connection.cursor() as cursor:
        cursor.execute(walk_sql, walk_params)
        walked = cursor.fetchall()
    rows = search.posts_after_walk(q, after=None, limit=limit, walked=walked)
    path = "walk" if search.walk_suffices(walked, limit) else "walk, then the word indexes"
    plans = [fills.explain(walk_sql, walk_params)]
    try:
        plans.append(fills.explain(*rows.query.sql_with_params()))
    except EmptyResultSet:  # the walk found none and read every post: no second query
        pass
    return {
        "search_path": path,
        "indexes": sorted({name for plan in plans for name in plan["indexes"]}),
        "sql_ms": round(sum(plan["sql_ms"] or 0 for plan in plans), 3),
        "plan": [line for plan in plans for line in ["-- statement --", *plan["plan"]]],
    }


def main_query_sql(label: str, creator_id: int | None, cursor: str | None):
    """The page's own query (its rows, ordered, one more than a page), for its plan."""
    from django.db.models import F

    from community import selectors
    from creations.models import Creation

    public = Creation.objects.public().select_related("owner")
    if creator_id is not None:
        queryset = public.filter(owner_id=creator_id).order_by("-first_published_at", "-pk")[:13]
    else:
        queryset = public.filter(explore_score__isnull=False)
        after = selectors._parse_score_cursor(cursor)
        if after is not None:
            from django.db.models import Q

            queryset = queryset.filter(
                Q(explore_score__lt=after[0]) | Q(explore_score=after[0], pk__lt=after[1])
            )
        queryset = queryset.order_by(F("explore_score").desc(nulls_last=True), F("id").desc())[
            : selectors.EXPLORE_PAGE_SIZE + 1
        ]
    return queryset.query.sql_with_params()


def measure() -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client

    started = time.monotonic()
    log(f"community: {CREATIONS:,} creations of {CREATORS:,} creators, {LIKES:,} likes")
    creators = fills.make_users("poster", CREATORS)
    likers = fills.make_users("liker", LIKERS)
    seeded = fill(creators, likers)
    fill_seconds = round(time.monotonic() - started, 1)
    log(
        f"community: filled in {fill_seconds} s ({seeded['likes_written']:,} likes in "
        f"{seeded['likes_s']} s, recount {seeded['recount_s']} s)"
    )
    User = get_user_model()
    heavy = User.objects.get(pk=seeded["heavy"])
    viewer = User.objects.get(pk=likers[0])
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(viewer)
    second = client.get("/api/explore", secure=True).json()["next_cursor"]
    pages = [
        *[(label, "/api/posts", {"q": q}, {"q": q}) for label, q in SEARCHES],
        ("explore page", "/explore", {}, {}),
        ("explore page 2", "/explore", {"cursor": second}, {"cursor": second}),
        ("explore JSON", "/api/explore", {}, {}),
        ("creator's page", f"/soho/{heavy.username}", {}, {"creator": heavy.pk}),
    ]
    results, every = {}, {"search": [], "explore": [], "profile": []}
    for label, path, params, plan_of in pages:
        first = client.get(path, params, secure=True)
        if first.status_code != 200:
            raise RuntimeError(f"GET {path} {params}: {first.status_code} {first.content[:300]!r}")
        times = []
        for _ in range(SAMPLES):
            began = time.perf_counter()
            client.get(path, params, secure=True)
            times.append((time.perf_counter() - began) * 1000)
        group = (
            "search"
            if label.startswith("search")
            else ("profile" if path.startswith("/soho") else "explore")
        )
        every[group] += times
        if "q" in plan_of:
            plan = search_explain(plan_of["q"])
        else:
            plan = fills.explain(
                *main_query_sql(label, plan_of.get("creator"), plan_of.get("cursor"))
            )
        results[label] = {
            "path": path,
            "params": params,
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(fills.percentile(times, 0.95), 2),
            **plan,
        }
        log(
            f"community: {label}: p95 {results[label]['p95_ms']} ms, SQL "
            f"{results[label]['sql_ms']} ms, indexes {', '.join(results[label]['indexes'])}"
        )
    summary = {group: round(fills.percentile(times, 0.95), 2) for group, times in every.items()}
    log(f"community: p95 search {summary['search']} ms, Explore {summary['explore']} ms, "
        f"creator's page {summary['profile']} ms")  # fmt: skip
    return {
        "creations": CREATIONS,
        "likes": seeded["likes_written"],
        "fill_s": fill_seconds,
        "likes_s": seeded["likes_s"],
        "recount_s": seeded["recount_s"],
        "samples": SAMPLES,
        "search_p95_ms": summary["search"],
        "explore_p95_ms": summary["explore"],
        "profile_p95_ms": summary["profile"],
        "pages": results,
    }


def rows(results: dict) -> list[tuple[str, str, str, str]]:
    def verdict(value: float) -> str:
        return f"≤ {GOAL_P95_MS} ms: {'met' if value <= GOAL_P95_MS else 'MISSED'}"

    scale = f"{results['creations']:,} creations, {results['likes']:,} likes"
    summary = [
        (f"public search at {scale}", f"p95 {results['search_p95_ms']:.1f} ms", "",
         verdict(results["search_p95_ms"])),
        (f"Explore at {scale}", f"p95 {results['explore_p95_ms']:.1f} ms", "",
         verdict(results["explore_p95_ms"])),
        (f"creator's page at {scale}", f"p95 {results['profile_p95_ms']:.1f} ms",
         f"rows written in {results['fill_s']:.0f} s (likes {results['likes_s']:.0f} s, "
         f"recount {results['recount_s']:.0f} s)", verdict(results["profile_p95_ms"])),
    ]  # fmt: skip
    pages = [
        (
            f"community: {label}",
            f"p95 {page['p95_ms']:.1f} ms, p50 {page['p50_ms']:.1f} ms, SQL {page['sql_ms']} ms",
            f"indexes: {', '.join(page['indexes']) or 'none'}",
            "",
        )
        for label, page in results["pages"].items()
    ]
    return [*summary, *pages]
