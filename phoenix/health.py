"""Probes for load balancers and process managers.

/healthz says the process answers and touches nothing (no database, no Redis, no
session): a failing dependency must not get every web process restarted. /readyz says
whether this process can do its work now: the database, the queue Redis and the media
storage answer; 503 names the ones that did not. Neither reads the session or sets a
cookie, so they are cheap enough to be probed every few seconds.

/readyz is public (load balancers probe without credentials), so it says only which
dependency failed; the error class and the warnings go to a caller with the metrics
token. It logs when its answer changes, not on every probe.

Each process answers /readyz from its probes' results for PHOENIX_READYZ_CACHE_SECONDS:
load balancers (several of them, every second or two, each web process) would otherwise
make a database query, a Redis PING and INFO and a storage request per probe. One probe at
a time runs the checks; the others meanwhile wait for its results rather than run them too.
"""

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from phoenix import redis_clients
from phoenix.bearer import bearer_matches

log = logging.getLogger(__name__)

# Policies under which Redis deletes keys to make room: a queued job or a schedule could
# disappear without a trace.
SAFE_EVICTION_POLICY = "noeviction"


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_queue_redis() -> list[str]:
    """PING the queue Redis (once: no failover wait); a warning if it may evict keys."""
    redis = redis_clients.probe_redis()
    redis.ping()
    # INFO rather than CONFIG GET: managed Redis services often disable CONFIG.
    policy = redis.info("memory").get("maxmemory_policy", SAFE_EVICTION_POLICY)
    if policy != SAFE_EVICTION_POLICY:
        return [
            f"queue Redis maxmemory-policy is {policy}: it may evict jobs and schedules "
            f"(set {SAFE_EVICTION_POLICY}; put the cache on REDIS_CACHE_URL)"
        ]
    return []


def check_storage() -> None:
    bucket = getattr(default_storage, "bucket_name", None)
    if bucket:
        default_storage.connection.meta.client.head_bucket(Bucket=bucket)
        return
    # Local files: the folder (or, before the first file, the folder it goes in) must be
    # writable. Nothing is created.
    folder = Path(default_storage.location)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not (folder.is_dir() and os.access(folder, os.W_OK)):
        raise OSError(f"media folder not writable: {default_storage.location}")


CHECKS = {"database": check_database, "redis": check_queue_redis, "storage": check_storage}

# What this process last logged, so that a probe every few seconds logs a change once.
_last_state: list[tuple] = [((), ())]
_state_lock = threading.Lock()


def _log_if_changed(checks: dict[str, str], warnings: list[str], errors: dict) -> None:
    state = (tuple(sorted(checks.items())), tuple(warnings))
    with _state_lock:
        if state == _last_state[0]:
            return
        _last_state[0] = state
    for name, error in errors.items():
        log.warning("Readiness check %s failed", name, exc_info=error)
    for warning in warnings:
        log.warning("Readiness: %s", warning)
    if not errors and not warnings:
        log.info("Readiness: all checks pass")


@dataclass(frozen=True)
class Probed:
    checks: dict[str, str]
    failed: list[str]
    warnings: list[str]
    at: float  # clock() when the checks ran


_probed: list[Probed] = []
_probing = threading.Lock()
clock = time.monotonic  # (tests move it)


def run_checks() -> Probed:
    checks, failed, warnings, errors = {}, [], [], {}
    for name, check in CHECKS.items():
        try:
            warnings += check() or []
        except Exception as error:  # noqa: BLE001 - any failure means not ready
            errors[name] = error
            checks[name] = f"failed: {type(error).__name__}"
            failed.append(name)
        else:
            checks[name] = "ok"
    _log_if_changed(checks, warnings, errors)
    return Probed(checks, failed, warnings, clock())


def probed() -> Probed:
    """The checks' results, run again when the last are PHOENIX_READYZ_CACHE_SECONDS old."""
    ttl = settings.PHOENIX_READYZ_CACHE_SECONDS

    def fresh() -> Probed | None:
        last = _probed[0] if _probed else None
        if last is not None and clock() - last.at < ttl:
            return last
        return None

    result = fresh()
    if result is not None:
        return result
    with _probing:
        result = fresh()  # another thread ran them while this one waited
        if result is None:
            result = run_checks()
            _probed[:] = [result]
    return result


def forget_probes() -> None:
    """The next /readyz runs the checks (tests; a process that changed its settings)."""
    with _probing:
        _probed.clear()


def _shows_details(request: HttpRequest) -> bool:
    """The metrics token (Authorization: Bearer ...) shows the details."""
    return bearer_matches(request, settings.PHOENIX_METRICS_TOKEN)


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    result = probed()
    body = {"status": "unavailable" if result.failed else "ok"}
    if result.failed:
        body["failed"] = list(result.failed)
    if _shows_details(request):
        body["checks"] = dict(result.checks)
        if result.warnings:
            body["warnings"] = list(result.warnings)
    return JsonResponse(body, status=503 if result.failed else 200)
