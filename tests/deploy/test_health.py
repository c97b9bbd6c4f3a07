"""/healthz (the process answers, touching nothing) and /readyz (the database, the queue
Redis and the storage answer; 503 names the ones that do not)."""

import json
import os
import re
import secrets
import subprocess
import sys

import httpx
import pytest
from django.db import connection
from django.test import Client

from creations import queues
from phoenix import health
from tests.conftest import ROOT, run_at_once

from .engines import RedisServer, free_port, procfile_command, start_web, stop_web


def no_cookie_set(response) -> bool:
    return "Set-Cookie" not in response.headers and not response.cookies


@pytest.mark.parametrize("method", ["get", "head"])
def test_healthz_answers_without_a_query_or_a_cookie_even_for_a_logged_in_creator(
    alice_client, django_assert_num_queries, method
):
    with django_assert_num_queries(0):
        response = getattr(alice_client, method)("/healthz")

    assert response.status_code == 200
    assert no_cookie_set(response)
    assert "no-store" in response.headers["Cache-Control"]
    if method == "get":
        assert response.json() == {"status": "ok"}


TOKEN = "readiness-details-token"


def test_healthz_answers_while_redis_is_down_and_readyz_names_redis(
    db, settings, caplog, monkeypatch
):
    monkeypatch.setattr(health, "_last_state", [((), ())])  # as a process that just started
    settings.RQ_QUEUES = {
        name: {"URL": f"redis://127.0.0.1:{free_port()}/0"} for name in settings.RQ_QUEUES
    }
    settings.PHOENIX_METRICS_TOKEN = TOKEN
    queues.reset()
    client = Client()

    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    detailed = client.get("/readyz", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 503
    # Public: which dependency failed, nothing about how.
    assert response.json() == {"status": "unavailable", "failed": ["redis"]}
    assert detailed.status_code == 503
    assert detailed.json()["checks"] == {
        "database": "ok",
        "redis": "failed: ConnectionError",
        "storage": "ok",
    }
    # Probed every few seconds: the failure is logged when it starts, not on every probe.
    failures = [r for r in caplog.records if "Readiness check redis failed" in r.getMessage()]
    assert len(failures) == 1


def test_readyz_is_ok_when_the_database_redis_and_storage_answer(db, django_assert_max_num_queries):
    client = Client()
    # Cheap enough to probe every few seconds: one query, no session, no cookie.
    with django_assert_max_num_queries(1):
        response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert no_cookie_set(response)


def test_readyz_names_the_storage_when_the_media_folder_cannot_be_written(db, settings, tmp_path):
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(not_a_folder / "media")},
        },
    }

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["storage"]


