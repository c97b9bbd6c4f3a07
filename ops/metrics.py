"""Health and money figures for staff: the metrics page, `phoenix_alerts`, `/metrics` and
the analytics page.

Reading and computing are kept apart: the functions that turn rows into figures and
figures into red/green checks are pure, so tests check them on fixtures with known
answers; `collect()` and `collect_analytics()` read PostgreSQL and Redis and feed them.
"""

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import Abs, TruncDate
from django.utils import timezone
from redis.exceptions import RedisError
from rq import Worker

from creations import queues
from creations.models import Creation
from tokens.models import LedgerEntry
from tokens.services import Discrepancy, ledger_discrepancies

WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
QUEUE_NAMES = ("images", "videos", "default")
KINDS = tuple(Creation.Kind.values)
STATUSES = tuple(Creation.Status.values)
# Published by its creator: a post staff took down later was published all the same, and
# a post in the trash keeps its status (rows are never deleted: purged ones count too).
PUBLISHED = (Creation.Status.PUBLISHED, Creation.Status.TAKEN_DOWN)
# The creator's prompt was refused: not a sign of trouble with the providers or workers,
# so these do not count towards the failure alert (they still count as failed tasks).
PROMPT_REFUSALS = frozenset({"safety_filter", "policy_violation"})


# --- Pure computation ------------------------------------------------------------------


