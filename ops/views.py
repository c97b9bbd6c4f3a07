"""Staff-only pages: metrics and alerts, analytics, and the Prometheus endpoint."""

import uuid

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from prometheus_client.exposition import choose_encoder

from creations.models import Creation
from phoenix.bearer import bearer_matches

from . import alerting, analytics, exporter, figures
from .outcomes import WORKER_ERRORS


def _choice(request: HttpRequest, name: str, choices, default):
    value = request.GET.get(name, default)
    return value if value in choices else default


@require_GET
@never_cache
@staff_member_required
def metrics_page(request: HttpRequest) -> HttpResponse:
    window = _choice(request, "window", figures.WINDOWS, "24h")
    snapshot = figures.collect(window=window)
    f = snapshot.figures
    context = {
        **admin.site.each_context(request),
        "title": "Metrics and alerts",
        "snapshot": snapshot,
        "windows": list(figures.WINDOWS),
        "alerts": [c for c in snapshot.checks if not c.is_target],
        "targets": [c for c in snapshot.checks if c.is_target],
        "refund_rate": figures.percent(f.refund_rate if f.failed else 1),
        "success_rate": figures.percent(f.success_rate),
        "conversion": figures.percent(f.conversion),
        "failure_share": figures.percent(f.failure_share),
        "worker_error_rate": figures.percent(f.worker_error_rate),
        "worker_error_codes": sorted(WORKER_ERRORS),
        "by_kind": [
            {
                "kind": kind,
                "outcomes": outcomes,
                "success_rate": figures.percent(outcomes.success_rate),
                "worker_error_rate": figures.percent(outcomes.worker_error_rate),
                "refund_rate": figures.percent(outcomes.refund_rate),
                "conversion": figures.percent(outcomes.conversion),
            }
            for kind, outcomes in f.by_kind.items()
        ],
        "latency": [
            {
                "kind": stats.kind,
                "count": stats.count,
                "mean": figures.seconds_label(stats.mean),
                "median": figures.seconds_label(stats.median),
                "p95": figures.seconds_label(stats.p95),
                "within": figures.percent(stats.share_within_target),
                "target": figures.duration_label(stats.target_seconds),
                "average_target": figures.duration_label(stats.average_target),
                "meets_average": stats.meets_average,
                "meets_target": stats.meets_target,
            }
            for stats in snapshot.latency.values()
        ],
        "statuses": [Creation.Status(status).label for status in figures.STATUSES],
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
    days = int(_choice(request, "days", [str(d) for d in analytics.ANALYTICS_DAYS], "30"))
    result = analytics.collect_analytics(days=days)
    context = {
        **admin.site.each_context(request),
        "title": "Analytics",
        "analytics": result,
        "day_choices": analytics.ANALYTICS_DAYS,
        "kinds": figures.KINDS,
        "creations_chart": result.creations_chart,
        "tokens_chart": result.tokens_chart,
        "refunds_chart": result.refunds_chart,
        "success_chart": result.success_chart,
    }
    return render(request, "ops/analytics.html", context)


def _metrics_access(request: HttpRequest) -> int | None:
    """None when allowed, else the status to answer: 401 without credentials, 403 wrong."""
    if request.headers.get("Authorization", ""):
        return None if bearer_matches(request, settings.PHOENIX_METRICS_TOKEN) else 403
    if request.user.is_authenticated:
        return None if request.user.is_active and request.user.is_staff else 403
    return 401


@require_GET
@never_cache
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    denied = _metrics_access(request)
    if denied is not None:
        response = HttpResponse("Bearer token or staff session required.\n", status=denied)
        if denied == 401:
            response["WWW-Authenticate"] = 'Bearer realm="phoenix-metrics"'
        return response
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(exporter.registry()), content_type=content_type)


# --- Alerts: incidents, who was told, silences ---------------------------------------------


def _alerts_page(
    request: HttpRequest,
    *,
    error: str = "",
    form: dict | None = None,
    status: int = 200,
    checks: dict[str, str] | None = None,
) -> HttpResponse:
    overview = alerting.alerts_overview(page=request.GET.get("page"))
    checks = checks if checks is not None else alerting.alert_checks()
    context = {
        **admin.site.each_context(request),
        "title": "Alerts",
        "overview": overview,
        "checks": checks,
        "silences": [
            (silence, checks.get(silence.check_name, "")) for silence in overview.silences
        ],
        "durations": [(key, label) for key, (label, _) in alerting.SILENCE_DURATIONS.items()],
        "reason_max": alerting.SILENCE_REASON_MAX,
        "can_silence": request.user.has_perm("ops.silence_alert"),
        "error": error,
        "form": form or {},
        "window": settings.PHOENIX_ALERT_WINDOW,
        "emails": settings.PHOENIX_ALERT_EMAILS,
        "webhook": bool(settings.PHOENIX_ALERT_WEBHOOK_URL),
    }
    return render(request, "ops/alerts.html", context, status=status)


@require_GET
@never_cache
@staff_member_required
def alerts_page(request: HttpRequest) -> HttpResponse:
    return _alerts_page(request)


SILENCE_PERMISSION_MISSING = (
    "You may see alerts but not silence them: that takes the “Can silence an alert and "
    "end a silence” permission."
)


@require_POST
@never_cache
@staff_member_required
def alerts_silence(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("ops.silence_alert"):
        return _alerts_page(request, error=SILENCE_PERMISSION_MISSING, status=403)
    checks = alerting.alert_checks()
    try:
        silence = alerting.silence_create(
            user=request.user,
            check_name=request.POST.get("check", ""),
            duration=request.POST.get("duration", ""),
            reason=request.POST.get("reason", ""),
            known_checks=checks,
        )
    except alerting.SilenceError as error:
        return _alerts_page(
            request, error=error.message, form=request.POST.dict(), status=400, checks=checks
        )
    messages.success(
        request,
        f"“{checks[silence.check_name]}” ({silence.check_name}) silenced until "
        f"{silence.ends_at:%Y-%m-%d %H:%M} UTC: its incidents are recorded, nobody is told.",
    )
    return redirect("staff_alerts")


@require_POST
@never_cache
@staff_member_required
def alerts_end_silence(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("ops.silence_alert"):
        return _alerts_page(request, error=SILENCE_PERMISSION_MISSING, status=403)
    try:
        code = uuid.UUID(request.POST.get("silence", ""))
    except ValueError:
        return _alerts_page(request, error="That silence does not exist.", status=400)
    try:
        silence = alerting.silence_end(user=request.user, code=code)
    except alerting.SilenceError as error:
        status = 404 if error.code == "not_found" else 400
        return _alerts_page(request, error=error.message, status=status)
    messages.success(
        request,
        f"The silence of {silence.check_name} is over: the next run (within a minute) tells "
        "whatever it held back that is still true.",
    )
    return redirect("staff_alerts")
