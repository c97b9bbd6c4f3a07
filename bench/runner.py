"""`make bench`: Phoenix as production runs it, measured against floors of the same run.

gunicorn (DEBUG off, whitenoise, persistent database connections) against a database of
its own (phoenix_bench, dropped and created again) and a Redis database of its own
(flushed), loaded by wrk on this machine. Every figure is compared with a floor measured
in the same run by the same gunicorn, because these machines are shared and noisy.

Prints one table and writes the figures as JSON under bench/results/.
"""

import json
import os
import platform
import re
import secrets
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bench import capacity
from bench.common import (
    INSTANT_PROVIDER,
    PRODUCTION_WORKER,
    PYTHON,
    ROOT,
    draft_row,
    drafts_page_html,
    expect,
    free_port,
    held_poll_urls,
    http_get,
    jobs_per_second,
    log,
    make_creator,
    new_session,
    redis_connection,
)
from bench.fills import copy_rows_sql
from bench.pages import bell_poll_url, card_poll_urls, stale_poll_url

DB_NAME = os.getenv("BENCH_DB_NAME", "phoenix_bench")
REDIS_DB = int(os.getenv("BENCH_REDIS_DB", "7"))
REDIS_CACHE_DB = int(os.getenv("BENCH_REDIS_CACHE_DB", "8"))
SECONDS = int(os.getenv("BENCH_SECONDS", "5"))
WARMUP_SECONDS = int(os.getenv("BENCH_WARMUP_SECONDS", "1"))
# Each figure and its floor are measured in alternating rounds and the best round counts:
# other work on a shared machine only ever slows a round down.
ROUNDS = int(os.getenv("BENCH_ROUNDS", "3"))
CONNECTIONS = 16
# For working on one part: BENCH_ONLY=worker,e2e (a full run is what counts).
ALL_PARTS = (
    "http,drafts,cardpoll,notifications,queue,worker,e2e,remote,capacity,figures,batch,library,"
    "community"
)
PARTS = set(os.getenv("BENCH_ONLY", ALL_PARTS).split(","))
# Trial runs of one part can write elsewhere: only full runs are kept in bench/results.
RESULTS_DIR = Path(os.getenv("BENCH_RESULTS_DIR", str(ROOT / "bench" / "results")))
# BENCH_PROFILE=1: also profile the measured views in-process (pyinstrument, from
# requirements-dev.txt) and save the text profiles next to the results.
PROFILE = os.getenv("BENCH_PROFILE", "") == "1"
USERS = 256
WORKER_JOBS = int(os.getenv("BENCH_WORKER_JOBS", "300"))
E2E_RUNS = int(os.getenv("BENCH_E2E_RUNS", "20"))
REMOTE_VIDEOS = int(os.getenv("BENCH_REMOTE_VIDEOS", "40"))
REMOTE_TASK_SECONDS = int(os.getenv("BENCH_REMOTE_TASK_SECONDS", "20"))
LIGHT_WORKER = "creations.worker.LightWorker"
CREATE_BODY = json.dumps({"type": "image", "prompt": "a lighthouse at dusk", "aspect_ratio": "1:1"})
# Issue 21: a batch of BATCH_COUNT variations in one request, against single creates.
BATCH_COUNT = 4
BATCH_BODY = json.dumps({**json.loads(CREATE_BODY), "count": BATCH_COUNT})
# gunicorn setups compared; the best at the create endpoint serves the rest of the run.
SERVER_SETUPS = {
    "sync": ["--worker-class", "sync", "--workers", "2"],
    "gthread": ["--worker-class", "gthread", "--workers", "2", "--threads", "4"],
}
GOALS = {
    "create_ratio": 0.8,
    "create_p99_ms": 50,
    "poll_ratio": 0.7,
    "poll_queries": 3,
    # The nav bell's own poll: session, user and one COUNT on the unread index; measured
    # against the poll reference (a logged-in one-row read), the least any poll does.
    "bell_ratio": 0.7,
    "bell_queries": 3,
    "worker_ratio": 0.5,
    "image_p95_s": 2.0,
    "video_p95_s": 10.0,
    # All remote videos submitted at once are drafts within this many task durations.
    "remote_task_durations": 1.5,
}
# Issue 19's goals, written into the results as the top-level object "goals" (see goals()).
TARGETS = {
    # capacity_creators ≥ this × bare_req_s
    "capacity_per_bare_req_s": 0.25,
    "poll_unchanged_vs_bare": 0.5,
    "poll_changed_vs_reference": 0.9,
    "create_vs_debit_deep_queue": 0.9,
    "enqueue_cost_ratio_10k_vs_0": 1.5,  # at most
    "worker_vs_noop": 0.6,
    "figures_ms_at_1m_ledger": 50,  # at most
    "drafts_tab_vs_bare": 0.08,
    # Issue 21: items created per second by batches of 4 over single creates per second
    # (a batch item costs no more than a single create).
    "batch_items_vs_single": 1.0,
    # Issue 22: a creator's search of their own creations, a million in the table (at most).
    "library_search_p95_ms": 50,
    # Issue 22: public search, an Explore page and a creator's page, a million creations and
    # five million likes in the tables (at most).
    "public_search_p95_ms": 50,
    "explore_p95_ms": 50,
    "profile_page_p95_ms": 50,
}
# The deep queue: this many jobs queued from this many creators before the create is loaded.
DEEP_QUEUE_JOBS = int(os.getenv("BENCH_DEEP_QUEUE_JOBS", "10000"))
DEEP_QUEUE_CREATORS = int(os.getenv("BENCH_DEEP_QUEUE_CREATORS", "1000"))
ENQUEUE_SAMPLES = 50
# The figures: ledger rows and creations written (by SQL) before a scrape and an alert run.
FIGURES_LEDGER_ROWS = int(os.getenv("BENCH_FIGURES_LEDGER_ROWS", "1000000"))
FIGURES_CREATIONS = int(os.getenv("BENCH_FIGURES_CREATIONS", "300000"))
METRICS_TOKEN = secrets.token_urlsafe(24)


def configure_environment() -> tempfile.TemporaryDirectory:
    """Production settings from the environment, as a deployment would set them."""
    scratch = tempfile.TemporaryDirectory(prefix="phoenix-bench-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PHOENIX_SITE_URL="http://127.0.0.1",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        REDIS_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
        # The cache Redis production runs beside the queue Redis (docs/deploy.md): sessions
        # (cached_db), throttles and the cached figures live there.
        REDIS_CACHE_URL=f"redis://127.0.0.1:6379/{REDIS_CACHE_DB}",
        BENCH_STATIC_ROOT=str(Path(scratch.name) / "static"),
        MEDIA_ROOT=str(Path(scratch.name) / "media"),
        LOG_LEVEL="WARNING",
        PHOENIX_LOCAL_PROVIDER_DELAY="0",
        # Nothing drains the load test's creations, so its creators would soon be at the
        # in-flight limit; the limit's count still runs (over the ~20 rows each creator
        # gathers in a round, as forget_load_test_rows clears them after every round).
        PHOENIX_MAX_IN_FLIGHT="10000",
        # The figures part scrapes /metrics as Prometheus does.
        PHOENIX_METRICS_TOKEN=METRICS_TOKEN,
    )
    # Whatever a caller's shell says, the production defaults apply (manifest static
    # storage, 8 s local videos).
    for name in ("PHOENIX_STATICFILES_STORAGE", "PHOENIX_LOCAL_VIDEO_SECONDS", "CONN_MAX_AGE"):
        os.environ.pop(name, None)
    return scratch


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{DB_NAME}"')


def prepare_django() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)


# ---------------------------------------------------------------- data


def make_creators() -> list[dict]:
    """Many creators with a large balance, so concurrent creates rarely wait on one row."""
    from creations import services
    from creations.validation import CreationRequest

    creators = []
    for number in range(USERS):
        user = make_creator(f"bench{number:03d}", balance=10**9)
        session, csrf = new_session(user)
        # One pending card each, for the poll benchmark (its job is flushed, never run).
        pending, _ = services.creation_submit(
            user=user, request=CreationRequest("image", "a pending lighthouse", "1:1")
        )
        creators.append({"user": user, "session": session, "csrf": csrf, "pending": pending})
    return creators


