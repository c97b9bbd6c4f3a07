"""The analytics page's figures: creations and tokens spent per day, the success rate per
day and type, top creators and failure reasons.

Creation rows are never deleted (trash and purge keep them, expiry trashes), so every
count here includes what its creator has trashed or purged since.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from creations.models import Creation

from . import rollup
from .figures import percent
from .outcomes import KINDS, PUBLISHED, ratio

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

    @property
    def description(self) -> str:
        """What the bars show, in words (the SVG's <desc>)."""
        if not self.bars:
            return "No days."
        total = sum(bar.value for bar in self.bars)
        top = max(self.bars, key=lambda bar: bar.value)
        text = f"{len(self.bars)} days from {self.first_label} to {self.last_label}, {total} in all"
        return f"{text}; the most, {top.value}, on {top.label}." if top.value else f"{text}."


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


# Each type its colour (3:1 against the chart's background in the admin's light and dark
# themes: tests/test_contrast.py), its marker and its line, so none rests on colour alone.
SERIES_STYLE = {"image": ("circle", ""), "video": ("square", "6 4")}


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str

    @property
    def corner(self) -> tuple[float, float]:
        """Top left of a 7×7 square marker centred on the point."""
        return round(self.x - 3.5, 2), round(self.y - 3.5, 2)


@dataclass(frozen=True)
class Line:
    kind: str
    marker: str
    dash: str
    path: str
    points: list[Point]
    summary: str
    # Where its legend entry starts.
    legend_x: int = 0


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    right: int
    lines: list[Line]
    # (y, label) of the horizontal rules: 0%, 50%, 100%.
    grid: list[tuple[float, str]]
    baseline: float
    first_label: str
    last_label: str

    @property
    def description(self) -> str:
        return " ".join(line.summary for line in self.lines)


def success_chart(
    counts: dict[tuple[date, str], DaySuccess],
    *,
    first: date,
    last: date,
    width: int = 640,
    height: int = 200,
) -> LineChart:
    """Geometry of the success rate per day, one line per type (the template only draws
    it). A day on which nothing of a type ended has no point, and its line breaks there."""
    left, right, top, bottom = 40, 8, 30, 20
    plot_width, plot_height = width - left - right, height - top - bottom
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    slot = plot_width / max(len(days), 1)
    lines = []
    for kind in KINDS:
        marker, dash = SERIES_STYLE.get(kind, ("circle", ""))
        points, path, previous = [], [], None
        for index, day in enumerate(days):
            success = counts.get((day, kind))
            if not success or not success.ended:
                previous = None
                continue
            x = round(left + slot * (index + 0.5), 2)
            y = round(top + plot_height * (1 - success.rate), 2)
            path.append(f"{'L' if previous is not None else 'M'}{x} {y}")
            previous = index
            points.append(Point(x, y, f"{day.isoformat()}: {success.label}"))
        succeeded = sum(counts.get((d, kind), DaySuccess(0, 0)).succeeded for d in days)
        ended = sum(counts.get((d, kind), DaySuccess(0, 0)).ended for d in days)
        name = f"{kind.capitalize()}s"
        if ended:
            worst = min(
                (d for d in days if counts.get((d, kind)) and counts[(d, kind)].ended),
                key=lambda d: (counts[(d, kind)].rate, d),
            )
            summary = (
                f"{name}: {percent(succeeded / ended)} over the period ({succeeded} of {ended}),"
                f" lowest {percent(counts[(worst, kind)].rate)} on {worst.isoformat()}."
            )
        else:
            summary = f"{name}: nothing ended in the period."
        legend_x = left + 100 * len(lines)
        lines.append(Line(kind, marker, dash, " ".join(path), points, summary, legend_x))
    grid = [(round(top + plot_height * (1 - share), 2), f"{share:.0%}") for share in (1, 0.5, 0)]
    return LineChart(
        width=width,
        height=height,
        left=left,
        right=width - right,
        lines=lines,
        grid=grid,
        baseline=top + plot_height,
        first_label=first.isoformat(),
        last_label=last.isoformat(),
    )


@dataclass(frozen=True)
class Analytics:
    days: int
    creations_per_day: list[tuple[date, int]]
    tokens_per_day: list[tuple[date, int]]
    top_creators: list[dict]
    failure_reasons: list[tuple[str, int]]
    success_by_day: list[tuple[date, dict[str, DaySuccess]]]
    refunds_per_day: list[tuple[date, int]] = field(default_factory=list)
    refunded_tokens: int = 0
    success_counts: dict[tuple[date, str], DaySuccess] = field(default_factory=dict)

    @property
    def creations_chart(self) -> BarChart:
        return bar_chart(self.creations_per_day)

    @property
    def refunds_chart(self) -> BarChart:
        return bar_chart(self.refunds_per_day)

    @property
    def total_refunds(self) -> int:
        return sum(value for _, value in self.refunds_per_day)

    @property
    def success_chart(self) -> LineChart:
        days = self.creations_per_day
        first, last = (days[0][0], days[-1][0]) if days else (date.today(), date.today())
        return success_chart(self.success_counts, first=first, last=last)

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
    spending = rollup.spending_by_day(since=since)
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
        success_counts=ended,
        creations_per_day=daily_series(created, first=first, last=last),
        tokens_per_day=daily_series(
            {day: s.spent for day, s in spending.items()}, first=first, last=last
        ),
        refunds_per_day=daily_series(
            {day: s.refunds for day, s in spending.items()}, first=first, last=last
        ),
        refunded_tokens=sum(s.refunded for s in spending.values()),
        top_creators=[{**row, "published": published[row["user_id"]]} for row in creators],
        failure_reasons=rollup.failure_reasons(since=since),
    )
