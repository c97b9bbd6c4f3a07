"""Search of creations' words (prompt and caption): the one definition of "matches", for a
creator's own library (library.selectors) and for public search alike.

A query matches a creation when its words are found as whole words by PostgreSQL's full
text search (the generated `search_vector`, `websearch_to_tsquery` syntax: "quoted
phrases", `or`, `-excluded`), or when the query is found inside the prompt or the caption
(`ILIKE '%q%'`, any part of a word). Both are served by GIN indexes that lead with
owner_id (migration 0008_search_vector): `creation_search` for the vector and
`creation_words_trgm` (pg_trgm) for the fragments. Ordering and paging are the caller's,
except for public search (public_posts_matching), which picks its own path through the
indexes: see there.
"""

from datetime import datetime
from uuid import UUID

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    Lookup,
    Q,
    QuerySet,
    TextField,
    Value,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber

from .models import SEARCH_CONFIG, Creation

# Longer queries are cut: nobody types more into a search box, and a trigram search costs
# more with every trigram.
QUERY_MAX = 200


def clean_query(value) -> str:
    """What a search box sent, as searched: spaces collapsed, at most QUERY_MAX characters,
    no NUL (PostgreSQL refuses it). Anything but text is no query."""
    if not isinstance(value, str):
        return ""
    return " ".join(value.replace("\x00", " ").split())[:QUERY_MAX]


class ContainsIgnoringCase(Lookup):
    """`column ILIKE '%text%'`, written so that pg_trgm's GIN index serves it (Django's
    icontains compares UPPER(column), which no trigram index on the column can serve)."""

    lookup_name = "ilike_contains"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", [*lhs_params, *rhs_params]