def make_drafts_owner(count: int) -> dict:
    from django.utils import timezone

    from creations.models import Creation

    user = make_creator(f"drafts{count}")
    now = timezone.now()
    Creation.objects.bulk_create(
        [
            draft_row(
                owner_id=user.pk,
                prompt=f"draft number {index} of a long series of lighthouses",
                now=now,
            )
            for index in range(count)
        ],
        batch_size=500,
    )
    session, csrf = new_session(user)
    return {"user": user, "session": session, "csrf": csrf, "count": count}


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def forget_load_test_rows() -> None:
    """Creations left by the create and debit runs would lengthen every later queue."""
    from creations.models import Creation

    Creation.objects.filter(prompt__in=["floor", json.loads(CREATE_BODY)["prompt"]]).delete()
    redis_connection().flushdb()


# ---------------------------------------------------------------- servers and load


@contextmanager
def gunicorn(setup_args: list[str]):
    port = free_port()
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            # The setups compared here are whole on their own: not the production
            # gunicorn.conf.py gunicorn would read from the working directory (its access
            # log and max_requests restarts would be measured too; the capacity part runs
            # the production configuration).
            "--config",
            "/dev/null",
            "phoenix.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            *setup_args,
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if http_get(base + "/bench/bare")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def browser_headers(base: str, person: dict | None) -> dict:
    headers = {"X-Forwarded-Proto": "https"}
    if person:
        headers.update(
            {
                "Cookie": f"sessionid={person['session']}; csrftoken={person['csrf']}",
                "X-CSRFToken": person["csrf"],
                "Origin": "https://" + base.removeprefix("http://"),
            }
        )
    return headers


def http_post(url: str, body: str, headers: dict) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={**headers, "Content-Type": "application/json"},
    )
    try:
        # Only ever the bench's own server (base is http://127.0.0.1:<port>).
        with urllib.request.urlopen(request, timeout=30) as response:  # nosec B310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


urllib.request.install_opener(urllib.request.build_opener(NoRedirects))


