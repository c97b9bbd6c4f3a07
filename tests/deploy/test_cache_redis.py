"""REDIS_CACHE_URL: the cache and the throttles on a Redis of their own, which may evict and
may fail, apart from the queue Redis (which must not)."""

import runpy
import socket
import time
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
    try:
        cache_redis.start()
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


@pytest.fixture
def silent_port():
    """A port whose connections are never accepted (its backlog is full): connecting to
    it hangs, as to a host that is down."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(8):  # more than the backlog the kernel allows for listen(0)
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    try:
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_a_cache_redis_that_does_not_answer_costs_a_page_a_fraction_of_a_second(
    alice, settings, monkeypatch, silent_port
):
    use_cache_redis(settings, monkeypatch, f"redis://127.0.0.1:{silent_port}/0")
    settings.PHOENIX_LOGIN_FAILURES = 1

    started = time.monotonic()
    assert cache.get("anything", "missing") == "missing"
    cache_seconds = time.monotonic() - started
    started = time.monotonic()
    assert failed_log_in().status_code == 200
    log_in_seconds = time.monotonic() - started

    # One connect try of REDIS_CACHE_CONNECT_TIMEOUT each (was 2 s per try, retried).
    assert cache_seconds < 1 and log_in_seconds < 1.5, (cache_seconds, log_in_seconds)


def test_the_cache_keeps_one_redis_client_per_connection_pool(settings):
    from phoenix.cache import FailOpenRedisCache

    shared = FailOpenRedisCache(settings.REDIS_URL, {"KEY_PREFIX": "client-reuse"})

    shared.set("answer", 42)
    first = shared._cache.get_client(write=True)

    assert shared.get("answer") == 42
    assert shared._cache.get_client() is first
    assert shared._cache.get_client(write=True) is first
    shared.delete("answer")
