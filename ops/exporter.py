"""What /metrics tells Prometheus.

Counters are counted when the event happens (ops/counters.py: one Redis hash that every
web process, work horse and host adds to), so Prometheus's rate() and increase() work on
them and the alert rules in ops/prometheus/alerts.yml compute failure rates and latency
quantiles over whatever window they choose:

- phoenix_creations_completed_total{kind}
- phoenix_creations_failed_total{kind,code}
- phoenix_creations_refunded_total{kind}, phoenix_refunded_tokens_total
- phoenix_creations_canceled_total{kind}
- phoenix_posts_published_total{kind,scheduled} (scheduled="true": a scheduled post's
  time came)
- phoenix_creation_events_total{event,kind}: the other events (scheduled, unpublished,
  trashed, restored, purged, taken_down, reinstated)
- phoenix_creation_seconds{kind}: a histogram of Generate → draft, observed at the draft
- phoenix_ledger_tokens_total{kind}, phoenix_ledger_entries_total{kind}: read from the
  append-only ledger, so they only grow too

The counters live in Redis: if that Redis is flushed (or replaced by an empty one) they
start again from 0. Prometheus treats a counter that goes down as a reset, so rate() and
increase() stay right; only the increments between the last scrape and the flush are lost.
While that Redis cannot be read, the counters are left out of the scrape (and
phoenix_counters_up is 0) rather than exported as zeros.

Gauges are for the current state only: queue depth, failed jobs and workers per RQ,
creations in flight per type and status, past their deadline, ledger discrepancies,
failures without a refund, and when the alert checks last ran. RQ's own figures come
from django-rq's RQCollector.
"""

import logging
from collections import defaultdict

from django.utils import timezone
from django_rq.contrib.prometheus import RQCollector
from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.utils import floatToGoString
from redis.exceptions import RedisError

from creations.events import EVENTS
from creations.services import FAILURE_MESSAGES

from . import alerting, counters, figures, rollup

log = logging.getLogger(__name__)

# Counted on a metric of their own; the rest go to phoenix_creation_events_total.
NAMED_EVENTS = ("completed", "failed", "refunded", "canceled", "published")
OTHER_EVENTS = tuple(event for event in EVENTS if event not in NAMED_EVENTS)


Parsed = dict[str, dict[tuple[str, ...], float]]


def parse(values: dict[str, float]) -> Parsed:
    """The hash's fields as {metric: {labels: value}}."""
    parsed: Parsed = defaultdict(dict)
    for name, value in values.items():
        metric, *labels = name.split(counters.SEP)
        parsed[metric][tuple(labels)] = value
    return parsed


def counter_families(values: dict[str, float]):
    """The counters from the hash's fields. Every series Phoenix can produce is exported
    from the start (as 0), so the first event is an increase rate() can see."""
    parsed = parse(values)

    def family(metric, name, help_text, labels, keys):
        result = CounterMetricFamily(name, help_text, labels=labels)
        for key in sorted(set(keys) | set(parsed[metric])):
            if len(key) == len(labels):
                result.add_metric(list(key), parsed[metric].get(key, 0))
        return result

    kinds = [(kind,) for kind in figures.KINDS]
    yield family(
        "completed", "phoenix_creations_completed", "Creations that reached draft", ["kind"], kinds
    )
    yield family(
        "failed",
        "phoenix_creations_failed",
        "Creations that failed, by error code",
        ["kind", "code"],
        [(kind, code) for kind in figures.KINDS for code in FAILURE_MESSAGES],
    )
    yield family(
        "refunded",
        "phoenix_creations_refunded",
        "Refunds written (failures and cancels)",
        ["kind"],
        kinds,
    )
    tokens = CounterMetricFamily("phoenix_refunded_tokens", "Tokens given back by refunds")
    tokens.add_metric([], parsed["refunded_tokens"].get((), 0))
    yield tokens
    yield family(
        "canceled",
        "phoenix_creations_canceled",
        "Creations canceled by their creators",
        ["kind"],
        kinds,
    )
    yield family(
        "published",
        "phoenix_posts_published",
        'Drafts published (scheduled="true": at their scheduled time)',
        ["kind", "scheduled"],
        [(kind, s) for kind in figures.KINDS for s in ("false", "true")],
    )
    yield family(
        "event",
        "phoenix_creation_events",
        "Other creation events",
        ["event", "kind"],
        [(event, kind) for event in OTHER_EVENTS for kind in figures.KINDS],
    )
    yield histogram_family(parsed)


