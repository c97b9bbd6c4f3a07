"""Staff-only pages: metrics and alerts, analytics, and the Prometheus endpoint."""

from secrets import compare_digest

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_rq.contrib.prometheus import RQCollector
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from creations.models import Creation

from . import metrics


def _choice(request: HttpRequest, name: str, choices, default):
    value = request.GET.get(name, default)
    return value if value in choices else default


@require_GET
@never_cache
@staff_member_required
def metrics_page(request: HttpRequest) -> HttpResponse:
    window = _choice(request, "window", metrics.WINDOWS, "24h")
    snapshot = metrics.collect(window=window)
    context = {
        **admin.site.each_context(request),
        "title": "Metrics and alerts",
        "snapshot": snapshot,
        "windows": list(metrics.WINDOWS),
        "alerts": [c for c in snapshot.checks if not c.is_target],
        "targets": [c for c in snapshot.checks if c.is_target],
        "refund_rate": metrics.percent(
            snapshot.figures.refund_rate if snapshot.figures.failed else 1
        ),
        "success_rate": metrics.percent(snapshot.figures.success_rate),
        "conversion": metrics.percent(snapshot.figures.conversion),
        "failure_share": metrics.percent(snapshot.figures.failure_share),
        "latency": [
            {
                "kind": stats.kind,
                "count": stats.count,
                "median": metrics.seconds_label(stats.median),
                "p95": metrics.seconds_label(stats.p95),
                "within": metrics.percent(stats.share_within_target),
                "target": metrics.duration_label(stats.target_seconds),
            }
            for stats in snapshot.latency.values()
        ],
        "statuses": [Creation.Status(status).label for status in metrics.STATUSES],
        "queue_rows": [
            (name, depth, snapshot.queue.failed_jobs.get(name, 0))
            for name, depth in snapshot.queue.depths.items()
        ],
    }
    return render(request, "ops/metrics.html", context)


@require_GET
@never_cache
@staff_member_required
def analytics_page(request: HttpRequest) -> HttpResponse:
    days = int(_choice(request, "days", [str(d) for d in metrics.ANALYTICS_DAYS], "30"))
    analytics = metrics.collect_analytics(days=days)
    context = {
        **admin.site.each_context(request),
        "title": "Analytics",
        "analytics": analytics,
        "day_choices": metrics.ANALYTICS_DAYS,
        "creations_chart": analytics.creations_chart,
        "tokens_chart": analytics.tokens_chart,
    }
    return render(request, "ops/analytics.html", context)


def _metrics_access(request: HttpRequest) -> int | None:
    """None when allowed, else the status to answer: 401 without credentials, 403 wrong."""
    header = request.headers.get("Authorization", "")
    token = settings.PHOENIX_METRICS_TOKEN
    if header:
        scheme, _, given = header.partition(" ")
        if scheme.lower() == "bearer" and token and compare_digest(given.strip(), token):
            return None
        return 403
    if request.user.is_authenticated:
        return None if request.user.is_active and request.user.is_staff else 403
    return 401


_registries: dict[str, CollectorRegistry] = {}


def _registry(window: str) -> CollectorRegistry:
    registry = _registries.get(window)
    if registry is None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(metrics.PhoenixCollector(window=window))
        # RQ's own figures (workers, job counts per queue and status), from django-rq.
        registry.register(RQCollector())
        _registries[window] = registry
    return registry


@require_GET
@never_cache
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    denied = _metrics_access(request)
    if denied is not None:
        response = HttpResponse("Bearer token or staff session required.\n", status=denied)
        if denied == 401:
            response["WWW-Authenticate"] = 'Bearer realm="phoenix-metrics"'
        return response
    window = _choice(request, "window", metrics.WINDOWS, "1h")
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(_registry(window)), content_type=content_type)