def percentile(values: Iterable[float], percent: int) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `percent`% of the values
    at or below it. With it, "p95 <= 30 s" means exactly "95% finished within 30 s"."""
    ordered = sorted(values)
    if not ordered:
        return None
    # Integer arithmetic: 0.95 * 100 in floating point is not quite 95.
    rank = max(1, -(-percent * len(ordered) // 100))
    return ordered[rank - 1]


def median(values: Iterable[float]) -> float | None:
    values = list(values)
    return statistics.median(values) if values else None


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class CreationRow:
    """What the figures need of one creation."""

    kind: str
    status: str
    created_at: datetime
    draft_at: datetime | None = None
    failed_at: datetime | None = None
    error_code: str = ""
    refunded: bool = False

    @property
    def reached_draft(self) -> bool:
        return self.draft_at is not None

    @property
    def processing_seconds(self) -> float | None:
        """From the press of Generate to the draft: what the creator waits."""
        if self.draft_at is None:
            return None
        return (self.draft_at - self.created_at).total_seconds()


@dataclass(frozen=True)
class LatencyStats:
    kind: str
    count: int
    median: float | None
    p95: float | None
    target_seconds: int
    within_target: int
    target_share: float

    @property
    def share_within_target(self) -> float | None:
        return ratio(self.within_target, self.count)

    @property
    def meets_target(self) -> bool | None:
        """None when nothing of this type finished in the window."""
        share = self.share_within_target
        return None if share is None else share >= self.target_share


def latency_stats(
    rows: Sequence[CreationRow], *, kind: str, target_seconds: int, target_share: float
) -> LatencyStats:
    seconds = [r.processing_seconds for r in rows if r.kind == kind and r.reached_draft]
    return LatencyStats(
        kind=kind,
        count=len(seconds),
        median=median(seconds),
        p95=percentile(seconds, 95),
        target_seconds=target_seconds,
        within_target=sum(1 for s in seconds if s <= target_seconds),
        target_share=target_share,
    )


@dataclass(frozen=True)
class CreationFigures:
    total: int
    by_kind_status: dict[str, dict[str, int]]
    succeeded: int
    failed: int
    # Stopped by their creators (and refunded): their choice, not a failure of ours, so
    # neither in the success rate nor in the failure alert.
    canceled: int
    failures_refunded: int
    refused_prompts: int
    finished_drafts: int
    published: int
    storage_failures: int
    failure_reasons: dict[str, int]

    @property
    def success_rate(self) -> float | None:
        """Succeeded / ended (reached draft, or failed); in-flight and canceled ones are not
        counted."""
        return ratio(self.succeeded, self.succeeded + self.failed)

    @property
    def failure_share(self) -> float | None:
        """Failed / every creation started in the window (canceled ones included: they
        were started, and did not fail)."""
        return ratio(self.failed, self.total)

    @property
    def system_failures(self) -> int:
        return self.failed - self.refused_prompts

    @property
    def system_failure_share(self) -> float | None:
        """Failures other than refused prompts / every creation started in the window."""
        return ratio(self.system_failures, self.total)

    @property
    def refund_rate(self) -> float | None:
        return ratio(self.failures_refunded, self.failed)

    @property
    def conversion(self) -> float | None:
        """Published (taken down since, or trashed, included) / creations that reached
        draft."""
        return ratio(self.published, self.finished_drafts)


def creation_figures(rows: Sequence[CreationRow]) -> CreationFigures:
    by_kind_status = {kind: dict.fromkeys(STATUSES, 0) for kind in KINDS}
    for row in rows:
        by_kind_status.setdefault(row.kind, dict.fromkeys(STATUSES, 0))[row.status] += 1
    failed = [r for r in rows if r.status == Creation.Status.FAILED]
    return CreationFigures(
        total=len(rows),
        by_kind_status=by_kind_status,
        succeeded=sum(1 for r in rows if r.reached_draft),
        failed=len(failed),
        canceled=sum(1 for r in rows if r.status == Creation.Status.CANCELED),
        failures_refunded=sum(1 for r in failed if r.refunded),
        refused_prompts=sum(1 for r in failed if r.error_code in PROMPT_REFUSALS),
        finished_drafts=sum(1 for r in rows if r.reached_draft),
        published=sum(1 for r in rows if r.status in PUBLISHED),
        storage_failures=sum(1 for r in failed if r.error_code == "storage_failed"),
        failure_reasons=dict(Counter(r.error_code for r in failed).most_common()),
    )


def past_deadline(in_flight: Iterable[Creation], *, now: datetime) -> list[Creation]:
    return [c for c in in_flight if c.is_in_flight and now >= c.deadline]


@dataclass(frozen=True)
class QueueFigures:
    depths: dict[str, int]
    failed_jobs: dict[str, int]
    workers: int | None
    error: str = ""

    @property
    def reachable(self) -> bool:
        return not self.error

    @property
    def failed_job_total(self) -> int:
        return sum(self.failed_jobs.values())


@dataclass(frozen=True)
class Thresholds:
    queue_depth: int
    failure_rate: float
    latency_targets: dict[str, int]
    target_share: float

    @classmethod
    def from_settings(cls) -> "Thresholds":
        return cls(
            queue_depth=settings.PHOENIX_ALERT_QUEUE_DEPTH,
            failure_rate=settings.PHOENIX_ALERT_FAILURE_RATE,
            latency_targets=dict(settings.PHOENIX_LATENCY_TARGETS),
            target_share=settings.PHOENIX_LATENCY_TARGET_SHARE,
        )


@dataclass(frozen=True)
class Check:
    """One red/green line. Alerts make `phoenix_alerts` exit non-zero; targets do not."""

    name: str
    label: str
    firing: bool
    detail: str
    is_target: bool = False
    no_data: bool = False

    @property
    def state(self) -> str:
        if self.no_data:
            return "no-data"
        return "red" if self.firing else "green"


@dataclass(frozen=True)
class Snapshot:
    window: str
    since: datetime
    now: datetime
    figures: CreationFigures
    latency: dict[str, LatencyStats]
    queue: QueueFigures
    discrepancies: list[Discrepancy]
    unrefunded_failures: int
    past_deadline: int
    thresholds: Thresholds
    checks: list[Check] = field(default_factory=list)
    rows: Sequence[CreationRow] = field(default=(), repr=False)

    @property
    def alerts_firing(self) -> list[Check]:
        return [c for c in self.checks if c.firing and not c.is_target]


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def duration_label(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds} s"


def seconds_label(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def evaluate_checks(
    *,
    figures: CreationFigures,
    latency: dict[str, LatencyStats],
    queue: QueueFigures,
    discrepancies: Sequence[Discrepancy],
    unrefunded_failures: int,
    past_deadline: int,
    thresholds: Thresholds,
) -> list[Check]:
    """The seed's alert thresholds and success targets, each as a red/green check."""
    checks = []
    if queue.reachable:
        deepest = max(queue.depths.values(), default=0)
        checks.append(
            Check(
                "queue_depth",
                f"Queue depth ≤ {thresholds.queue_depth}",
                deepest > thresholds.queue_depth,
                ", ".join(f"{name} {depth}" for name, depth in queue.depths.items()),
            )
        )
    else:
        checks.append(
            Check(
                "queue_depth", "Redis reachable", True, f"queue figures unavailable: {queue.error}"
            )
        )
    share = figures.system_failure_share
    checks.append(
        Check(
            "failure_rate",
            f"Failed ≤ {thresholds.failure_rate:.0%} of the window",
            share is not None and share > thresholds.failure_rate,
            f"{figures.system_failures} of {figures.total} failed ({percent(share)})"
            + (
                f"; {figures.refused_prompts} refused prompt(s) not counted"
                if figures.refused_prompts
                else ""
            ),
        )
    )
    checks.append(
        Check(
            "unrefunded_failures",
            "Every failure and cancel refunded",
            unrefunded_failures > 0,
            f"{unrefunded_failures} failed or canceled creation(s) without a refund (all time); "
            f"refund rate in the window {percent(figures.refund_rate if figures.failed else 1)}",
        )
    )
    checks.append(
        Check(
            "token_discrepancies",
            "Balances match the ledger",
            bool(discrepancies),
            f"{len(discrepancies)} account(s) off" + "".join(f"; {d}" for d in discrepancies[:3]),
        )
    )
    checks.append(
        Check(
            "storage_failures",
            "No storage upload failures",
            figures.storage_failures > 0,
            f"{figures.storage_failures} in the window",
        )
    )
    checks.append(
        Check(
            "past_deadline",
            "Nothing past its deadline",
            past_deadline > 0,
            f"{past_deadline} in-flight creation(s) past their deadline",
        )
    )
    for kind, stats in latency.items():
        met = stats.meets_target
        within = duration_label(stats.target_seconds)
        checks.append(
            Check(
                f"latency_{kind}",
                f"{stats.target_share:.0%} of {kind}s within {within}",
                met is False,
                f"{stats.within_target} of {stats.count} ({percent(stats.share_within_target)}); "
                f"p95 {seconds_label(stats.p95)}",
                is_target=True,
                no_data=met is None,
            )
        )
    return checks