def histogram_family(parsed: Parsed) -> HistogramMetricFamily:
    histogram = HistogramMetricFamily(
        "phoenix_creation_seconds",
        "Generate to draft, observed when the draft is ready",
        labels=["kind"],
    )
    bounds = [str(b) for b in counters.HISTOGRAM_BUCKETS] + ["+Inf"]
    for kind in figures.KINDS:
        running, buckets = 0.0, []
        for bound in bounds:
            running += parsed["seconds_bucket"].get((kind, bound), 0)
            label = bound if bound == "+Inf" else floatToGoString(float(bound))
            buckets.append((label, running))
        histogram.add_metric([kind], buckets, parsed["seconds_sum"].get((kind,), 0))
    return histogram


def gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    result = GaugeMetricFamily(name, help_text)
    result.add_metric([], value)
    return result


class PhoenixCollector:
    """Counters from Redis, current state from PostgreSQL and Redis, on each scrape."""

    def collect(self):
        try:
            values = counters.read()
        except RedisError:
            log.warning("Could not read the counters from Redis", exc_info=True)
            values = None
        yield gauge(
            "phoenix_counters_up", "1 when the event counters could be read", values is not None
        )
        if values is not None:
            yield from counter_families(values)

        in_flight = GaugeMetricFamily(
            "phoenix_creations_in_flight",
            "Creations pending or processing now",
            labels=["kind", "status"],
        )
        for (kind, status), n in figures.in_flight_counts().items():
            in_flight.add_metric([kind, status], n)
        yield in_flight
        yield gauge(
            "phoenix_creations_past_deadline",
            "In-flight creations past their deadline",
            figures.past_deadline_count(now=timezone.now()),
        )
        yield gauge(
            "phoenix_token_discrepancies",
            "Accounts whose balance is not the sum of their ledger",
            len(rollup.ledger_discrepancies()),
        )
        yield gauge(
            "phoenix_unrefunded_failures",
            "Failed or canceled creations without a refund (must be 0)",
            figures.unrefunded_failure_count(),
        )
        # Nothing else tells when the alert checks themselves stop (rqcron or the default
        # worker down): Prometheus alerts on this growing old.
        ran_at = alerting.last_run_at()
        yield gauge(
            "phoenix_alerts_last_run_timestamp_seconds",
            "When the alert checks last ran (Unix time; 0: never)",
            ran_at.timestamp() if ran_at else 0,
        )

        queue = figures.queue_figures()
        yield gauge("phoenix_redis_up", "1 when the queue Redis answered", queue.reachable)
        if queue.reachable:
            depth = GaugeMetricFamily("phoenix_queue_depth", "Jobs waiting", labels=["queue"])
            failed = GaugeMetricFamily(
                "phoenix_failed_jobs", "Jobs in the failed registry", labels=["queue"]
            )
            for name in figures.QUEUE_NAMES:
                depth.add_metric([name], queue.depths[name])
                failed.add_metric([name], queue.failed_jobs[name])
            yield from (depth, failed, gauge("phoenix_workers", "RQ workers alive", queue.workers))

        # The ledger is append-only, so these are true counters (the rollup's sums plus the
        # rows since: no pass over the ledger per scrape).
        tokens = CounterMetricFamily(
            "phoenix_ledger_tokens", "Tokens moved, by ledger kind (unsigned)", labels=["kind"]
        )
        entries = CounterMetricFamily(
            "phoenix_ledger_entries", "Ledger rows, by kind", labels=["kind"]
        )
        for kind, (n, moved) in rollup.ledger_kind_totals().items():
            tokens.add_metric([kind], moved)
            entries.add_metric([kind], n)
        yield from (tokens, entries)


_registry: CollectorRegistry | None = None


def registry() -> CollectorRegistry:
    global _registry
    if _registry is None:
        built = CollectorRegistry(auto_describe=False)
        built.register(PhoenixCollector())
        # RQ's own figures (workers, job counts per queue and status), from django-rq.
        built.register(RQCollector())
        _registry = built
    return _registry