def wrk(
    base: str,
    people: list[dict | None],
    paths: list[str],
    *,
    method: str = "GET",
    body: str = "",
    hx: bool = False,
    seconds: int = SECONDS,
) -> dict:
    """Load one endpoint with 16 connections; a warm-up run first, its figures dropped."""
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as users_file:
        for person, path in zip(people, paths, strict=True):
            session, csrf = (person["session"], person["csrf"]) if person else ("", "")
            users_file.write(f"{session}\t{csrf}\t{path}\n")
    script = str(ROOT / "bench" / "wrk" / "phoenix.lua")
    try:
        figures = {}
        for duration in (WARMUP_SECONDS, seconds):
            output = subprocess.run(
                [
                    "wrk",
                    "-t2",
                    f"-c{CONNECTIONS}",
                    f"-d{duration}s",
                    "--timeout",
                    "10s",
                    "-s",
                    script,
                    base + paths[0],
                    "--",
                    users_file.name,
                    method,
                    body,
                    "1" if hx else "0",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            figures = json.loads(re.search(r"^BENCHJSON (.*)$", output, re.M).group(1))
    finally:
        os.unlink(users_file.name)
    errors = sum(value for key, value in figures.items() if key.startswith("errors_"))
    return {
        "req_s": round(figures["requests"] / (figures["duration_us"] / 1e6), 1),
        "p50_ms": round(figures["p50_us"] / 1000, 2),
        "p90_ms": round(figures["p90_us"] / 1000, 2),
        "p99_ms": round(figures["p99_us"] / 1000, 2),
        "requests": figures["requests"],
        "errors": errors,
    }


# ---------------------------------------------------------------- measurements


def poll_target(base: str, person: dict) -> tuple[str, str]:
    """The card partial if it is served yet; otherwise the JSON status endpoint, labelled."""
    card = f"/creations/{person['pending'].pk}/card?shown=pending"
    status, body = http_get(base + card, {**browser_headers(base, person), "HX-Request": "true"})
    if status == 200:
        return "card", "/creations/{id}/card?shown=pending"
    log(f"card partial answered {status}; polling /api/creations/<id> instead")
    return "api", "/api/creations/{id}"


def poll_path(template: str, person: dict) -> str:
    return template.format(id=person["pending"].pk)


def count_queries(path: str, person: dict, *, hx: bool = False, status: int | None = 200) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = person["session"]
    headers = {"HX-Request": "true"} if hx else {}
    client.get(path, secure=True, headers=headers)  # warm: first-use lookups are not per-request
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, secure=True, headers=headers)
    if status is not None:
        expect(response.status_code, status, f"GET {path} in-process")
    return len(queries)


def measure_http(setup_name: str, base: str, creators: list[dict], poll: tuple[str, str]) -> dict:
    creator_paths = lambda path: [path] * len(creators)  # noqa: E731
    person = creators[0]
    expect(*http_get(base + "/bench/bare")[:1], 200, "bare view")
    status, body = http_post(base + "/bench/debit", "", browser_headers(base, person))
    expect(status, 202, "debit floor", body)
    status, body = http_post(
        base + "/api/generate/creation", CREATE_BODY, browser_headers(base, person)
    )
    expect(status, 202, "create endpoint", body)

    endpoints = {
        "bare": lambda: wrk(base, [None], ["/bench/bare"]),
        "poll_floor": lambda: wrk(
            base, creators, [poll_path("/bench/poll/{id}", c) for c in creators], hx=True
        ),
        "poll": lambda: wrk(
            base, creators, [poll_path(poll[1], c) for c in creators], hx=poll[0] == "card"
        ),
        "debit": lambda: wrk(base, creators, creator_paths("/bench/debit"), method="POST"),
        "create": lambda: wrk(
            base,
            creators,
            creator_paths("/api/generate/creation"),
            method="POST",
            body=CREATE_BODY,
        ),
    }
    rounds: dict[str, list[dict]] = {name: [] for name in endpoints}
    for number in range(1, ROUNDS + 1):
        log(f"{setup_name}: round {number}/{ROUNDS}: {', '.join(endpoints)}")
        for name, measure in endpoints.items():
            rounds[name].append(measure())
        forget_load_test_rows()
    results = {}
    for name, figures in rounds.items():
        best = max(figures, key=lambda f: f["req_s"])
        results[name] = {**best, "rounds_req_s": [f["req_s"] for f in figures]}
    analyze()
    return results


def profile_views(creators: list[dict], owners: list[dict], poll_template: str, out: Path) -> None:
    """Where the time of each measured view goes, one request after another in-process."""
    from django.test import Client
    from pyinstrument import Profiler

    person = creators[2]
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = person["session"]
    views = {
        "create": lambda: client.post(
            "/api/generate/creation", CREATE_BODY, content_type="application/json", secure=True
        ),
        "poll": lambda: client.get(
            poll_path(poll_template, person), secure=True, headers={"HX-Request": "true"}
        ),
    }
    drafts_client = Client(HTTP_HOST="127.0.0.1")
    drafts_client.cookies["sessionid"] = owners[1]["session"]
    views["drafts"] = lambda: drafts_client.get(
        f"/soho/{owners[1]['user'].username}?tab=drafts", secure=True
    )
    for name, request in views.items():
        request()
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        with profiler:
            for _ in range(200):
                request()
        per_request = (time.perf_counter() - started) / 200 * 1000
        path = out.with_name(f"{out.stem}-profile-{name}.txt")
        path.write_text(
            f"{name}: {per_request:.2f} ms a request in-process\n\n"
            + profiler.output_text(unicode=False, color=False)
        )
        log(f"profile of {name}: {per_request:.2f} ms a request, in {path}")


NOTIFICATIONS_PER_CREATOR = 200
UNREAD_PER_CREATOR = 10


def make_notifications(creators: list[dict]) -> None:
    """200 notifications per creator (10 unread), so the bell counts over a real table."""
    import uuid
    from datetime import timedelta

    from django.utils import timezone

    from notifications.models import Notification

    now = timezone.now()
    rows = []
    for person in creators:
        for number in range(NOTIFICATIONS_PER_CREATOR):
            comment_id = uuid.uuid4()
            rows.append(
                Notification(
                    recipient=person["user"],
                    kind=Notification.Kind.COMMENT,
                    creation=person["pending"],
                    comment_id=comment_id,
                    object_key=str(comment_id),
                    text=f"bench{number:03d} commented on your draft: “Lovely light”",
                    created_at=now - timedelta(minutes=number),
                    read_at=None if number < UNREAD_PER_CREATOR else now,
                )
            )
    Notification.objects.bulk_create(rows, batch_size=5000)


def measure_notifications(base: str, creators: list[dict], owners: list[dict]) -> dict:
    """The bell's own light poll (every PHOENIX_NOTIFICATIONS_POLL_SECONDS on every page of a
    signed-in creator) against the bare view and the poll reference, in alternating rounds;
    its queries; and what the piggyback adds to the one card poll that shows a creation
    finishing (the steady card poll is unchanged: it carries no bell)."""
    from creations.models import Creation

    bell = "/notifications/bell"
    person = creators[0]
    status, body = http_get(base + bell, {**browser_headers(base, person), "HX-Request": "true"})
    expect(status, 200, "bell", body)
    if f"{UNREAD_PER_CREATOR} unread".encode() not in body:
        raise RuntimeError(f"the bell does not count {UNREAD_PER_CREATOR}: {body[:300]!r}")

    def bell_urls() -> list[str]:
        # What each browser's bell polls: the hx-get of its page (it may carry what the
        # page showed, so that a poll with nothing new answers without counting again).
        urls = []
        for creator in creators:
            url = bell_poll_url(drafts_page_html(creator))
            if url is None:
                raise RuntimeError("the drafts page has no bell poll")
            urls.append(urllib.parse.urljoin(f"/soho/{creator['user'].username}", url))
        return urls

    endpoints = {
        "bare": lambda: wrk(base, [None], ["/bench/bare"]),
        "poll_floor": lambda: wrk(
            base, creators, [poll_path("/bench/poll/{id}", c) for c in creators], hx=True
        ),
        "bell": lambda: wrk(base, creators, bell_urls(), hx=True),
        # The bell asked without what a page showed: it counts the unread every time.
        "bell_counting": lambda: wrk(base, creators, [bell] * len(creators), hx=True),
    }
    rounds: dict[str, list[dict]] = {name: [] for name in endpoints}
    for number in range(1, ROUNDS + 1):
        log(f"notifications: round {number}/{ROUNDS}: {', '.join(endpoints)}")
        for name, measure in endpoints.items():
            rounds[name].append(measure())
    results = {}
    for name, figures in rounds.items():
        best = max(figures, key=lambda f: f["req_s"])
        results[name] = {**best, "rounds_req_s": [f["req_s"] for f in figures]}
    results["bell_url"] = bell_urls()[0]
    results["bell_queries"] = count_queries(results["bell_url"], person, hx=True, status=None)
    results["bell_counting_queries"] = count_queries(bell, person, hx=True)
    owner = owners[0]
    draft = Creation.objects.filter(owner=owner["user"]).values_list("pk", flat=True).first()
    card = f"/creations/{draft}/card"
    results["card_queries_no_news"] = count_queries(f"{card}?shown=draft", owner, hx=True)
    results["card_queries_finishing"] = count_queries(f"{card}?shown=processing", owner, hx=True)
    return results


def measure_drafts(base: str, owners: list[dict]) -> dict:
    """The drafts tab with 10, 100 and 1,000 drafts (one page each) and its queries; the
    10-draft page against the bare view in alternating rounds (a goal is their ratio)."""
    results = {}
    for owner in owners:
        path = f"/soho/{owner['user'].username}?tab=drafts"
        status, body = http_get(base + path, browser_headers(base, owner))
        expect(status, 200, "drafts tab", body)
        if owner["count"] == 10:
            log(f"drafts tab with 10 drafts against the bare view, {ROUNDS} rounds")
            figures = best_of_rounds(
                "drafts",
                {
                    "bare": lambda: wrk(base, [None], ["/bench/bare"]),
                    "tab": lambda owner=owner, path=path: wrk(base, [owner], [path]),
                },
            )
            figures["tab"]["bare"] = figures["bare"]
            figures = figures["tab"]
        else:
            log(f"drafts tab with {owner['count']} drafts")
            figures = wrk(base, [owner], [path])
        figures["queries"] = count_queries(path, owner)
        results[str(owner["count"])] = figures
    return results


def best_of_rounds(label: str, endpoints: dict) -> dict:
    """Each endpoint measured once a round, ROUNDS rounds in turn; the best round counts."""
    rounds: dict[str, list[dict]] = {name: [] for name in endpoints}
    for number in range(1, ROUNDS + 1):
        log(f"{label}: round {number}/{ROUNDS}: {', '.join(endpoints)}")
        for name, measure in endpoints.items():
            rounds[name].append(measure())
    return {
        name: {
            **max(figures, key=lambda f: f["req_s"]),
            "rounds_req_s": [f["req_s"] for f in figures],
        }
        for name, figures in rounds.items()
    }


def measure_batch(base: str, creators: list[dict]) -> dict:
    """Issue 21: the create endpoint with count 4 against single creates, in alternating
    rounds: items made per second (a batch request makes BATCH_COUNT) and its queries."""
    paths = ["/api/generate/creation"] * len(creators)
    status, body = http_post(base + paths[0], BATCH_BODY, browser_headers(base, creators[0]))
    expect(status, 202, "batch create", body)
    figures = best_of_rounds(
        "batch",
        {
            "single": lambda: wrk(base, creators, paths, method="POST", body=CREATE_BODY),
            "batch": lambda: wrk(base, creators, paths, method="POST", body=BATCH_BODY),
        },
    )
    forget_load_test_rows()
    figures["batch"]["items_s"] = round(figures["batch"]["req_s"] * BATCH_COUNT, 1)
    figures["single"]["items_s"] = figures["single"]["req_s"]
    figures["single"]["queries"] = count_create_queries(CREATE_BODY, creators[0])
    figures["batch"]["queries"] = count_create_queries(BATCH_BODY, creators[0])
    forget_load_test_rows()
    return figures


def count_create_queries(body: str, person: dict) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=False)
    client.cookies["sessionid"] = person["session"]
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/api/generate/creation", body, content_type="application/json", secure=True
        )
    expect(response.status_code, 202, "create in-process", response.content)
    return len(queries)


def batch_rows(results: dict) -> list[tuple[str, str, str, str]]:
    rows = []
    for name, label in (("single", "create, 1 item"), ("batch", f"create, {BATCH_COUNT} items")):
        f = results["batch"][name]
        rows.append(
            (
                label,
                f"{f['items_s']:.0f} items/s ({f['req_s']:.0f} req/s), p50 {f['p50_ms']:.1f} ms",
                f"{f['queries']} queries, {f['errors']} errors; rounds "
                + "/".join(f"{r:.0f}" for r in f["rounds_req_s"]),
                "floor" if name == "single" else "",
            )
        )
    return rows


# ---------------------------------------------------------------- card polls, as rendered


