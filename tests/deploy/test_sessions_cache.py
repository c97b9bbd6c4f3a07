"""Sessions: cached_db, read from the cache Redis (REDIS_CACHE_URL) and written through to the
database. A log-out ends the session everywhere; without a cache Redis (or with it down)
sessions are read from the database."""

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.test import Client

from .engines import RedisServer, free_port
from .test_cache_redis import use_cache_redis


def signed_in(client: Client) -> bool:
    return client.get("/create").status_code == 200


def log_in(client: Client) -> None:
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "alice-password-123"}
    )
    assert response.status_code == 302


def test_sessions_are_cached_in_the_cache_redis_and_a_log_out_ends_them(
    alice, settings, monkeypatch, tmp_path, django_assert_num_queries
):
    cache_redis = RedisServer(tmp_path, "cache", "--maxmemory-policy", "allkeys-lru")
    try:
        cache_redis.start()
        use_cache_redis(settings, monkeypatch, cache_redis.url)
        browser = Client()
        log_in(browser)
        cookie = browser.cookies[django_settings.SESSION_COOKIE_NAME].value
        in_cache = [key for key in cache_redis.client().keys("*") if b"session" in key]

        # The session is read from the cache: the bell's answer costs the user and its COUNT.
        with django_assert_num_queries(2):
            assert browser.get("/notifications/bell").status_code == 200

        browser.post("/accounts/logout/")
        replay = Client()
        replay.cookies[django_settings.SESSION_COOKIE_NAME] = cookie
        still_in = signed_in(replay)
        left_in_cache = [key for key in cache_redis.client().keys("*") if b"session" in key]
    finally:
        cache_redis.kill()

    assert len(in_cache) == 1
    assert Session.objects.filter(session_key=cookie).count() == 0
    assert not still_in
    assert left_in_cache == []


def test_with_the_cache_redis_down_sessions_come_from_the_database(alice, settings, monkeypatch):
    use_cache_redis(settings, monkeypatch, f"redis://127.0.0.1:{free_port()}/0")
    browser = Client()
    log_in(browser)

    assert signed_in(browser)
    browser.post("/accounts/logout/")
    assert not signed_in(browser)


def test_without_a_cache_redis_sessions_are_not_cached_per_process(settings):
    # A per-process cache would go on serving a session that another process logged out.
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    assert not settings.REDIS_CACHE_URL
    assert type(caches[settings.SESSION_CACHE_ALIAS]).__name__ == "DummyCache"


@pytest.mark.parametrize("path", ["/", "/soho/alice?tab=drafts"])
def test_pages_keep_working_with_sessions_from_the_database(alice, path):
    browser = Client()
    log_in(browser)

    assert browser.get(path).status_code == 200
