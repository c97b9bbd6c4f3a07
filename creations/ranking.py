"""Explore's ranking score, kept on the post's row (Creation.explore_score).

A post's weight is its publication plus its likes, each decaying by half every
PHOENIX_EXPLORE_HALF_LIFE_HOURS: at time t, weight = Σ 2^((t_event - t) / half-life). The
common factor 2^(-t / half-life) is the same for every post, so the order by
Σ 2^((t_event - EPOCH) / half-life) ("forward decay") *is* the order by decayed weight at
any moment: a like adds its term once, in its own transaction, and nothing has to be
rewritten as time passes. The score is stored as log2 of that sum (in half-lives since
EPOCH), so it never overflows; a like adds its term with a log-add, an unlike takes it
away with a log-subtract, and the periodic recount (community) rebuilds it from the rows.

The SQL lives here, beside the column, so publish (creations) and like (community) write
the same number.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.db.models import F, Func, Value
from django.db.models.expressions import RawSQL

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# A difference past this many half-lives adds less than 2^-60: nothing a double can hold
# (and PostgreSQL refuses to underflow power()).
NEGLIGIBLE = 60.0


def half_life_seconds() -> float:
    return settings.PHOENIX_EXPLORE_HALF_LIFE_HOURS * 3600.0


def exponent(moment: datetime) -> float:
    """An event's term, as log2 of its forward-decayed weight: half-lives since EPOCH."""
    return (moment - EPOCH).total_seconds() / half_life_seconds()


# log2(2^score + 2^x), stable whatever the two are (log-sum-exp); a NULL score is x alone.
LOG_ADD_SQL = (
    "CASE WHEN {s} IS NULL THEN {x} "
    "ELSE GREATEST({s}, {x}) + ln(1 + power(2.0::float8, -LEAST(abs({s} - {x}), {n}))) / ln(2) "
    "END"
)
# log2(2^score - 2^x): an unlike. Floored NEGLIGIBLE half-lives below the score, never -inf
# (rounding can leave a hair above zero); the recount makes it exact again.
LOG_SUBTRACT_SQL = (
    "{s} + ln(GREATEST(1 - power(2.0::float8, -LEAST({s} - {x}, {n})), power(2.0::float8, -{n})))"
    " / ln(2)"
)


def log_add(x: float, column: str = "explore_score") -> RawSQL:
    sql = LOG_ADD_SQL.format(s=f'"{column}"', x="%s::float8", n=NEGLIGIBLE)
    # x appears twice in the CASE and three times in the sum.
    return RawSQL(sql, [x] * (sql.count("%s")))  # nosec B611 # constant SQL, bound value


def log_subtract(x: float, column: str = "explore_score") -> RawSQL:
    sql = LOG_SUBTRACT_SQL.format(s=f'"{column}"', x="%s::float8", n=NEGLIGIBLE)
    return RawSQL(sql, [x] * (sql.count("%s")))  # nosec B611 # constant SQL, bound value


def publish_score(moment: datetime):
    """The score a post gets when it is published: its first publication's term added once.
    Published again after an unpublish it keeps the score it had (its likes and its first
    publication), so unpublishing and publishing again never lifts a post in Explore."""
    return Func(F("explore_score"), Value(exponent(moment)), function="COALESCE")


def first_publish_score(row, now: datetime) -> float:
    """The locked row's score once published now (see publish_score)."""
    if row.explore_score is not None:
        return row.explore_score
    return exponent(row.first_published_at or now)
