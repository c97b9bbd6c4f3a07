"""Counting creation events fails fast: with the counters' Redis down, a request that
sends many events (a bulk trash) tries to connect once and skips the rest, and the
changes it counts are committed."""

import json
import time

import pytest
from redis.connection import Connection
from redis.sentinel import SentinelConnectionPool

from creations import queues
from creations.models import Creation
from ops import counters
from phoenix.redis_failover import RetryFor, no_retry

from .conftest import creation_in_state

DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def dead_redis(settings):
    settings.RQ_QUEUES = {name: {"URL": DEAD_REDIS} for name in settings.RQ_QUEUES}
    queues.reset()
    counters.reset()
    yield
    queues.reset()
    counters.reset()


@pytest.fixture
def connection_attempts(monkeypatch) -> list[tuple[str, int]]:
    """Every TCP connection redis-py opens (or tries to), as (host, port)."""
    attempts = []
    real_connect = Connection._connect

    def counted(self):
        attempts.append((self.host, self.port))
        return real_connect(self)

    monkeypatch.setattr(Connection, "_connect", counted)
    return attempts


@pytest.mark.django_db(transaction=True)
def test_a_bulk_trash_with_the_counters_redis_down_tries_redis_once(
    alice, alice_client, dead_redis, connection_attempts, caplog
):
    drafts = [creation_in_state(owner=alice, status="draft") for _ in range(20)]

    response = alice_client.post(
        "/api/creations/bulk",
        json.dumps({"action": "trash", "ids": [str(d.pk) for d in drafts]}),
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["summary"]["ok"] == 20
    assert (
        Creation.objects.filter(pk__in=[d.pk for d in drafts], trashed_at__isnull=False).count()
        == 20
    )
    # One try (no retries, no second try for the 19 events after it), logged once; and one
    # by the cards' versions (creations.versions pauses alike).
    assert connection_attempts == [("127.0.0.1", 1)] * 2
    assert caplog.text.count("Could not count") == 1


def test_counting_tries_again_once_the_pause_is_over(
    db, dead_redis, connection_attempts, monkeypatch
):
    monkeypatch.setattr(counters, "PAUSE_SECONDS", 0.2)
    counters.count("trashed", "image", {})
    counters.count("trashed", "image", {})
    assert len(connection_attempts) == 1  # the second was skipped

    time.sleep(0.3)
    counters.count("trashed", "image", {})

    assert len(connection_attempts) == 2


def test_the_counting_client_fails_fast_and_still_follows_sentinel(settings):
    settings.RQ_QUEUES = {
        "default": {
            "SENTINELS": [("127.0.0.1", 1)],
            "MASTER_NAME": "phoenix",
            "DB": 0,
            "SOCKET_TIMEOUT": 5,
            "CONNECTION_KWARGS": {"socket_connect_timeout": 2, "retry": RetryFor(30)},
            "SENTINEL_KWARGS": {"socket_timeout": 2, "retry": no_retry()},
        }
    }
    counters.reset()

    client = counters.counting_redis()

    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "phoenix"
    kwargs = pool.connection_kwargs
    assert kwargs["socket_connect_timeout"] <= 0.5 and kwargs["socket_timeout"] <= 1
    assert kwargs["retry"].get_retries() == 0
    for sentinel in pool.sentinel_manager.sentinels:
        options = sentinel.connection_pool.connection_kwargs
        assert options["socket_connect_timeout"] <= 0.5 and options["socket_timeout"] <= 1
    counters.reset()


@pytest.mark.slow
def test_counting_reaches_the_primary_the_sentinels_name_before_and_after_a_failover(
    tmp_path, settings, monkeypatch
):
    from tests.deploy.engines import RedisWithSentinels, wait_for

    ha = RedisWithSentinels(tmp_path)
    try:
        ha.start()
        settings.RQ_QUEUES = ha.queue_settings()
        counters.reset()
        monkeypatch.setattr(counters, "PAUSE_SECONDS", 0.5)

        counters.count("trashed", "image", {})
        assert ha.primary.client().hget(counters.KEY, "event|trashed|image") == b"1"

        ha.primary.kill()
        counters.count("trashed", "image", {})  # dropped, at once: the primary is gone
        wait_for(lambda: ha.primary_port() == ha.replica.port, timeout=15, what="the failover")
        time.sleep(0.6)  # the pause after the failed count is over
        counters.count("trashed", "image", {})

        assert ha.replica.client().hget(counters.KEY, "event|trashed|image") == b"2"
    finally:
        counters.reset()
        ha.stop()