def test_readyz_warns_when_the_queue_redis_may_evict_jobs(db, settings, tmp_path, caplog):
    evicting = RedisServer(tmp_path, "evicting", "--maxmemory", "64mb")
    evicting.args += ("--maxmemory-policy", "allkeys-lru")
    try:
        evicting.start()
        settings.RQ_QUEUES = {name: {"URL": evicting.url} for name in settings.RQ_QUEUES}
        settings.PHOENIX_METRICS_TOKEN = TOKEN
        queues.reset()

        response = Client().get("/readyz")
        detailed = Client().get("/readyz", headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        evicting.kill()
        queues.reset()

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    [warning] = detailed.json()["warnings"]
    assert "maxmemory-policy is allkeys-lru" in warning
    assert "maxmemory-policy is allkeys-lru" in caplog.text


def production_environment(**extra: str) -> dict[str, str]:
    """DEBUG off, HTTPS redirects on, as production runs (test_settings turns them off)."""
    test_only = {"SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"}
    test_only |= {"SECURE_HSTS_SECONDS", "DEBUG", "PHOENIX_STATICFILES_STORAGE"}
    env = {k: v for k, v in os.environ.items() if k not in test_only}
    db = connection.settings_dict
    env.update(
        DJANGO_SETTINGS_MODULE="phoenix.settings",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="127.0.0.1",
        PHOENIX_SITE_URL="https://phoenix.example.com",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        PHOENIX_CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR",
    )
    env.update(extra)
    return env


@pytest.mark.slow
def test_the_production_web_process_answers_probes_over_plain_http(transactional_db, tmp_path):
    """Load balancers probe over HTTP behind the TLS they end: the probes are not
    redirected to HTTPS (every other page is), and with the database down /healthz still
    answers while /readyz names the database."""
    env = production_environment(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/nowhere",
        DATABASE_CONNECT_TIMEOUT="2",
    )
    web, base = start_web(tmp_path, base_env=env)
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            assert http.get("/").status_code == 301
            healthz = http.get("/healthz")
            readyz = http.get("/readyz")
    finally:
        stop_web(web)

    assert healthz.status_code == 200
    assert readyz.status_code == 503
    assert readyz.json()["failed"] == ["database"]
    assert "Set-Cookie" not in healthz.headers and "Set-Cookie" not in readyz.headers
    access_log = web.log.read_text()
    assert '"GET /healthz HTTP/1.1" 200' in access_log  # the access log goes to stdout


@pytest.mark.slow
def test_the_production_web_command_serves_pages_with_their_static_files(
    transactional_db, tmp_path
):
    """The Procfile's web line as production runs it (DEBUG off, whitenoise's manifest
    storage): a page renders, and the static files it names are served."""
    web, base = start_web(tmp_path, base_env=production_environment())
    try:
        # Behind the TLS-ending proxy, as SECURE_PROXY_SSL_HEADER expects.
        with httpx.Client(
            base_url=base, timeout=10, headers={"X-Forwarded-Proto": "https"}
        ) as http:
            page = http.get("/accounts/login/")
            stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', page.text)
            assets = [http.get(path) for path in stylesheets]
    finally:
        stop_web(web)

    assert page.status_code == 200, web.log_tail()
    assert stylesheets, page.text[:500]
    # Hashed names from the manifest, served with a long cache lifetime.
    assert all(re.search(r"\.[0-9a-f]{12}\.css$", path) for path in stylesheets), stylesheets
    assert [a.status_code for a in assets] == [200] * len(assets)
    assert all("max-age=315360000" in a.headers["Cache-Control"] for a in assets)


def test_the_release_line_migrates_the_database_directly_when_told_to(transactional_db):
    """DATABASE_DIRECT_URL (PostgreSQL itself) wins over DATABASE_URL (PgBouncer) for
    migrations; the release line checks here instead of migrating."""
    db = connection.settings_dict
    direct = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    command = procfile_command("release").replace("migrate --no-input", "migrate --check")
    env = {
        **os.environ,
        "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/nowhere",
        "DATABASE_DIRECT_URL": direct,
    }
    assert "migrate --check" in command
    result = subprocess.run(
        ["/bin/sh", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr[-2000:]


def test_gunicorn_takes_its_workers_threads_and_limits_from_the_environment():
    script = (
        "import runpy, json; c = runpy.run_path('gunicorn.conf.py'); "
        "print(json.dumps({k: c[k] for k in ('bind', 'workers', 'threads', 'max_requests', "
        "'max_requests_jitter', 'graceful_timeout', 'timeout', 'accesslog', "
        "'control_socket_disable')}))"
    )
    env = {
        **os.environ,
        "WEB_CONCURRENCY": "5",
        "GUNICORN_THREADS": "8",
        "GUNICORN_MAX_REQUESTS": "2000",
        "GUNICORN_GRACEFUL_TIMEOUT": "40",
        "PORT": "9123",
    }
    env.pop("GUNICORN_BIND", None)
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    assert json.loads(result.stdout) == {
        "bind": "0.0.0.0:9123",
        "workers": 5,
        "threads": 8,
        "max_requests": 2000,
        "max_requests_jitter": 200,  # a tenth of max_requests unless set
        "graceful_timeout": 40,
        "timeout": 30,
        "accesslog": "-",
        "control_socket_disable": True,
    }


@pytest.mark.slow
def test_the_web_process_serves_from_a_psycopg_pool_when_asked(transactional_db, tmp_path):
    web, base = start_web(tmp_path, DATABASE_POOL_SIZE="4", GUNICORN_THREADS="4", CONN_MAX_AGE="0")
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            answers = [http.get(path).status_code for path in ["/readyz", "/", "/readyz"] * 3]
        # Without a pool and with CONN_MAX_AGE=0 each request closes its connection; the
        # pool keeps its connections open between requests.
        kept_open = idle_connections_of_others()
    finally:
        stop_web(web)

    assert answers == [200] * 9, web.log_tail()
    assert kept_open >= 1


def idle_connections_of_others() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'idle' "
            "AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        )
        return cursor.fetchone()[0]


class CountedChecks:
    """/readyz's checks, each counting its runs; and a clock the test moves."""

    def __init__(self, monkeypatch):
        self.runs = dict.fromkeys(health.CHECKS, 0)
        self.now = 1000.0
        counted = {}
        for name, check in health.CHECKS.items():

            def run(name=name, check=check):
                self.runs[name] += 1
                return check()

            counted[name] = run
        monkeypatch.setattr(health, "CHECKS", counted)
        monkeypatch.setattr(health, "clock", lambda: self.now)


def test_readyz_answers_from_its_probes_for_a_few_seconds_then_probes_again(
    db, settings, monkeypatch, django_assert_num_queries
):
    settings.PHOENIX_READYZ_CACHE_SECONDS = 3
    counted = CountedChecks(monkeypatch)
    client = Client()

    first = client.get("/readyz")
    counted.now += 2.9
    with django_assert_num_queries(0):
        second = client.get("/readyz")

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json() == {"status": "ok"}
    assert counted.runs == {"database": 1, "redis": 1, "storage": 1}

    counted.now += 0.1  # three seconds after the probes
    with django_assert_num_queries(1):
        third = client.get("/readyz")

    assert third.status_code == 200
    assert counted.runs == {"database": 2, "redis": 2, "storage": 2}


def test_a_failure_is_answered_from_the_cache_too_and_a_recovery_within_its_seconds(
    db, settings, monkeypatch, tmp_path
):
    settings.PHOENIX_READYZ_CACHE_SECONDS = 3
    settings.PHOENIX_METRICS_TOKEN = TOKEN
    counted = CountedChecks(monkeypatch)
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    working = settings.STORAGES
    settings.STORAGES = {
        **working,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(not_a_folder / "media")},
        },
    }
    client = Client()

    failing = client.get("/readyz")
    detailed = client.get("/readyz", headers={"Authorization": f"Bearer {TOKEN}"})
    settings.STORAGES = working  # the storage is back...
    counted.now += 1
    still = client.get("/readyz")  # ...not seen yet: the answer is a second old
    counted.now += 2
    back = client.get("/readyz")

    assert (failing.status_code, still.status_code) == (503, 503)
    assert failing.json() == still.json() == {"status": "unavailable", "failed": ["storage"]}
    # The cached result keeps its details for the caller with the token.
    assert detailed.json()["checks"]["storage"] == "failed: OSError"
    assert back.status_code == 200
    assert counted.runs["storage"] == 2


def test_probes_that_arrive_together_run_the_checks_once(db, settings, monkeypatch):
    settings.PHOENIX_READYZ_CACHE_SECONDS = 3
    counted = CountedChecks(monkeypatch)

    answers = run_at_once([lambda: health.probed().failed for _ in range(8)])

    assert answers == [[]] * 8
    assert counted.runs == {"database": 1, "redis": 1, "storage": 1}
