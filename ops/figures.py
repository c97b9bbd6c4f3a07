"""Health and money figures for staff: the metrics page, `phoenix_alerts` and the alert
delivery read them through `collect()`.

Every creation ever started counts. Rows are never deleted: one in the trash keeps its
status, a purged one keeps its row (only its files and words go), an expired draft is
trashed, and a deactivated creator's creations stay. So a failure its creator deleted
still counts against the failure alert, and a post trashed since still counts as
published.

Reading and computing are kept apart: the functions that turn rows into figures and
figures into red/green checks are pure, so tests check them on rows with known answers;
`creation_rows()`, `creation_groups()` and `collect()` read PostgreSQL and Redis and feed
them.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from redis.exceptions import RedisError
from rq import Worker

from creations.models import Creation
from phoenix import redis_clients
from profiles import welcome
from tokens.selectors import refund_exists, refunded_sql
from tokens.services import Discrepancy

from . import rollup
from .outcomes import (
    AVERAGE_TARGETS,
    KINDS,
    STATUSES,
    WORKER_ERROR_TARGET,
    CreationFigures,
    CreationGroup,
    CreationRow,
    LatencyStats,
    creation_figures,
    latency_stats,
)

# None: since the first creation.
WINDOWS: dict[str, timedelta | None] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "all": None,
}
QUEUE_NAMES = ("images", "videos", "default", "light", "housekeeping")


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
    average_targets: dict[str, int] = field(default_factory=lambda: dict(AVERAGE_TARGETS))
    worker_error_rate: float = WORKER_ERROR_TARGET
    cancels_after_submit: int = 0  # 0: the check is off

    @classmethod
    def from_settings(cls) -> "Thresholds":
        return cls(
            queue_depth=settings.PHOENIX_ALERT_QUEUE_DEPTH,
            failure_rate=settings.PHOENIX_ALERT_FAILURE_RATE,
            latency_targets=dict(settings.PHOENIX_LATENCY_TARGETS),
            target_share=settings.PHOENIX_LATENCY_TARGET_SHARE,
            cancels_after_submit=settings.PHOENIX_ALERT_CANCELS_AFTER_SUBMIT,
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
    # None for the "all" window.
    since: datetime | None
    now: datetime
    figures: CreationFigures
    latency: dict[str, LatencyStats]
    queue: QueueFigures
    discrepancies: list[Discrepancy]
    unrefunded_failures: int
    past_deadline: int
    thresholds: Thresholds
    checks: list[Check] = field(default_factory=list)
    rows: Sequence[CreationRow | CreationGroup] = field(default=(), repr=False)
    heavy_cancelers: Sequence[tuple[str, int]] = ()

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
    heavy_cancelers: Sequence[tuple[str, int]] = (),
) -> list[Check]:
    """The seed's alert thresholds and success targets, each as a red/green check.
    `heavy_cancelers`: (username, n) of the accounts that canceled at least the threshold
    of creations after their task reached the provider, in the window."""
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
    limit = thresholds.cancels_after_submit
    checks.append(
        Check(
            "cancels_after_submit",
            f"No account cancels {limit} or more creations after provider submission"
            if limit
            else "Cancels after provider submission (check off)",
            bool(limit and heavy_cancelers),
            "; ".join(f"{name}: {n} canceled after submission" for name, n in heavy_cancelers)
            or "none",
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
    for kind, stats in latency.items():
        met = stats.meets_average
        checks.append(
            Check(
                f"average_{kind}",
                f"{kind.capitalize()}s take under {duration_label(stats.average_target)} "
                "on average",
                met is False,
                f"mean {seconds_label(stats.mean)} over {stats.count}",
                is_target=True,
                no_data=met is None,
            )
        )
    rate = figures.worker_error_rate
    checks.append(
        Check(
            "worker_errors",
            f"Worker errors < {thresholds.worker_error_rate:.0%} of jobs run",
            rate is not None and rate >= thresholds.worker_error_rate,
            f"{figures.worker_errors} of {figures.jobs_run} jobs ({percent(rate)})",
            is_target=True,
            no_data=rate is None,
        )
    )
    return checks


def build_snapshot(
    *,
    window: str,
    now: datetime,
    rows: Sequence[CreationRow | CreationGroup],
    queue: QueueFigures,
    discrepancies: list[Discrepancy],
    unrefunded_failures: int,
    past_deadline: int,
    thresholds: Thresholds,
    heavy_cancelers: Sequence[tuple[str, int]] = (),
) -> Snapshot:
    figures = creation_figures(rows)
    latency = {
        kind: latency_stats(
            rows,
            kind=kind,
            target_seconds=thresholds.latency_targets[kind],
            target_share=thresholds.target_share,
            average_target=thresholds.average_targets[kind],
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
        heavy_cancelers=heavy_cancelers,
    )
    span = WINDOWS[window]
    return Snapshot(
        window=window,
        since=None if span is None else now - span,
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
        heavy_cancelers=heavy_cancelers,
    )


# --- Reading the database and Redis ---------------------------------------------------

ROW_FIELDS = (
    "kind",
    "status",
    "created_at",
    "draft_at",
    "failed_at",
    "error_code",
    "refunded",
    "processing_at",
)


def creation_rows(*, since: datetime | None = None) -> list[CreationRow]:
    """Every creation started since `since` (all when None), whatever happened to it or its
    owner since: no filter on the trash, the purge or the owner's account."""
    # status__in every status: the (status, created_at) index then serves the window, where a
    # bare created_at range reads the whole table (there is no index on created_at alone).
    creations = (
        Creation.objects.all()
        if since is None
        else Creation.objects.filter(status__in=STATUSES, created_at__gte=since)
    )
    return [
        CreationRow(*values)
        for values in creations.annotate(refunded=refund_exists())
        .order_by()
        .values_list(*ROW_FIELDS)
    ]