def like_pattern(text: str) -> str:
    """`%text%` with LIKE's own characters (backslash, %, _) taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def words_match(query: str) -> Q:
    """The condition "matches `query`" (a cleaned, non-empty query)."""
    whole_words = Q(search_vector=SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG))
    pattern = Value(like_pattern(query), output_field=TextField())
    in_prompt = ContainsIgnoringCase(F("prompt"), pattern)
    in_caption = ContainsIgnoringCase(F("caption"), pattern)
    return whole_words | Q(in_prompt) | Q(in_caption)


def matching(queryset: QuerySet, query: str) -> QuerySet:
    """The creations of `queryset` whose words match `query`; all of them for no query."""
    query = clean_query(query)
    if not query:
        return queryset
    return queryset.filter(words_match(query))


# Public search (the feed's search box, GET /api/posts?q=) reads the newest public posts in
# order, at most this many, and stops at a page's worth of matches; a query that fewer of
# them match is answered from the word indexes of public posts instead. Measured at
# 300,000 posts (bench/community.py): reading 2,000 posts in order costs about what the
# indexes cost for a word in about 0.5% of posts, so neither path is ever far off.
ORDERED_WALK = 2000
_NEWEST_FIRST = ("-first_published_at", "-id")
_USERS = Creation._meta.get_field("owner").related_model._meta.db_table


def _owner_active(alias: str) -> str:
    """Whether the creator of the row `alias` is active, read only for the rows that need it:
    a subquery, not a join, since a join lets auth_user's statistics steer the plan (stale
    ones once made a rare word walk every post: 2.4 s at 300,000 posts)."""
    return f"(SELECT u.is_active FROM {_USERS} AS u WHERE u.id = {alias}.owner_id)"  # nosec B608


def _posts(after: tuple[datetime, UUID] | None = None) -> QuerySet:
    """Published, not in the trash: written as the predicate of the partial indexes
    (creation_post_search, creation_post_words_trgm) so that the planner can use them."""
    posts = Creation.objects.filter(status=Creation.Status.PUBLISHED, trashed_at__isnull=True)
    if after is None:
        return posts
    moment, pk = after
    # The first condition adds nothing but lets the index on the time start at the cursor.
    return posts.filter(first_published_at__lte=moment).filter(
        Q(first_published_at__lt=moment) | Q(first_published_at=moment, pk__lt=pk)
    )


def ordered_walk_sql(
    query: str, *, after: tuple[datetime, UUID] | None, limit: int
) -> tuple[str, list]:
    """The newest ORDERED_WALK public posts after `after` in order (creation_feed), each
    marked: `shown` (it matches and its creator is active) and `last` (the last one of the
    walk); only the shown ones and the last are returned, at most `limit` rows."""
    walk = (
        _posts(after)
        .annotate(
            hit=ExpressionWrapper(words_match(query), output_field=BooleanField()),
            place=Window(RowNumber(), order_by=[F(name[1:]).desc() for name in _NEWEST_FIRST]),
        )
        .order_by(*_NEWEST_FIRST)
        .values_list("id", "owner_id", "hit", "place")[:ORDERED_WALK]
    )
    sql, params = walk.query.sql_with_params()
    marked = f"""
        SELECT id, shown, last FROM (
          SELECT walked.id, walked.hit AND {_owner_active("walked")} AS shown,
                 walked.place = %s AS last
          FROM ({sql}) AS walked
        ) AS marked
        WHERE shown OR last
        LIMIT %s
    """  # nosec B608 # the ORM's own SQL and constants; every value is a bound parameter
    return marked, [ORDERED_WALK, *params, limit]


def indexed_matches_sql(
    query: str, *, after: tuple[datetime, UUID] | None, limit: int
) -> tuple[str, list]:
    """The ids of the first `limit` public posts after `after` that match, newest first,
    found through the word indexes of public posts: every match is read, then ordered."""
    matches = (
        _posts()
        .filter(words_match(query))
        .order_by()
        .values("id", "owner_id", "first_published_at")
    )
    sql, params = matches.query.sql_with_params()
    keyset, keyset_params = "", []
    if after is not None:
        keyset = "WHERE m.first_published_at < %s OR (m.first_published_at = %s AND m.id < %s)"
        keyset_params = [after[0], after[0], after[1]]
    # MATERIALIZED: the matches are found as a set (a BitmapOr of the GIN indexes), never by
    # a walk in order, whatever the planner guesses of the query's words. OFFSET 0 keeps the
    # owners' check above the sort, so that it reads only as many owners as it must.
    found = f"""
        WITH m AS MATERIALIZED ({sql})
        SELECT id FROM (
          SELECT m.id, m.owner_id, m.first_published_at FROM m {keyset}
          ORDER BY m.first_published_at DESC, m.id DESC OFFSET 0
        ) AS newest
        WHERE {_owner_active("newest")}
        ORDER BY first_published_at DESC, id DESC
        LIMIT %s
    """  # nosec B608 # the ORM's own SQL and constants; every value is a bound parameter
    return found, [*params, *keyset_params, limit]


def walk_suffices(rows: list[tuple], limit: int) -> bool:
    """Whether the walk's rows (ordered_walk_sql) hold the answer: `limit` matches, or every
    post after the cursor read (the walk ended before its last place)."""
    shown = sum(1 for _, is_shown, _ in rows if is_shown)
    return shown >= limit or not any(last for _, _, last in rows)


def public_posts_matching(
    query: str, *, after: tuple[datetime, UUID] | None, limit: int
) -> list[Creation]:
    """Up to `limit` public posts matching `query` (cleaned, not empty) after the keyset
    `after`, newest first (first_published_at, id), their owners joined: two queries.

    A word of many posts is found at once by reading the posts in order; a rare one (or
    none) would make that read every post, so when the newest ORDERED_WALK posts do not
    hold the page, the GIN indexes of public posts' words find every match instead
    (creation_post_search, creation_post_words_trgm), which are then ordered."""
    walk_sql, walk_params = ordered_walk_sql(query, after=after, limit=limit)
    with connection.cursor() as cursor:
        cursor.execute(walk_sql, walk_params)
        walked = cursor.fetchall()
    return list(posts_after_walk(query, after=after, limit=limit, walked=walked))


def posts_after_walk(
    query: str, *, after: tuple[datetime, UUID] | None, limit: int, walked: list[tuple]
) -> QuerySet:
    """The posts to show once the walk (ordered_walk_sql) gave `walked`: those it found if
    they are the answer, else the first matches the word indexes find."""
    posts = Creation.objects.public().select_related("owner").order_by(*_NEWEST_FIRST)
    if walk_suffices(walked, limit):
        return posts.filter(pk__in=[pk for pk, is_shown, _ in walked if is_shown])
    found_sql, found_params = indexed_matches_sql(query, after=after, limit=limit)
    return posts.filter(pk__in=RawSQL(found_sql, found_params))  # nosec B611 # values bound
