"""Probes for load balancers and process managers.

/healthz says the process answers and touches nothing (no database, no Redis, no
session): a failing dependency must not get every web process restarted. /readyz says
whether this process can do its work now: the database, the queue Redis and the media
storage answer; 503 names the ones that did not. Neither reads the session or sets a
cookie, so they are cheap enough to be probed every few seconds.
"""

import logging
import os
from pathlib import Path

from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from creations import queues

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
    """PING the queue Redis; a warning if it may evict keys."""
    redis = queues.get_queue("default").connection
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


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks, failed, warnings = {}, [], []
    for name, check in CHECKS.items():
        try:
            warnings += check() or []
        except Exception as error:  # noqa: BLE001 - any failure means not ready
            log.warning("Readiness check %s failed", name, exc_info=True)
            checks[name] = f"failed: {type(error).__name__}"
            failed.append(name)
        else:
            checks[name] = "ok"
    for warning in warnings:
        log.warning("Readiness: %s", warning)
    body = {"status": "unavailable" if failed else "ok", "checks": checks}
    if failed:
        body["failed"] = failed
    if warnings:
        body["warnings"] = warnings
    return JsonResponse(body, status=503 if failed else 200)