def build_snapshot(
    *,
    window: str,
    now: datetime,
    rows: Sequence[CreationRow],
    queue: QueueFigures,
    discrepancies: list[Discrepancy],
    unrefunded_failures: int,
    past_deadline: int,
    thresholds: Thresholds,
) -> Snapshot:
    figures = creation_figures(rows)
    latency = {
        kind: latency_stats(
            rows,
            kind=kind,
            target_seconds=thresholds.latency_targets[kind],
            target_share=thresholds.target_share,
        )
        for kind in KINDS
    }
    checks = evaluate_checks(
        figures=figures,
        latency=latency,
        queue=queue,
        discrepancies=discrepancies,
        unrefunded_failures=unrefunded_failures,
        past_deadline=past_deadline,
        thresholds=thresholds,
    )
    return Snapshot(
        window=window,
        since=now - WINDOWS[window],
        now=now,
        figures=figures,
        latency=latency,
        queue=queue,
        discrepancies=discrepancies,
        unrefunded_failures=unrefunded_failures,
        past_deadline=past_deadline,
        thresholds=thresholds,
        checks=checks,
        rows=rows,
    )


# --- Reading the database and Redis ---------------------------------------------------


def _refunded():
    return Exists(LedgerEntry.objects.filter(creation_id=OuterRef("pk"), kind="refund"))


def creation_rows(*, since: datetime) -> list[CreationRow]:
    fields = ("kind", "status", "created_at", "draft_at", "failed_at", "error_code", "refunded")
    return [
        CreationRow(*values)
        for values in Creation.objects.filter(created_at__gte=since)
        .annotate(refunded=_refunded())
        .order_by()
        .values_list(*fields)
    ]


def unrefunded_failure_count() -> int:
    """Creations that ended without media (failed or canceled) and have no refund: each
    must have one, written in the same transaction as its status."""
    return (
        Creation.objects.filter(status__in=Creation.ENDED_WITHOUT_MEDIA)
        .annotate(refunded=_refunded())
        .filter(refunded=False)
        .count()
    )