def creation_groups(*, since: datetime | None = None) -> list[CreationGroup]:
    """The creations started since `since` (all when None) as creation_rows() reads them,
    grouped in SQL by what the figures count: a window's alert run or metrics page costs a
    few groups and one array of seconds per group, not a Python object per creation."""
    table = Creation._meta.db_table
    window, window_params = "", []
    if since is not None:
        # As creation_rows: every status, so that the (status, created_at) index serves it.
        window = "WHERE status = ANY(%s) AND created_at >= %s"
        window_params = [list(STATUSES), since]
    # Only a creation that ended without media asks whether it was refunded (the figures
    # ask no other): a draft costs no probe of the ledger.
    refunded, refunded_params = refunded_sql(table)
    sql = (
        "SELECT kind, status, error_code, "  # nosec B608
        "(processing_at IS NOT NULL OR draft_at IS NOT NULL), draft_at IS NOT NULL, "
        f"CASE WHEN status = ANY(%s) THEN {refunded} ELSE false END, count(*), "
        "array_agg(EXTRACT(EPOCH FROM draft_at - created_at)::float8) "
        f"FILTER (WHERE draft_at IS NOT NULL) FROM {table} {window} GROUP BY 1, 2, 3, 4, 5, 6"
    )
    params = [list(Creation.ENDED_WITHOUT_MEDIA), *refunded_params, *window_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            CreationGroup(*values, draft_seconds=tuple(seconds or ()))
            for *values, seconds in cursor.fetchall()
        ]


def unrefunded_failure_count() -> int:
    """Creations that ended without media (failed or canceled) and have no refund: each
    must have one, written in the same transaction as its status. Read from the rollup
    (ops.rollup), not over every failure there ever was."""
    return rollup.unrefunded_failure_count()


def in_flight_counts() -> dict[tuple[str, str], int]:
    """{(kind, status): n} for every in-flight kind and status, zeros included."""
    counts = dict.fromkeys(((k, s) for k in KINDS for s in Creation.IN_FLIGHT), 0)
    for kind, status, n in (
        Creation.objects.filter(status__in=Creation.IN_FLIGHT)
        .order_by()
        .values_list("kind", "status")
        .annotate(n=Count("id"))
    ):
        counts[(kind, status)] = n
    return counts