def measure_card_polls(base: str, creators: list[dict]) -> dict:
    """The pending card's poll as the drafts page renders it (its hx-get), unchanged against
    the bare view, and changed (asked with a stale version, so it renders) against the poll
    reference, in alternating rounds."""
    from django.urls import reverse

    def canonical(url: str, person: dict) -> str:
        # The card view's own URL with no version: what a card asked before any fast path.
        return reverse("creation_card", args=[person["pending"].pk]) + "?shown=pending"

    def poll_urls() -> list[str]:
        # What each browser polls with: the hx-get of the card its drafts page showed, as
        # it holds it once the card has rendered (held_poll_urls). Read again before each
        # round, as a browser's URL is renewed at its card's renders (a URL carries the
        # moment after which it renders anyway).
        urls = []
        for person in creators:
            pk = str(person["pending"].pk)
            url = card_poll_urls(drafts_page_html(person)).get(pk)
            if url is None:
                raise RuntimeError(f"the drafts page shows no polling card for {pk}")
            url = held_poll_urls(person, {pk: url})[pk]
            urls.append(urllib.parse.urljoin(f"/soho/{person['user'].username}", url))
        return urls

    from creations.jobs import sending

    # The pending cards wait in the queue as a creator's do (their jobs were flushed with
    # the set-up's): a card's place in line is part of what its poll vouches for.
    for person in creators:
        sending.send_generation(person["pending"])
    unchanged = poll_urls()
    person, headers = creators[0], {**browser_headers(base, creators[0]), "HX-Request": "true"}
    unchanged_status, _ = http_get(base + unchanged[0], headers)
    if unchanged_status not in (200, 204, 304):
        raise RuntimeError(f"the unchanged poll answered {unchanged_status}")
    # A changed card: the URL with a stale version; if the server refuses that (a token
    # that signs the version), the card's URL without one.
    for stale in (lambda url, person: stale_poll_url(url), canonical):
        changed = [stale(url, c) for url, c in zip(unchanged, creators, strict=True)]
        changed_status, body = http_get(base + changed[0], headers)
        if changed_status == 200 and f"creation-{person['pending'].pk}".encode() in body:
            break
    else:
        raise RuntimeError(f"no changed poll renders the card: {changed_status} {body[:300]!r}")
    log(
        f"card poll as rendered: {unchanged[0]} answers {unchanged_status} unchanged; "
        f"{changed[0]} renders the card"
    )
    results = best_of_rounds(
        "card polls",
        {
            "bare": lambda: wrk(base, [None], ["/bench/bare"]),
            "poll_floor": lambda: wrk(
                base, creators, [poll_path("/bench/poll/{id}", c) for c in creators], hx=True
            ),
            "unchanged": lambda: wrk(base, creators, poll_urls(), hx=True),
            "changed": lambda: wrk(base, creators, changed, hx=True),
        },
    )
    results["example_url"] = unchanged[0]
    results["example_stale_url"] = changed[0]
    results["unchanged_status"] = unchanged_status
    results["unchanged_queries"] = count_queries(unchanged[0], person, hx=True, status=None)
    results["changed_queries"] = count_queries(changed[0], person, hx=True)
    return results


# ---------------------------------------------------------------- a deep queue


def queue_creations(owners: list, count: int, prompt: str) -> list:
    """`count` pending creations (rows only), one owner after another, every fifth a video."""
    from creations.models import Creation

    return Creation.objects.bulk_create(
        [
            Creation(
                owner=owners[index % len(owners)],
                kind="video" if index % 5 == 4 else "image",
                prompt=f"{prompt} {index}",
                aspect_ratio="" if index % 5 == 4 else "1:1",
                orientation="landscape" if index % 5 == 4 else "",
                cost=1,
            )
            for index in range(count)
        ],
        batch_size=1000,
    )


def timed_enqueues(creations: list) -> list[float]:
    """Each creation's job sent through the real path (creations.services.creation_enqueue:
    the enqueue and its placement in the fair order), timed one by one, in microseconds."""
    from creations import services

    timings = []
    for creation in creations:
        started = time.perf_counter()
        sent = services.creation_enqueue(creation)
        timings.append((time.perf_counter() - started) * 1e6)
        if not sent:
            raise RuntimeError(f"creation {creation.pk} was not enqueued")
    return timings


def measure_deep_queue(base: str, creators: list[dict]) -> dict:
    """DEEP_QUEUE_JOBS jobs queued from DEEP_QUEUE_CREATORS creators (rows written in bulk,
    each job sent through the real enqueue): one enqueue's cost with that queue against an
    empty one, then the create endpoint against the debit floor, in alternating rounds."""
    from django.contrib.auth import get_user_model

    from creations.models import Creation

    User = get_user_model()
    forget_load_test_rows()
    owners = User.objects.bulk_create(
        [User(username=f"queue{n:05d}", password="!") for n in range(DEEP_QUEUE_CREATORS)],
        batch_size=1000,
    )
    samples = queue_creations(owners, 2 * ENQUEUE_SAMPLES + 10, "an enqueue sample")
    timed_enqueues(samples[:5])  # warm: the script's first load, the connection
    redis_connection().flushdb()
    empty = timed_enqueues(samples[5 : 5 + ENQUEUE_SAMPLES])
    log(f"deep queue: {DEEP_QUEUE_JOBS} jobs from {DEEP_QUEUE_CREATORS} creators")
    queued = queue_creations(owners, DEEP_QUEUE_JOBS, "a queued lighthouse")
    started = time.monotonic()
    timed_enqueues(queued)
    fill_seconds = time.monotonic() - started
    timed_enqueues(samples[5 + ENQUEUE_SAMPLES : 10 + ENQUEUE_SAMPLES])  # the same warm-up
    deep = timed_enqueues(samples[10 + ENQUEUE_SAMPLES :])
    log(
        f"deep queue: filled in {fill_seconds:.1f} s; one enqueue {statistics.median(empty):.0f}"
        f" µs empty, {statistics.median(deep):.0f} µs with {DEEP_QUEUE_JOBS} queued"
    )

    def forget_load_test_creations() -> None:
        # The queue stays (its depth only grows by the creates of the round).
        Creation.objects.filter(prompt__in=["floor", json.loads(CREATE_BODY)["prompt"]]).delete()

    rounds: dict[str, list[dict]] = {"debit": [], "create": []}
    for number in range(1, ROUNDS + 1):
        log(f"deep queue: round {number}/{ROUNDS}: debit, create")
        rounds["debit"].append(wrk(base, creators, ["/bench/debit"] * len(creators), method="POST"))
        rounds["create"].append(
            wrk(
                base,
                creators,
                ["/api/generate/creation"] * len(creators),
                method="POST",
                body=CREATE_BODY,
            )
        )
        forget_load_test_creations()
    results = {
        name: {
            **max(figures, key=lambda f: f["req_s"]),
            "rounds_req_s": [f["req_s"] for f in figures],
        }
        for name, figures in rounds.items()
    }
    Creation.objects.filter(owner__in=owners).delete()
    User.objects.filter(pk__in=[owner.pk for owner in owners]).delete()
    forget_load_test_rows()
    analyze()
    results.update(
        jobs=DEEP_QUEUE_JOBS,
        creators=DEEP_QUEUE_CREATORS,
        fill_s=round(fill_seconds, 1),
        enqueue_us_empty=round(statistics.median(empty), 1),
        enqueue_us_deep=round(statistics.median(deep), 1),
        enqueue_samples=ENQUEUE_SAMPLES,
    )
    return results


