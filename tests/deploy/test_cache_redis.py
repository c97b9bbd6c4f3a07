"""REDIS_CACHE_URL: the cache and the throttles on a Redis of their own, which may evict and
may fail, apart from the queue Redis (which must not)."""

import runpy
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client

from creations import queues

from .engines import RedisServer, free_port

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "phoenix" / "settings.py"


def use_cache_redis(settings, monkeypatch, url: str) -> None:
    """CACHES and REDIS_CACHE_URL exactly as phoenix/settings.py builds them."""
    monkeypatch.setenv("REDIS_CACHE_URL", url)
    built = runpy.run_path(str(SETTINGS_FILE))
    settings.CACHES = built["CACHES"]
    settings.REDIS_CACHE_URL = built["REDIS_CACHE_URL"]
    queues.reset()


def failed_log_in(address: str = "10.0.0.1"):
    return Client().post(
        "/accounts/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR=address
    )


def test_the_throttles_and_the_cache_live_in_the_cache_redis(
    alice, settings, monkeypatch, tmp_path, clean_redis
):
    cache_redis = RedisServer(tmp_path, "cache", "--maxmemory-policy", "allkeys-lru")
    cache_redis.start()
    try:
        use_cache_redis(settings, monkeypatch, cache_redis.url)
        settings.PHOENIX_LOGIN_FAILURES = 2

        answers = [failed_log_in().status_code for _ in range(3)]
        cache.set("typical-run", 12.5, 60)

        in_cache_redis = cache_redis.client().keys("*")
        in_queue_redis = clean_redis.keys("phoenix:ratelimit:*")
        assert cache.get("typical-run") == 12.5
    finally:
        cache_redis.kill()
        queues.reset()

    assert answers == [200, 200, 429]
    assert any(key.startswith(b"phoenix:ratelimit:") for key in in_cache_redis)
    assert any(b"typical-run" in key for key in in_cache_redis)
    assert in_queue_redis == []


@pytest.mark.parametrize("path", ["/", "/soho/alice", "/soho/alice?tab=drafts"])
def test_with_the_cache_redis_down_pages_work_and_nobody_is_locked_out(
    alice, alice_client, make_creation, settings, monkeypatch, path
):
    make_creation(owner=alice, status="pending")
    use_cache_redis(settings, monkeypatch, f"redis://127.0.0.1:{free_port()}/0")
    settings.PHOENIX_LOGIN_FAILURES = 1

    assert cache.get("anything", "missing") == "missing"
    cache.set("anything", 1)  # dropped, not raised
    assert alice_client.get(path).status_code == 200
    assert [failed_log_in().status_code for _ in range(3)] == [200, 200, 200]