def queue_figures() -> QueueFigures:
    try:
        depths = {name: queues.get_queue(name).count for name in QUEUE_NAMES}
        failed = {name: queues.get_queue(name).failed_job_registry.count for name in QUEUE_NAMES}
        workers = Worker.count(connection=queues.get_queue("default").connection)
    except RedisError as error:
        return QueueFigures(depths={}, failed_jobs={}, workers=None, error=str(error) or "error")
    return QueueFigures(depths=depths, failed_jobs=failed, workers=workers)


def collect(*, window: str = "24h", now: datetime | None = None) -> Snapshot:
    if window not in WINDOWS:
        raise ValueError(f"Unknown window {window!r}; use one of {', '.join(WINDOWS)}.")
    now = now or timezone.now()
    in_flight = Creation.objects.filter(status__in=Creation.IN_FLIGHT).only(
        "kind", "status", "created_at", "processing_at"
    )
    return build_snapshot(
        window=window,
        now=now,
        rows=creation_rows(since=now - WINDOWS[window]),
        queue=queue_figures(),
        discrepancies=ledger_discrepancies(),
        unrefunded_failures=unrefunded_failure_count(),
        past_deadline=len(past_deadline(in_flight, now=now)),
        thresholds=Thresholds.from_settings(),
    )


# --- Analytics ---------------------------------------------------------------------------

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
class Analytics:
    days: int
    creations_per_day: list[tuple[date, int]]
    tokens_per_day: list[tuple[date, int]]
    top_creators: list[dict]
    failure_reasons: list[tuple[str, int]]

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
    the counts per day include what its creator has trashed or purged since.
    """
    now = now or timezone.now()
    last = timezone.localdate(now)
    first = last - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    spending = LedgerEntry.objects.filter(
        created_at__gte=since, kind__in=[LedgerEntry.Kind.DEBIT, LedgerEntry.Kind.REFUND]
    )
    created = (
        Creation.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .order_by()
        .values("day")
        .annotate(n=Count("id"))
    )
    spent = (
        spending.annotate(day=TruncDate("created_at"))
        .order_by()
        .values("day")
        .annotate(net=Sum("amount"))
    )
    creators = (
        spending.order_by()
        .values("account__user_id", "account__user__username")
        .annotate(spent=-Sum("amount"), creations=Count("id", filter=Q(kind="debit")))
        .order_by("-spent", "account__user__username")[:10]
    )
    published = defaultdict(int)
    for owner_id, n in (
        Creation.objects.filter(created_at__gte=since, status__in=PUBLISHED)
        .order_by()
        .values_list("owner_id")
        .annotate(n=Count("id"))
    ):
        published[owner_id] = n
    reasons = (
        Creation.objects.filter(created_at__gte=since, status=Creation.Status.FAILED)
        .order_by()
        .values_list("error_code")
        .annotate(n=Count("id"))
        .order_by("-n", "error_code")
    )
    return Analytics(
        days=days,
        creations_per_day=daily_series(
            {row["day"]: row["n"] for row in created}, first=first, last=last
        ),
        tokens_per_day=daily_series(
            {row["day"]: -row["net"] for row in spent}, first=first, last=last
        ),
        top_creators=[
            {
                "user_id": row["account__user_id"],
                "username": row["account__user__username"],
                "tokens_spent": row["spent"],
                "creations": row["creations"],
                "published": published[row["account__user_id"]],
            }
            for row in creators
        ],
        failure_reasons=list(reasons),
    )


# --- Prometheus ---------------------------------------------------------------------------

HISTOGRAM_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 180, 300, 600)


def processing_histogram(rows: Sequence[CreationRow], *, kind: str) -> tuple[list, float]:
    """Cumulative (le, count) buckets and the sum of seconds, as Prometheus wants them."""
    seconds = [r.processing_seconds for r in rows if r.kind == kind and r.reached_draft]
    buckets = [(str(float(le)), sum(1 for s in seconds if s <= le)) for le in HISTOGRAM_BUCKETS]
    buckets.append(("+Inf", len(seconds)))
    return buckets, sum(seconds)


class PhoenixCollector:
    """The metrics page's figures for one window, plus ledger counters, on each scrape."""

    def __init__(self, *, window: str = "1h"):
        self.window = window

    def collect(self):
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        snapshot = collect(window=self.window)
        figures = snapshot.figures
        w = self.window

        creations = GaugeMetricFamily(
            "phoenix_window_creations",
            "Creations started in the window, by type and status",
            labels=["window", "kind", "status"],
        )
        for kind, statuses in figures.by_kind_status.items():
            for status, n in statuses.items():
                creations.add_metric([w, kind, status], n)
        yield creations

        for name, help_text, value in (
            ("phoenix_task_success_ratio", "Succeeded / ended tasks", figures.success_rate),
            ("phoenix_failure_ratio", "Failed / creations", figures.failure_share),
            (
                "phoenix_system_failure_ratio",
                "Failed, refused prompts not counted / creations",
                figures.system_failure_share,
            ),
            ("phoenix_refund_ratio", "Refunded failures / failures", figures.refund_rate),
            ("phoenix_conversion_ratio", "Published / reached draft", figures.conversion),
            ("phoenix_storage_failures", "Storage upload failures", figures.storage_failures),
            ("phoenix_canceled_creations", "Canceled by their creators", figures.canceled),
        ):
            gauge = GaugeMetricFamily(name, f"{help_text} (window)", labels=["window"])
            if value is not None:
                gauge.add_metric([w], value)
            yield gauge

        latency = GaugeMetricFamily(
            "phoenix_processing_seconds",
            "Generate to draft, median and 95th percentile (window)",
            labels=["window", "kind", "quantile"],
        )
        for kind, stats in snapshot.latency.items():
            for quantile, value in (("0.5", stats.median), ("0.95", stats.p95)):
                if value is not None:
                    latency.add_metric([w, kind, quantile], value)
        yield latency

        histogram = HistogramMetricFamily(
            "phoenix_creation_processing_seconds",
            "Generate to draft of the creations started in the window (recomputed per scrape)",
            labels=["window", "kind"],
        )
        for kind in KINDS:
            buckets, total = processing_histogram(snapshot.rows, kind=kind)
            histogram.add_metric([w, kind], buckets, total)
        yield histogram

        for name, help_text, value in (
            (
                "phoenix_token_discrepancies",
                "Accounts whose balance is not the ledger sum",
                len(snapshot.discrepancies),
            ),
            (
                "phoenix_unrefunded_failures",
                "Failed or canceled creations without a refund",
                snapshot.unrefunded_failures,
            ),
            (
                "phoenix_creations_past_deadline",
                "In-flight creations past their deadline",
                snapshot.past_deadline,
            ),
        ):
            gauge = GaugeMetricFamily(name, help_text)
            gauge.add_metric([], value)
            yield gauge

        if snapshot.queue.reachable:
            depth = GaugeMetricFamily("phoenix_queue_depth", "Jobs waiting", labels=["queue"])
            failed = GaugeMetricFamily(
                "phoenix_failed_jobs", "Jobs in the failed registry", labels=["queue"]
            )
            for name in QUEUE_NAMES:
                depth.add_metric([name], snapshot.queue.depths[name])
                failed.add_metric([name], snapshot.queue.failed_jobs[name])
            workers = GaugeMetricFamily("phoenix_workers", "RQ workers alive")
            workers.add_metric([], snapshot.queue.workers)
            yield from (depth, failed, workers)

        alerts = GaugeMetricFamily(
            "phoenix_check_firing", "1 when a check is red", labels=["check", "type"]
        )
        for check in snapshot.checks:
            alerts.add_metric([check.name, "target" if check.is_target else "alert"], check.firing)
        yield alerts

        # The ledger is append-only, so these are true counters.
        tokens = CounterMetricFamily(
            "phoenix_ledger_tokens", "Tokens moved, by ledger kind", labels=["kind"]
        )
        entries = CounterMetricFamily(
            "phoenix_ledger_entries", "Ledger rows, by kind", labels=["kind"]
        )
        totals = {
            row["kind"]: row
            for row in LedgerEntry.objects.order_by()
            .values("kind")
            .annotate(n=Count("id"), amount=Sum(Abs("amount")))
        }
        for kind in LedgerEntry.Kind.values:
            row = totals.get(kind, {"n": 0, "amount": 0})
            tokens.add_metric([kind], row["amount"] or 0)
            entries.add_metric([kind], row["n"])
        yield from (tokens, entries)