def run_worker_burst(queue: str, worker_class: str, **env: str) -> None:
    subprocess.run(
        [
            PYTHON,
            "manage.py",
            "rqworker",
            queue,
            "--burst",
            "--worker-class",
            worker_class,
            "--verbosity",
            "0",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        stdout=subprocess.DEVNULL,
    )


def measure_worker(creators: list[dict]) -> dict:
    """Real generation jobs with an instant provider against RQ no-op jobs, per worker class."""
    from creations import queues, services
    from creations.models import Creation
    from creations.validation import CreationRequest

    def noop_rate(worker_class: str) -> float:
        redis_connection().flushdb()
        queues.reset()
        noop_queue = queues.get_queue("default")
        ids = [
            noop_queue.enqueue("bench.jobs.noop", result_ttl=3600).id for _ in range(WORKER_JOBS)
        ]
        run_worker_burst("default", worker_class)
        return jobs_per_second(ids)

    def real_rate(worker_class: str) -> float:
        request = CreationRequest("image", "an instant lighthouse", "1:1")
        submitted = [
            services.creation_submit(user=creators[i % len(creators)]["user"], request=request)[0]
            for i in range(WORKER_JOBS)
        ]
        run_worker_burst("images", worker_class, PHOENIX_IMAGE_PROVIDER=INSTANT_PROVIDER)
        drafts = Creation.objects.filter(pk__in=[c.pk for c in submitted], status="draft").count()
        if drafts != len(submitted):
            raise RuntimeError(f"only {drafts} of {len(submitted)} instant jobs became drafts")
        return jobs_per_second([queues.job_id_for(c.pk) for c in submitted])

    results = {}
    for label, worker_class in (
        ("forking Worker", "rq.worker.Worker"),
        ("PreloadingWorker, as run", PRODUCTION_WORKER),
        ("SimpleWorker", "rq.worker.SimpleWorker"),
    ):
        noop_rounds, real_rounds = [], []
        for number in range(1, ROUNDS + 1):
            log(f"worker, {label}: round {number}/{ROUNDS}, {WORKER_JOBS} no-op then real jobs")
            noop_rounds.append(noop_rate(worker_class))
            real_rounds.append(real_rate(worker_class))
        results[label] = {
            "noop_jobs_s": max(noop_rounds),
            "real_jobs_s": max(real_rounds),
            "ratio": round(max(real_rounds) / max(noop_rounds), 2),
            "rounds_noop_jobs_s": noop_rounds,
            "rounds_real_jobs_s": real_rounds,
        }
    redis_connection().flushdb()
    return results


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def measure_end_to_end(base: str, person: dict) -> dict:
    """One creation at a time through gunicorn and a real worker with the local provider:
    the time from the create request's row to its draft, on an otherwise idle machine."""
    from creations.models import Creation

    queues_env = {"PHOENIX_IMAGE_PROVIDER": "local", "PHOENIX_VIDEO_PROVIDER": "local"}
    worker = subprocess.Popen(
        [PYTHON, "manage.py", "rqworker", "images", "videos", "--worker-class", PRODUCTION_WORKER],
        cwd=ROOT,
        env={**os.environ, **queues_env},
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    results = {}
    try:
        for kind, body in (
            (
                "image",
                {"type": "image", "prompt": "a lighthouse in a storm", "aspect_ratio": "1:1"},
            ),
            (
                "video",
                {"type": "video", "prompt": "waves under a lighthouse", "orientation": "landscape"},
            ),
        ):
            log(f"end to end: {E2E_RUNS} {kind}s with the local provider")
            server_seconds, client_seconds = [], []
            for _ in range(E2E_RUNS):
                started = time.monotonic()
                status, answer = http_post(
                    base + "/api/generate/creation", json.dumps(body), browser_headers(base, person)
                )
                expect(status, 202, f"create {kind}", answer)
                creation_id = json.loads(answer)["creation_id"]
                deadline = started + 120
                while True:
                    creation = Creation.objects.get(pk=creation_id)
                    if creation.status not in Creation.IN_FLIGHT:
                        break
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{kind} {creation_id} still {creation.status}")
                    time.sleep(0.02)
                client_seconds.append(time.monotonic() - started)
                if creation.status != Creation.Status.DRAFT:
                    raise RuntimeError(f"{kind} {creation_id} ended {creation.status}")
                server_seconds.append((creation.draft_at - creation.created_at).total_seconds())
            results[kind] = {
                "runs": E2E_RUNS,
                "p50_s": round(statistics.median(server_seconds), 3),
                "p95_s": round(percentile(server_seconds, 0.95), 3),
                "max_s": round(max(server_seconds), 3),
                "client_p95_s": round(percentile(client_seconds, 0.95), 3),
            }
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    return results


def process_pss_kb(pid: int) -> int:
    """A process's proportional set size: pages it shares with its forked work horse count
    half to each, so the sum of the two is what they take together."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def child_pids(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return children


def measure_remote_videos(creators: list[dict]) -> dict:
    """REMOTE_VIDEOS Runway videos of REMOTE_TASK_SECONDS each, submitted at once, one
    worker process (and rqcron for the periodic check) against the fake Runway: the time
    until all are drafts, the worker's peak memory (its PSS plus its work horse's), and
    the provider calls per video. Before submit-then-check, each video held the worker
    for its whole task: about REMOTE_VIDEOS x REMOTE_TASK_SECONDS."""
    from werkzeug import Request
    from werkzeug.serving import make_server

    from creations import services
    from creations.models import Creation
    from creations.validation import CreationRequest
    from tests.providers.fake_runway import FakeRunway, make_mp4

    redis_connection().flushdb()
    fake = FakeRunway(video=make_mp4(640, 360, 2), duration=REMOTE_TASK_SECONDS)
    server = make_server("127.0.0.1", 0, Request.application(fake.handle), threaded=True)
    fake.base_url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        **os.environ,
        "PHOENIX_VIDEO_PROVIDER": "runway",
        "RUNWAY_API_KEY": "bench-key",
        "RUNWAY_BASE_URL": fake.base_url,
    }
    worker = subprocess.Popen(
        [PYTHON, "manage.py", "rqworker", "videos", "default", "--worker-class", PRODUCTION_WORKER],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    # The remote checks and the fetches of finished results run on `light`, as the
    # Procfile's worker-light serves it.
    light = subprocess.Popen(
        [PYTHON, "manage.py", "rqworker", "light", "--worker-class", LIGHT_WORKER],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    cron = subprocess.Popen(
        [PYTHON, "manage.py", "rqcron", "phoenix.cron"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        time.sleep(3)  # the worker warms up, rqcron registers its jobs
        log(f"remote: {REMOTE_VIDEOS} videos of {REMOTE_TASK_SECONDS} s at once, one worker")
        request = CreationRequest("video", "waves under a lighthouse", "", "landscape")
        started = time.monotonic()
        submitted = [
            services.creation_submit(user=creators[i]["user"], request=request)[0].pk
            for i in range(REMOTE_VIDEOS)
        ]
        peak_kb = 0
        deadline = started + 40 * REMOTE_TASK_SECONDS
        while True:
            peak_kb = max(
                peak_kb, sum(process_pss_kb(p) for p in [worker.pid, *child_pids(worker.pid)])
            )
            in_flight = Creation.objects.filter(pk__in=submitted, status__in=Creation.IN_FLIGHT)
            if not in_flight.exists():
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{in_flight.count()} remote videos still in flight")
            time.sleep(0.1)
        seconds = time.monotonic() - started
        drafts = Creation.objects.filter(pk__in=submitted, status="draft").count()
        if drafts != REMOTE_VIDEOS:
            raise RuntimeError(f"only {drafts} of {REMOTE_VIDEOS} remote videos became drafts")
    finally:
        for process in (cron, worker, light):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        server.shutdown()
    calls = {kind: fake.count(kind) for kind in ("submit", "task", "output", "cancel")}
    return {
        "videos": REMOTE_VIDEOS,
        "task_seconds": REMOTE_TASK_SECONDS,
        "all_drafts_s": round(seconds, 1),
        "before_s": REMOTE_VIDEOS * REMOTE_TASK_SECONDS,
        "worker_peak_mb": round(peak_kb / 1024, 1),
        "calls_per_video": {kind: round(n / REMOTE_VIDEOS, 2) for kind, n in calls.items()},
    }


# ---------------------------------------------------------------- figures at a million ledger rows


def fill_figures_tables(creators: list[dict], owners: list[dict]) -> None:
    """FIGURES_CREATIONS creations (drafts, posts and failures of the last 4 weeks) and
    FIGURES_LEDGER_ROWS ledger rows (their debits, the failures' refunds, grants), by SQL."""
    from django.db import connection, transaction

    from creations.models import Creation
    from tokens.models import LedgerEntry, TokenAccount

    draft = Creation.objects.filter(owner=owners[0]["user"]).first()
    grant = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.GRANT).first()
    users = [person["user"].pk for person in creators]
    accounts = list(
        LedgerEntry.objects.filter(kind=LedgerEntry.Kind.GRANT)
        .values_list("account_id", flat=True)
        .distinct()
    )
    uuid_of = "md5('phoenix-bench-figures-' || {n})::uuid"
    status = (
        "CASE WHEN mod(n, 10) < 6 THEN 'draft' WHEN mod(n, 10) < 9 THEN 'published' "
        "ELSE 'failed' END"
    )
    moment = "now() - n * interval '8 seconds'"
    creations = copy_rows_sql(
        Creation,
        FIGURES_CREATIONS,
        {
            "id": uuid_of.format(n="n"),
            "owner_id": f"(ARRAY{users}::integer[])[1 + mod(n, {len(users)})]",
            "kind": "CASE WHEN mod(n, 5) = 0 THEN 'video' ELSE 'image' END",
            "prompt": "'figures ' || n",
            "status": status,
            "idempotency_key": "NULL",
            "error_code": "CASE WHEN mod(n, 10) = 9 THEN 'provider_error' ELSE '' END",
            "created_at": moment,
            "processing_at": f"{moment} + interval '1 second'",
            "draft_at": f"CASE WHEN mod(n, 10) < 9 THEN {moment} + interval '9 seconds' END",
            "published_at": (
                f"CASE WHEN mod(n, 10) BETWEEN 6 AND 8 THEN {moment} + interval '1 hour' END"
            ),
            "failed_at": f"CASE WHEN mod(n, 10) = 9 THEN {moment} + interval '9 seconds' END",
        },
    )
    # 1..C: each creation's debit; then a refund for each failed one; the rest grants.
    refunds = FIGURES_CREATIONS // 10
    kind = (
        f"CASE WHEN n <= {FIGURES_CREATIONS} THEN 'debit' "
        f"WHEN n <= {FIGURES_CREATIONS + refunds} THEN 'refund' ELSE 'grant' END"
    )
    refunded = f"(n - {FIGURES_CREATIONS}) * 10 - 1"
    ledger = copy_rows_sql(
        LedgerEntry,
        FIGURES_LEDGER_ROWS,
        {
            "id": None,
            "kind": kind,
            "amount": f"CASE WHEN n <= {FIGURES_CREATIONS} THEN -1 ELSE 1 END",
            "balance_after": "1000",
            "reason": "'benchmark figures'",
            "created_at": f"now() - (mod(n, {FIGURES_CREATIONS})) * interval '8 seconds'",
            "creation_id": (
                f"CASE WHEN n <= {FIGURES_CREATIONS} THEN {uuid_of.format(n='n')} "
                f"WHEN n <= {FIGURES_CREATIONS + refunds} THEN {uuid_of.format(n=refunded)} END"
            ),
            "staff_id": "NULL",
            "request_key": "NULL",
            "account_id": f"(ARRAY{accounts}::bigint[])[1 + mod(n, {len(accounts)})]",
        },
    )
    # Each account's balance is the sum of its ledger, as the money core keeps it: an
    # account that is not would be a discrepancy that each alert run reports by name.
    balances = (
        f"UPDATE {TokenAccount._meta.db_table} AS account SET balance = total.amount "  # nosec B608
        f"FROM (SELECT account_id, sum(amount) AS amount FROM {LedgerEntry._meta.db_table} "
        "GROUP BY account_id) AS total WHERE total.account_id = account.id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(creations, [draft.pk])
        cursor.execute(ledger, [grant.pk])
        cursor.execute(balances)


def catch_up_rollups() -> list[str]:
    """Run once, untimed, any periodic rollup job (a function of phoenix.cron whose name
    says rollup): in production it keeps up minute by minute, while the bench's rows all
    arrived at once."""
    import phoenix.cron

    ran = []
    for name, job in vars(phoenix.cron).items():
        if "rollup" in name.lower() and callable(job):
            job()
            ran.append(name)
    return ran


def measure_figures(creators: list[dict], owners: list[dict]) -> dict:
    """One /metrics scrape (as Prometheus: the bearer token) and one alert evaluation
    (ops.alerting.alerts_run, the cron job's) with FIGURES_LEDGER_ROWS ledger rows and
    FIGURES_CREATIONS creations: the median of 3 of each, after one untimed call each before
    the rows are written (the code's first use) and any rollup job's catch-up after."""
    from django.test import Client

    from ops import alerting

    client = Client(HTTP_HOST="127.0.0.1")
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}

    def scrape() -> None:
        response = client.get("/metrics", secure=True, headers=headers)
        expect(response.status_code, 200, "/metrics", response.content)

    def timed(call) -> list[float]:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            call()
            times.append(round((time.perf_counter() - started) * 1000, 1))
        return times

    scrape()
    alerting.alerts_run()
    log(f"figures: {FIGURES_LEDGER_ROWS} ledger rows and {FIGURES_CREATIONS} creations")
    started = time.monotonic()
    fill_figures_tables(creators, owners)
    analyze()
    fill_seconds = time.monotonic() - started
    rollups = catch_up_rollups()
    scrape_ms, alerts_ms = timed(scrape), timed(alerting.alerts_run)
    results = {
        "ledger_rows": FIGURES_LEDGER_ROWS,
        "creations": FIGURES_CREATIONS,
        "fill_s": round(fill_seconds, 1),
        "rollups_run": rollups,
        "scrape_ms": statistics.median(scrape_ms),
        "alerts_ms": statistics.median(alerts_ms),
        "rounds_scrape_ms": scrape_ms,
        "rounds_alerts_ms": alerts_ms,
    }
    log(f"figures: scrape {results['scrape_ms']} ms, alert run {results['alerts_ms']} ms")
    return results


# ---------------------------------------------------------------- report


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def http_rows(results: dict) -> list[tuple[str, str, str, str]]:
    rows = []
    for name, figures in results["http"].items():
        chosen = " (chosen)" if name == results["server"] else ""
        for what in ("bare", "poll_floor", "poll", "debit", "create"):
            f = figures[what]
            rows.append(
                (
                    f"[{name}{chosen}] {what}",
                    f"{f['req_s']:.0f} req/s, p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms",
                    f"{f['errors']} errors; rounds "
                    + "/".join(f"{r:.0f}" for r in f.get("rounds_req_s", [])),
                    {"bare": "floor", "debit": "floor", "poll_floor": "reference"}.get(what, ""),
                )
            )
    http = results["http"][results["server"]]
    bare, debit, create, poll = http["bare"], http["debit"], http["create"], http["poll"]
    create_ratio = create["req_s"] / debit["req_s"]
    rows.append(
        (
            "create vs debit floor",
            f"{create_ratio:.2f}",
            f"{create['req_s']:.0f} / {debit['req_s']:.0f} req/s",
            f"≥ {GOALS['create_ratio']}: {verdict(create_ratio >= GOALS['create_ratio'])}",
        )
    )
    rows.append(
        (
            "create p99 at 16 clients",
            f"{create['p99_ms']:.1f} ms",
            f"debit floor p99 {debit['p99_ms']:.1f} ms",
            f"< {GOALS['create_p99_ms']} ms: {verdict(create['p99_ms'] < GOALS['create_p99_ms'])}",
        )
    )
    poll_ratio = poll["req_s"] / bare["req_s"]
    label = "card poll" if results["poll"]["target"] == "card" else "poll (API JSON: no card yet)"
    rows.append(
        (
            f"{label} vs bare view",
            f"{poll_ratio:.2f}",
            f"{poll['req_s']:.0f} / {bare['req_s']:.0f} req/s",
            f"≥ {GOALS['poll_ratio']}: {verdict(poll_ratio >= GOALS['poll_ratio'])}",
        )
    )
    poll_floor = http["poll_floor"]
    rows.append(
        (
            f"{label} vs poll reference",
            f"{poll['req_s'] / poll_floor['req_s']:.2f}",
            f"{poll['req_s']:.0f} / {poll_floor['req_s']:.0f} req/s",
            "(no goal: what a logged-in one-row poll can do)",
        )
    )
    queries = results["poll"]["queries"]
    rows.append(
        (
            f"{label}: SQL queries per poll",
            str(queries),
            "",
            f"≤ {GOALS['poll_queries']}: {verdict(queries <= GOALS['poll_queries'])}",
        )
    )
    return rows


def drafts_rows(results: dict) -> list[tuple[str, str, str, str]]:
    drafts = results["drafts"]
    constant = len({d["queries"] for d in drafts.values()}) == 1
    bare = results["http"].get(results["server"], {}).get("bare")
    rows = []
    for count, figures in drafts.items():
        floor = figures.get("bare", bare)
        against = f"{figures['req_s'] / floor['req_s']:.2f} of bare" if floor else ""
        rows.append(
            (
                f"drafts tab, {count} drafts",
                f"{figures['queries']} queries, {figures['req_s']:.0f} req/s, "
                f"p50 {figures['p50_ms']:.1f} ms",
                against,
                f"constant queries: {verdict(constant)}",
            )
        )
    return rows


def worker_rows(results: dict) -> list[tuple[str, str, str, str]]:
    return [
        (
            f"worker jobs/s ({label})",
            f"{figures['real_jobs_s']:.0f} jobs/s, ratio {figures['ratio']:.2f}",
            f"no-op {figures['noop_jobs_s']:.0f} jobs/s; best of "
            f"{len(figures['rounds_noop_jobs_s'])} rounds",
            f"≥ {GOALS['worker_ratio']}: {verdict(figures['ratio'] >= GOALS['worker_ratio'])}",
        )
        for label, figures in results["worker"].items()
    ]


def notifications_rows(results: dict) -> list[tuple[str, str, str, str]]:
    figures = results["notifications"]
    bell, bare, floor = figures["bell"], figures["bare"], figures["poll_floor"]
    ratio = bell["req_s"] / floor["req_s"]
    queries = figures["bell_queries"]
    added = figures["card_queries_finishing"] - figures["card_queries_no_news"]
    return [
        (
            "bell poll (as the page polls it)",
            f"{bell['req_s']:.0f} req/s, p50 {bell['p50_ms']:.1f} ms, p99 {bell['p99_ms']:.1f} ms",
            f"{bell['errors']} errors; rounds "
            + "/".join(f"{r:.0f}" for r in bell["rounds_req_s"]),
            "",
        ),
        (
            "bell poll counting (no page state)",
            f"{figures['bell_counting']['req_s']:.0f} req/s, "
            f"p50 {figures['bell_counting']['p50_ms']:.1f} ms",
            f"{figures['bell_counting']['req_s'] / floor['req_s']:.2f} of the poll reference; "
            f"{figures['bell_counting_queries']} queries",
            "",
        ),
        (
            "bell poll vs poll reference",
            f"{ratio:.2f}",
            f"{bell['req_s']:.0f} / {floor['req_s']:.0f} req/s",
            f"≥ {GOALS['bell_ratio']}: {verdict(ratio >= GOALS['bell_ratio'])}",
        ),
        (
            "bell poll vs bare view",
            f"{bell['req_s'] / bare['req_s']:.2f}",
            f"{bell['req_s']:.0f} / {bare['req_s']:.0f} req/s",
            "(no goal: the bare view does no database work)",
        ),
        (
            "bell: SQL queries per poll",
            str(queries),
            f"{NOTIFICATIONS_PER_CREATOR} notifications, {UNREAD_PER_CREATOR} unread each",
            f"≤ {GOALS['bell_queries']}: {verdict(queries <= GOALS['bell_queries'])}",
        ),
        (
            "card poll showing a creation finish: bell piggyback",
            f"+{added} statement",
            f"{figures['card_queries_finishing']} vs {figures['card_queries_no_news']} "
            "queries (steady polls: +0)",
            "",
        ),
    ]


def end_to_end_rows(results: dict) -> list[tuple[str, str, str, str]]:
    rows = []
    for kind, figures in results["end_to_end"].items():
        goal = GOALS[f"{kind}_p95_s"]
        rows.append(
            (
                f"{kind} create→draft ({figures['runs']} runs)",
                f"p50 {figures['p50_s']:.2f} s, p95 {figures['p95_s']:.2f} s",
                f"client-seen p95 {figures['client_p95_s']:.2f} s",
                f"p95 < {goal:g} s: {verdict(figures['p95_s'] < goal)}",
            )
        )
    return rows


def ratio(numerator: float | None, denominator: float | None, digits: int = 3) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, digits)