def past_deadline_count(*, now: datetime) -> int:
    # Counted in SQL (Creation.deadline's rule as a filter): a deep queue is thousands of
    # pending creations, not to be read row by row on every scrape.
    return Creation.objects.past_deadline(now=now).count()


# Accounts named in the alert's detail, at most.
HEAVY_CANCELERS_SHOWN = 10


def heavy_cancelers(*, since: datetime | None, threshold: int) -> list[tuple[str, int]]:
    """(username, n): accounts with at least `threshold` creations canceled after their task
    reached the provider (a task id recorded) since `since`, most first. One grouped read
    along the partial index creation_canceled_remote (canceled, with a task id): the rows
    of the window only, never every creation."""
    if not threshold:
        return []
    rows = Creation.objects.filter(status=Creation.Status.CANCELED).exclude(provider_task_id="")
    if since is not None:
        rows = rows.filter(canceled_at__gte=since)
    return list(
        rows.order_by()
        .values("owner__username")
        .annotate(n=Count("id"))
        .filter(n__gte=threshold)
        .order_by("-n", "owner__username")
        .values_list("owner__username", "n")[:HEAVY_CANCELERS_SHOWN]
    )


def queue_figures() -> QueueFigures:
    every = {name: redis_clients.get_queue(name) for name in QUEUE_NAMES}
    # One round trip per Redis for every depth and failed registry, not a few per queue.
    # The failed counts skip RQ's clean-up of expired entries (the workers' maintenance
    # does it).
    pipes = {}
    for queue in every.values():
        pipe = pipes.setdefault(id(queue.connection), queue.connection.pipeline(False))
        if queue.fair:
            pipe.zcard(queue.order_key)
        else:
            pipe.llen(queue.key)
        pipe.zcard(queue.failed_job_registry.key)
    try:
        answers = {key: iter(pipe.execute()) for key, pipe in pipes.items()}
        depths, failed = {}, {}
        for name, queue in every.items():
            counts = answers[id(queue.connection)]
            depths[name], failed[name] = next(counts), next(counts)
        workers = Worker.count(connection=every["default"].connection)
    except RedisError as error:
        return QueueFigures(depths={}, failed_jobs={}, workers=None, error=str(error) or "error")
    return QueueFigures(depths=depths, failed_jobs=failed, workers=workers)


def welcome_cap_check() -> Check:
    """The day's welcome grants near PHOENIX_WELCOME_GRANTS_PER_DAY (one row read): a farm
    got past the per-address and per-network limits, or the site has a very good day;
    someone should look before real creators wait for their tokens."""
    cap = settings.PHOENIX_WELCOME_GRANTS_PER_DAY
    share = settings.PHOENIX_WELCOME_CAP_ALERT_SHARE
    if not cap:
        return Check("welcome_cap", "Welcome grants under the daily cap", False, "no cap set")
    granted = welcome.granted_today()
    held = f"; {welcome.held_count()} waiting for tomorrow" if granted >= cap else ""
    return Check(
        "welcome_cap",
        f"Welcome grants under {share:.0%} of the daily cap",
        granted >= cap * share,
        f"{granted} of {cap} granted today (UTC){held}",
    )


def collect(*, window: str = "24h", now: datetime | None = None) -> Snapshot:
    if window not in WINDOWS:
        raise ValueError(f"Unknown window {window!r}; use one of {', '.join(WINDOWS)}.")
    now = now or timezone.now()
    span = WINDOWS[window]
    thresholds = Thresholds.from_settings()
    snapshot = build_snapshot(
        window=window,
        now=now,
        rows=creation_groups(since=None if span is None else now - span),
        queue=queue_figures(),
        discrepancies=rollup.ledger_discrepancies(),
        unrefunded_failures=unrefunded_failure_count(),
        past_deadline=past_deadline_count(now=now),
        thresholds=thresholds,
        heavy_cancelers=heavy_cancelers(
            since=None if span is None else now - span,
            threshold=thresholds.cancels_after_submit,
        ),
    )
    snapshot.checks.append(welcome_cap_check())
    return snapshot
