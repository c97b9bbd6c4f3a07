"""The analytics page's figures: creations and tokens spent per day, the success rate per
day and type, top creators and failure reasons.

Creation rows are never deleted (trash and purge keep them, expiry trashes), so every
count here includes what its creator has trashed or purged since.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from creations.models import Creation

from . import rollup
from .figures import KINDS, PUBLISHED, percent, ratio

ANALYTICS_DAYS = (7, 30, 90)


def daily_series(counts: dict[date, int], *, first: date, last: date) -> list[tuple[date, int]]:
    """One (day, value) per calendar day from first to last, days without data as 0."""
    days = (last - first).days + 1
    return [
        (first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)
    ]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    maximum: int
    baseline: float
    first_label: str
    last_label: str


def bar_chart(
    series: Sequence[tuple[date, int]], *, width: int = 640, height: int = 160
) -> BarChart:
    """Geometry for a small server-rendered SVG bar chart (the template only draws it)."""
    top, bottom = 12, 18
    plot_height = height - top - bottom
    maximum = max((value for _, value in series), default=0)
    slot = width / max(len(series), 1)
    gap = min(2.0, slot / 4)
    bars = []
    for index, (day, value) in enumerate(series):
        bar_height = plot_height * value / maximum if maximum else 0
        bars.append(
            Bar(
                x=round(index * slot + gap / 2, 2),
                y=round(top + plot_height - bar_height, 2),
                width=round(slot - gap, 2),
                height=round(bar_height, 2),
                label=day.isoformat(),
                value=value,
            )
        )
    return BarChart(
        width=width,
        height=height,
        bars=bars,
        maximum=maximum,
        baseline=top + plot_height,
        first_label=series[0][0].isoformat() if series else "",
        last_label=series[-1][0].isoformat() if series else "",
    )


@dataclass(frozen=True)
class DaySuccess:
    """One type's creations started on one day: how many reached draft, how many ended
    (reached draft or failed; canceled and in-flight ones are not counted)."""

    succeeded: int
    ended: int

    @property
    def rate(self) -> float | None:
        return ratio(self.succeeded, self.ended)

    @property
    def label(self) -> str:
        return f"{percent(self.rate)} ({self.succeeded} of {self.ended})" if self.ended else "—"


def success_trend(
    counts: dict[tuple[date, str], DaySuccess], *, first: date, last: date
) -> list[tuple[date, dict[str, DaySuccess]]]:
    """Newest day first, each day from first to last on which something ended, with every
    type (a type without an ended creation that day as 0 of 0)."""
    empty = DaySuccess(0, 0)
    days = [last - timedelta(days=i) for i in range((last - first).days + 1)]
    return [
        (day, {kind: counts.get((day, kind), empty) for kind in KINDS})
        for day in days
        if any(counts.get((day, kind), empty).ended for kind in KINDS)
    ]


@dataclass(frozen=True)
class Analytics:
    days: int
    creations_per_day: list[tuple[date, int]]
    tokens_per_day: list[tuple[date, int]]
    top_creators: list[dict]
    failure_reasons: list[tuple[str, int]]
    success_by_day: list[tuple[date, dict[str, DaySuccess]]]

    @property
    def creations_chart(self) -> BarChart:
        return bar_chart(self.creations_per_day)

    @property
    def tokens_chart(self) -> BarChart:
        return bar_chart(self.tokens_per_day)

    @property
    def total_creations(self) -> int:
        return sum(value for _, value in self.creations_per_day)

    @property
    def total_tokens(self) -> int:
        return sum(value for _, value in self.tokens_per_day)


def collect_analytics(*, days: int = 30, now: datetime | None = None) -> Analytics:
    """Creations and tokens spent per day, top creators and failure reasons.

    Tokens spent are debits minus refunds (of failures and cancels alike), read from the
    append-only ledger. Creation rows are never deleted (trash and purge keep them), so
    the counts per day include what its creator has trashed or purged since. The success
    rate per day and type counts by the day a creation was started. Everything but the
    top creators' published posts comes from the daily rollups (ops.rollup) and the few
    rows since they last ran.
    """
    now = now or timezone.now()
    last = timezone.localdate(now)
    first = last - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    created: dict[date, int] = defaultdict(int)
    ended: dict[tuple[date, str], DaySuccess] = {}
    for day, kind, n, succeeded, ended_n in rollup.creation_days(since=since):
        created[day] += n
        ended[(day, kind)] = DaySuccess(succeeded, ended_n)
    creators = rollup.top_spenders(since=since, limit=10)
    published = defaultdict(int)
    # Only the top creators' posts: the owner index serves it.
    for owner_id, n in (
        Creation.objects.filter(
            owner_id__in=[row["user_id"] for row in creators],
            status__in=PUBLISHED,
            created_at__gte=since,
        )
        .order_by()
        .values_list("owner_id")
        .annotate(n=Count("id"))
    ):
        published[owner_id] = n
    return Analytics(
        days=days,
        success_by_day=success_trend(ended, first=first, last=last),
        creations_per_day=daily_series(created, first=first, last=last),
        tokens_per_day=daily_series(rollup.spending_by_day(since=since), first=first, last=last),
        top_creators=[{**row, "published": published[row["user_id"]]} for row in creators],
        failure_reasons=rollup.failure_reasons(since=since),
    )