def goals(results: dict) -> dict:
    """Issue 19's goals, from the parts that ran (None where a part did not run)."""
    http = results["http"].get(results["server"], {})
    drafts = results.get("drafts", {})
    polls = results.get("card_poll", {})
    deep = results.get("deep_queue", {})
    figures = results.get("figures", {})
    # The bare view of the http part (the chosen server's); a trial of one part uses its own.
    bare = next(
        (
            floor["req_s"]
            for floor in (http.get("bare"), polls.get("bare"), drafts.get("10", {}).get("bare"))
            if floor
        ),
        None,
    )
    worker = results.get("worker", {}).get("PreloadingWorker, as run", {})
    return {
        "capacity_creators": results.get("capacity", {}).get("web", {}).get("max_creators"),
        "bare_req_s": bare,
        "poll_unchanged_vs_bare": ratio(
            polls.get("unchanged", {}).get("req_s"), polls.get("bare", {}).get("req_s")
        ),
        "poll_changed_vs_reference": ratio(
            polls.get("changed", {}).get("req_s"), polls.get("poll_floor", {}).get("req_s")
        ),
        "create_vs_debit_deep_queue": ratio(
            deep.get("create", {}).get("req_s"), deep.get("debit", {}).get("req_s")
        ),
        "enqueue_cost_ratio_10k_vs_0": ratio(
            deep.get("enqueue_us_deep"), deep.get("enqueue_us_empty"), 2
        ),
        "worker_vs_noop": worker.get("ratio"),
        "figures_ms_at_1m_ledger": (
            max(figures["scrape_ms"], figures["alerts_ms"]) if figures else None
        ),
        "drafts_tab_queries": (
            {count: drafts[count]["queries"] for count in ("10", "1000")} if drafts else None
        ),
        "drafts_tab_vs_bare": ratio(
            drafts.get("10", {}).get("req_s"), drafts.get("10", {}).get("bare", {}).get("req_s")
        ),
        "batch_items_vs_single": ratio(
            results.get("batch", {}).get("batch", {}).get("items_s"),
            results.get("batch", {}).get("single", {}).get("items_s"),
        ),
        "library_search_p95_ms": results.get("library", {}).get("search_p95_ms"),
        "public_search_p95_ms": results.get("community", {}).get("search_p95_ms"),
        "explore_p95_ms": results.get("community", {}).get("explore_p95_ms"),
        "profile_page_p95_ms": results.get("community", {}).get("profile_p95_ms"),
    }


