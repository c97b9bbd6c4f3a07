"""The pure part of the staff figures: creation rows (or groups of them) in, outcomes and
latencies out — no database, no Redis, so tests check them on rows with known answers.
ops.figures reads the rows and builds the snapshot from these."""

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from creations.models import Creation

KINDS = tuple(Creation.Kind.values)
STATUSES = tuple(Creation.Status.values)
# Published by its creator: a post staff took down later was published all the same, and
# a post in the trash keeps its status.
PUBLISHED = (Creation.Status.PUBLISHED, Creation.Status.TAKEN_DOWN)
# Failures that are ours, of a job a worker ran: the worker died (worker_lost), the job
# ran out of time (timed_out), our code broke (generation_failed), the result could not
# be stored (storage_failed). Not counted: refused prompts; the provider unavailable
# after its retries or losing its task (provider_unavailable, task_lost); a job that never
# ran (queue_unavailable, queue_stalled); a staff stop (staff_refund).
WORKER_ERRORS = frozenset({"worker_lost", "timed_out", "generation_failed", "storage_failed"})
# The seed's "Average Processing Time": images under 20 s, videos under 2 minutes.
AVERAGE_TARGETS = {"image": 20, "video": 120}
# The seed's "Worker error rate < 1%".
WORKER_ERROR_TARGET = 0.01


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


def mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return statistics.fmean(values) if values else None


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
    # Claimed by a worker: a job ran for it.
    processing_at: datetime | None = None
    # How many creations this row stands for (one; see CreationGroup).
    count = 1

    @property
    def reached_draft(self) -> bool:
        return self.draft_at is not None

    @property
    def job_ran(self) -> bool:
        return self.processing_at is not None or self.reached_draft

    @property
    def processing_seconds(self) -> float | None:
        """From the press of Generate to the draft: what the creator waits."""
        if self.draft_at is None:
            return None
        return (self.draft_at - self.created_at).total_seconds()

    @property
    def draft_seconds(self) -> tuple[float, ...]:
        return () if self.draft_at is None else (self.processing_seconds,)


@dataclass(frozen=True)
class CreationGroup:
    """`count` creations alike in all that outcomes() asks of a row, with the time each of
    them took to reach its draft: what the window's figures need, read grouped by SQL
    (creation_groups) instead of a row per creation."""

    kind: str
    status: str
    error_code: str
    job_ran: bool
    reached_draft: bool
    refunded: bool
    count: int
    draft_seconds: tuple[float, ...] = ()


@dataclass(frozen=True)
class LatencyStats:
    kind: str
    count: int
    mean: float | None
    median: float | None
    p95: float | None
    target_seconds: int
    within_target: int
    target_share: float
    average_target: int

    @property
    def share_within_target(self) -> float | None:
        return ratio(self.within_target, self.count)

    @property
    def meets_target(self) -> bool | None:
        """None when nothing of this type finished in the window."""
        share = self.share_within_target
        return None if share is None else share >= self.target_share

    @property
    def meets_average(self) -> bool | None:
        return None if self.mean is None else self.mean < self.average_target


def latency_stats(
    rows: Sequence[CreationRow | CreationGroup],
    *,
    kind: str,
    target_seconds: int,
    target_share: float,
    average_target: int | None = None,
) -> LatencyStats:
    seconds = [s for r in rows if r.kind == kind for s in r.draft_seconds]
    return LatencyStats(
        kind=kind,
        count=len(seconds),
        mean=mean(seconds),
        median=median(seconds),
        p95=percentile(seconds, 95),
        target_seconds=target_seconds,
        within_target=sum(1 for s in seconds if s <= target_seconds),
        target_share=target_share,
        average_target=AVERAGE_TARGETS[kind] if average_target is None else average_target,
    )


@dataclass(frozen=True)
class Outcomes:
    """How the creations of one set (all, or one type) ended."""

    total: int
    succeeded: int
    failed: int
    # Stopped by their creators (and refunded): their choice, not a failure of ours, so
    # neither in the success rate nor in the failure alert.
    canceled: int
    in_flight: int
    failures_refunded: int
    cancels_refunded: int
    refused_prompts: int
    worker_errors: int
    jobs_run: int
    published: int
    storage_failures: int

    @property
    def finished_drafts(self) -> int:
        return self.succeeded

    @property
    def success_rate(self) -> float | None:
        """Succeeded / ended (reached draft, or failed); in-flight and canceled ones are not
        counted."""
        return ratio(self.succeeded, self.succeeded + self.failed)

    @property
    def failure_share(self) -> float | None:
        """Failed / every creation started (canceled ones included: they were started,
        and did not fail)."""
        return ratio(self.failed, self.total)

    @property
    def system_failures(self) -> int:
        return self.failed - self.refused_prompts

    @property
    def system_failure_share(self) -> float | None:
        """Failures other than refused prompts / every creation started."""
        return ratio(self.system_failures, self.total)

    @property
    def worker_error_rate(self) -> float | None:
        """Failures that are ours (WORKER_ERRORS) / jobs a worker ran."""
        return ratio(self.worker_errors, self.jobs_run)

    @property
    def refund_rate(self) -> float | None:
        """Refunded failures / failures: must be 100%."""
        return ratio(self.failures_refunded, self.failed)

    @property
    def conversion(self) -> float | None:
        """Published (taken down since, or trashed, included) / creations that reached
        draft."""
        return ratio(self.published, self.succeeded)


def outcomes(rows: Sequence[CreationRow | CreationGroup]) -> Outcomes:
    failed = [r for r in rows if r.status == Creation.Status.FAILED]
    canceled = [r for r in rows if r.status == Creation.Status.CANCELED]

    def total(of) -> int:
        return sum(r.count for r in of)

    return Outcomes(
        total=total(rows),
        succeeded=total(r for r in rows if r.reached_draft),
        failed=total(failed),
        canceled=total(canceled),
        in_flight=total(r for r in rows if r.status in Creation.IN_FLIGHT),
        failures_refunded=total(r for r in failed if r.refunded),
        cancels_refunded=total(r for r in canceled if r.refunded),
        # The creator's prompt was refused (by our check or the provider's): not a sign of
        # trouble with the providers or workers, so these count towards neither the failure
        # alert nor the worker errors (they still count as failed tasks in the success rate).
        refused_prompts=total(r for r in failed if r.error_code in Creation.REFUSAL_CODES),
        worker_errors=total(r for r in failed if r.job_ran and r.error_code in WORKER_ERRORS),
        jobs_run=total(r for r in rows if r.job_ran),
        published=total(r for r in rows if r.status in PUBLISHED),
        storage_failures=total(r for r in failed if r.error_code == "storage_failed"),
    )


@dataclass(frozen=True)
class CreationFigures(Outcomes):
    by_kind_status: dict[str, dict[str, int]]
    failure_reasons: dict[str, int]
    by_kind: dict[str, Outcomes]


def creation_figures(rows: Sequence[CreationRow | CreationGroup]) -> CreationFigures:
    by_kind_status = {kind: dict.fromkeys(STATUSES, 0) for kind in KINDS}
    reasons: Counter[str] = Counter()
    for row in rows:
        by_kind_status.setdefault(row.kind, dict.fromkeys(STATUSES, 0))[row.status] += row.count
        if row.status == Creation.Status.FAILED:
            reasons[row.error_code] += row.count
    return CreationFigures(
        **vars(outcomes(rows)),
        by_kind_status=by_kind_status,
        failure_reasons=dict(reasons.most_common()),
        by_kind={kind: outcomes([r for r in rows if r.kind == kind]) for kind in by_kind_status},
    )
