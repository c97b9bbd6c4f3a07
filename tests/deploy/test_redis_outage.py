"""With no Redis to be found, a web process answers within a couple of seconds: a web
thread waiting on Redis serves nobody else, and a few of them would starve /healthz.
The settings are the ones phoenix/settings.py builds for a web process
(PHOENIX_PROCESS=web, as gunicorn.conf.py sets it)."""

import runpy
import time
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from creations import queues
from creations.models import Creation

from .conftest import refunds
from .engines import RedisWithSentinels, free_port

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "phoenix" / "settings.py"


def built_settings(monkeypatch, **env: str) -> dict:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


@pytest.fixture
def web_without_sentinels(settings, monkeypatch):
    """A web process whose three sentinels all refuse connections."""
    built = built_settings(
        monkeypatch,
        PHOENIX_PROCESS="web",
        **RedisWithSentinels.environment_for([free_port() for _ in range(3)]),
    )
    settings.RQ_QUEUES = built["RQ_QUEUES"]
    settings.REDIS_CACHE_URL = ""
    queues.reset()
    yield built
    queues.reset()


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_a_web_process_waits_briefly_for_a_primary_and_workers_wait_out_a_failover(monkeypatch):
    sentinels = RedisWithSentinels.environment_for([26379])
    web = built_settings(monkeypatch, PHOENIX_PROCESS="web", **sentinels)
    monkeypatch.delenv("PHOENIX_PROCESS")
    worker = built_settings(monkeypatch, **sentinels)

    assert web["REDIS_FAILOVER_WAIT"] == 2
    assert worker["REDIS_FAILOVER_WAIT"] == 30
    for built in (web, worker):
        config = built["RQ_QUEUES"]["default"]
        assert config["CONNECTION_KWARGS"]["retry"].seconds == built["REDIS_FAILOVER_WAIT"]
        # A dead sentinel is asked once, not retried for every connection attempt.
        assert config["SENTINEL_KWARGS"]["retry"].get_retries() == 0
        # A partitioned primary is noticed by the kernel instead of after minutes.
        assert config["CONNECTION_KWARGS"]["socket_keepalive"] is True


def test_readyz_names_redis_at_once_when_no_sentinel_answers(db, web_without_sentinels):
    response, seconds = timed(lambda: Client().get("/readyz"))

    assert response.status_code == 503
    assert response.json()["failed"] == ["redis"]
    assert seconds < 1.5  # one try, no failover wait (was 12 s)


def test_a_log_in_fails_open_within_the_failover_wait_when_no_sentinel_answers(
    alice, web_without_sentinels, figure
):
    form = {"username": "alice", "password": "wrong"}
    wrong, wrong_seconds = timed(lambda: Client().post("/accounts/login/", form))
    right = {"username": "alice", "password": "alice-password-123"}
    logged_in, right_seconds = timed(lambda: Client().post("/accounts/login/", right))

    assert wrong.status_code == 200  # the form again, not a 429: nobody is locked out
    assert logged_in.status_code == 302
    # Each waits on Redis once (REDIS_FAILOVER_WAIT 2 s), not once per counter (was 35 s
    # and 71 s: three counters taken, then given back, each waiting 10 s per sentinel).
    assert wrong_seconds < 5 and right_seconds < 5
    figure(
        f"no sentinel answering, web process: failed log-in answered in {wrong_seconds:.1f}s, "
        f"right log-in in {right_seconds:.1f}s (fail open)"
    )


def test_a_create_is_refused_and_refunded_within_the_failover_wait_when_no_sentinel_answers(
    creator, web_without_sentinels, figure
):
    browser = Client()
    browser.force_login(creator)
    body = {"type": "image", "prompt": "a fox with nowhere to go"}
    response, seconds = timed(
        lambda: browser.post("/api/generate/creation", body, content_type="application/json")
    )

    assert response.status_code == 503, response.content
    assert response.json()["error"] == "queue_unavailable"
    creation = Creation.objects.get(pk=response.json()["creation_id"])
    assert (creation.status, refunds(creation)) == ("failed", 1)
    assert seconds < 6
    figure(f"no sentinel answering, web process: a create refused 503 in {seconds:.1f}s")


def test_with_sentinels_rediss_turns_tls_on_and_query_parameters_are_refused(monkeypatch):
    sentinels = RedisWithSentinels.environment_for([26379])
    tls = built_settings(monkeypatch, **{**sentinels, "REDIS_URL": "rediss://:pw@unused:6379/2"})
    config = tls["RQ_QUEUES"]["default"]

    assert config["CONNECTION_KWARGS"]["ssl"] is True
    assert (config["DB"], config["PASSWORD"]) == (2, "pw")
    # The sentinels' clients are built from settings: a parameter would be silently lost.
    with pytest.raises(ImproperlyConfigured, match="query parameters"):
        built_settings(
            monkeypatch, **{**sentinels, "REDIS_URL": "redis://unused:6379/0?ssl_cert_reqs=none"}
        )