def goal_rows(results: dict) -> list[tuple[str, str, str, str]]:
    """One row per goal of issue 19: met, MISSED, or not measured (its part did not run)."""
    found, targets = results["goals"], TARGETS

    def row(name: str, figure, met, target: str, against: str = ""):
        if figure is None or met is None:
            shown = "—" if figure is None else str(figure)
            return (f"goal {name}", shown, against, f"{target}: not measured")
        return (f"goal {name}", str(figure), against, f"{target}: {verdict(met)}")

    capacity, bare = found["capacity_creators"], found["bare_req_s"]
    wanted = round(targets["capacity_per_bare_req_s"] * bare) if bare else None
    queries = found["drafts_tab_queries"]
    rows = [
        row(
            "capacity_creators",
            capacity,
            None if wanted is None else capacity is not None and capacity >= wanted,
            f"≥ {targets['capacity_per_bare_req_s']} × bare_req_s"
            + (f" = {wanted}" if wanted else ""),
            f"bare_req_s {bare}",
        ),
        row(
            "drafts_tab_queries",
            queries and f"{queries['10']} at 10, {queries['1000']} at 1,000",
            queries and queries["10"] == queries["1000"],
            "equal",
        ),
    ]
    for name in (
        "poll_unchanged_vs_bare",
        "poll_changed_vs_reference",
        "create_vs_debit_deep_queue",
        "worker_vs_noop",
        "drafts_tab_vs_bare",
        "batch_items_vs_single",
    ):
        figure = found[name]
        rows.append(
            row(name, figure, figure is not None and figure >= targets[name], f"≥ {targets[name]}")
        )
    for name in (
        "enqueue_cost_ratio_10k_vs_0",
        "figures_ms_at_1m_ledger",
        "library_search_p95_ms",
        "public_search_p95_ms",
        "explore_p95_ms",
        "profile_page_p95_ms",
    ):
        figure = found[name]
        rows.append(
            row(name, figure, figure is not None and figure <= targets[name], f"≤ {targets[name]}")
        )
    return rows


