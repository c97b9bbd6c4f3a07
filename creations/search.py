"""Search of creations' words (prompt and caption): the one definition of "matches", for a
creator's own library (library.selectors) and for public search alike.

A query matches a creation when its words are found as whole words by PostgreSQL's full
text search (the generated `search_vector`, `websearch_to_tsquery` syntax: "quoted
phrases", `or`, `-excluded`), or when the query is found inside the prompt or the caption
(`ILIKE '%q%'`, any part of a word). Both are served by GIN indexes that lead with
owner_id (migration 0008_search_vector): `creation_search` for the vector and
`creation_words_trgm` (pg_trgm) for the fragments. Ordering and paging are the caller's.
"""

from django.contrib.postgres.search import SearchQuery
from django.db.models import F, Lookup, Q, QuerySet, TextField, Value

from .models import SEARCH_CONFIG

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