def card_poll_rows(results: dict) -> list[tuple[str, str, str, str]]:
    figures = results["card_poll"]
    rows = []
    for name, label in (
        ("unchanged", "card poll as rendered, unchanged"),
        ("changed", "card poll, changed (stale version)"),
    ):
        f = figures[name]
        queries = figures[f"{name}_queries"]
        rows.append(
            (
                label,
                f"{f['req_s']:.0f} req/s, p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms",
                f"{queries} queries, {f['errors']} errors; rounds "
                + "/".join(f"{r:.0f}" for r in f["rounds_req_s"]),
                f"HTTP {figures['unchanged_status']}" if name == "unchanged" else "",
            )
        )
    return rows


def deep_queue_rows(results: dict) -> list[tuple[str, str, str, str]]:
    figures = results["deep_queue"]
    rows = []
    for name in ("debit", "create"):
        f = figures[name]
        rows.append(
            (
                f"{name} with {figures['jobs']} queued",
                f"{f['req_s']:.0f} req/s, p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms",
                f"{f['errors']} errors; rounds " + "/".join(f"{r:.0f}" for r in f["rounds_req_s"]),
                "floor" if name == "debit" else "",
            )
        )
    rows.append(
        (
            "one enqueue + placement",
            f"{figures['enqueue_us_deep']:.0f} µs with {figures['jobs']} queued",
            f"{figures['enqueue_us_empty']:.0f} µs empty (median of {figures['enqueue_samples']})",
            f"queue filled in {figures['fill_s']:.1f} s",
        )
    )
    return rows


def figures_rows(results: dict) -> list[tuple[str, str, str, str]]:
    f = results["figures"]
    return [
        (
            f"figures at {f['ledger_rows']:,} ledger rows, {f['creations']:,} creations",
            f"/metrics {f['scrape_ms']:.1f} ms, alert run {f['alerts_ms']:.1f} ms",
            "median of 3; "
            + (
                f"rollups run: {', '.join(f['rollups_run'])}"
                if f["rollups_run"]
                else "no rollup job"
            ),
            f"rows written in {f['fill_s']:.0f} s",
        )
    ]


def build_report(results: dict) -> list[tuple[str, str, str, str]]:
    """Rows of (measure, figure, against, goal) for the parts that ran."""
    rows = []
    if results["http"]:
        rows += http_rows(results)
    if "drafts" in results:
        rows += drafts_rows(results)
    if "batch" in results:
        rows += batch_rows(results)
    if "card_poll" in results:
        rows += card_poll_rows(results)
    if "deep_queue" in results:
        rows += deep_queue_rows(results)
    if "notifications" in results:
        rows += notifications_rows(results)
    if "worker" in results:
        rows += worker_rows(results)
    if "end_to_end" in results:
        rows += end_to_end_rows(results)
    if "remote" in results:
        rows += remote_rows(results)
    if "capacity" in results:
        rows += capacity.rows(results["capacity"])
    if "figures" in results:
        rows += figures_rows(results)
    if "library" in results:
        from bench import library

        rows += library.rows(results["library"])
    if "community" in results:
        from bench import community

        rows += community.rows(results["community"])
    return rows + goal_rows(results)


def remote_rows(results: dict) -> list[tuple[str, str, str, str]]:
    figures = results["remote"]
    goal = GOALS["remote_task_durations"] * figures["task_seconds"]
    calls = figures["calls_per_video"]
    return [
        (
            f"{figures['videos']} remote videos of {figures['task_seconds']} s, 1 worker",
            f"all drafts in {figures['all_drafts_s']:.1f} s; worker peak "
            f"{figures['worker_peak_mb']:.0f} MB PSS",
            f"before: ~{figures['before_s']} s (one held worker per video); calls/video: "
            f"{calls['submit']:g} submit, {calls['task']:g} checks, {calls['output']:g} download",
            f"< {goal:g} s: {verdict(figures['all_drafts_s'] < goal)}",
        )
    ]


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    headers = ("measure", "figure", "against", "goal")
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(4)]
    line = "  ".join("-" * w for w in widths)
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print(line)
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    print(line)


def machine() -> dict:
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in load],
    }


def main() -> None:
    scratch = configure_environment()
    started = datetime.now(UTC)
    results: dict = {"started_at": started.isoformat(), "machine": machine()}
    log(f"database {DB_NAME}, redis db {REDIS_DB}, cache redis db {REDIS_CACHE_DB}")
    recreate_database()
    prepare_django()
    redis_connection().flushdb()
    redis_connection(os.environ["REDIS_CACHE_URL"]).flushdb()

    log(f"{USERS} creators with sessions and a pending card each")
    creators = make_creators()
    owners = [make_drafts_owner(count) for count in (10, 100, 1000)]
    if "notifications" in PARTS:
        make_notifications(creators)
    redis_connection().flushdb()  # the pending cards' jobs never run
    analyze()

    results["http"] = {}
    for name, args in SERVER_SETUPS.items() if "http" in PARTS else ():
        with gunicorn(args) as base:
            poll = poll_target(base, creators[0])
            results["poll"] = {"target": poll[0], "path": poll[1]}
            results["http"][name] = measure_http(name, base, creators, poll)
    if results["http"]:
        results["server"] = max(
            results["http"], key=lambda name: results["http"][name]["create"]["req_s"]
        )
        poll_path_for_queries = poll_path(results["poll"]["path"], creators[0])
        results["poll"]["queries"] = count_queries(
            poll_path_for_queries, creators[0], hx=results["poll"]["target"] == "card"
        )
        results["poll"]["reference_queries"] = count_queries(
            poll_path("/bench/poll/{id}", creators[0]), creators[0], hx=True
        )
    else:
        results["server"] = "sync"
    results["server_args"] = SERVER_SETUPS[results["server"]]
    log(f"serving the rest with {results['server']}")

    with gunicorn(SERVER_SETUPS[results["server"]]) as base:
        if "drafts" in PARTS:
            results["drafts"] = measure_drafts(base, owners)
        if "cardpoll" in PARTS:
            results["card_poll"] = measure_card_polls(base, creators)
        if "notifications" in PARTS:
            results["notifications"] = measure_notifications(base, creators, owners)
        if "batch" in PARTS:
            results["batch"] = measure_batch(base, creators)
        if "queue" in PARTS:
            results["deep_queue"] = measure_deep_queue(base, creators)
        if "worker" in PARTS:
            results["worker"] = measure_worker(creators)
        if "e2e" in PARTS:
            results["end_to_end"] = measure_end_to_end(base, creators[1])
    if "remote" in PARTS:
        results["remote"] = measure_remote_videos(creators)
    if "capacity" in PARTS:
        results["capacity"] = capacity.measure()
    # Last: its million rows would slow every part after it.
    if "figures" in PARTS:
        results["figures"] = measure_figures(creators, owners)
    # After the figures: its million creations would slow every part before it.
    if "library" in PARTS:
        from bench import library

        results["library"] = library.measure()
    # Last: its million creations and five million likes would slow every part before it.
    if "community" in PARTS:
        from bench import community

        results["community"] = community.measure()

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"{started:%Y%m%d-%H%M%S}.json"
    if PROFILE:
        poll_template = results.get("poll", {}).get("path", "/api/creations/{id}")
        profile_views(creators, owners, poll_template, out)
    redis_connection().flushdb()  # leave no jobs behind in the benchmark's Redis database
    results["seconds"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    results["goals"] = goals(results)
    rows = build_report(results)
    results["table"] = [
        dict(zip(("measure", "figure", "against", "goal"), r, strict=True)) for r in rows
    ]
    print_table(rows)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    log(f"results in {out} ({results['seconds']:.0f} s)")
    scratch.cleanup()


if __name__ == "__main__":
    main()
