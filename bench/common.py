"""What the benchmark's parts share (the runner, the capacity, library and community parts):
the log line, the creators and their drafts, the HTTP client, Redis, and the worker's rate."""

import os
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from bench.pages import card_poll_urls, stale_poll_url

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


INSTANT_PROVIDER = "bench.providers:InstantProvider"
# The worker class the Procfile runs.
PRODUCTION_WORKER = "creations.worker.PreloadingWorker"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def redis_connection(url: str | None = None):
    from redis import Redis

    return Redis.from_url(url or os.environ["REDIS_URL"])


def new_session(user) -> tuple[str, str]:
    """A logged-in session and a CSRF secret for it, as a browser would hold them."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.middleware.csrf import _get_new_csrf_string

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key, _get_new_csrf_string()


def make_creator(username: str, *, balance: int = 0):
    from django.contrib.auth import get_user_model

    from tokens.services import account_grant, account_open

    # No password: hashing 256 of them would take longer than the benchmark itself.
    user = get_user_model().objects.create_user(username=username, password=None)
    account_open(user=user)
    if balance:
        account_grant(user=user, amount=balance, reason="benchmark")
    return user


def draft_row(*, owner_id: int, prompt: str, now):
    """A finished image draft (not saved), its media the bench's one file."""
    from creations.models import Creation

    return Creation(
        owner_id=owner_id,
        kind="image",
        prompt=prompt,
        aspect_ratio="1:1",
        status=Creation.Status.DRAFT,
        cost=1,
        media="creations/bench.png",
        width=1024,
        height=1024,
        progress=100,
        created_at=now,
        processing_at=now,
        draft_at=now,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_get(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {"X-Forwarded-Proto": "https"})
    try:
        # Only ever the bench's own server (base is http://127.0.0.1:<port>).
        with urllib.request.urlopen(request, timeout=10) as response:  # nosec B310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def expect(status: int, wanted: int, what: str, body: bytes = b"") -> None:
    if status != wanted:
        raise RuntimeError(f"{what}: expected HTTP {wanted}, got {status}: {body[:300]!r}")


def drafts_page_html(person: dict) -> str:
    """The owner's drafts tab rendered in-process (no server needed)."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = person["session"]
    response = client.get(f"/soho/{person['user'].username}?tab=drafts", secure=True)
    expect(response.status_code, 200, "drafts tab in-process")
    return response.content.decode()


def held_poll_urls(person: dict, urls: dict[str, str]) -> dict[str, str]:
    """{card id: the URL its browser holds once the card has rendered}: a drafts page's
    URL is trusted for a few seconds only (it vouches for a place read before its rows),
    and the card's first render after that swaps in its own URL, trusted up to a minute.
    Each card is asked in-process with a stale version, so that it renders."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = person["session"]
    page = f"/soho/{person['user'].username}"
    held = {}
    for pk, url in urls.items():
        response = client.get(
            urllib.parse.urljoin(page, stale_poll_url(url)),
            secure=True,
            headers={"HX-Request": "true"},
        )
        expect(response.status_code, 200, "a card asked with a stale version")
        held[pk] = card_poll_urls(response.content.decode()).get(pk, url)
    return held


def jobs_per_second(job_ids: list[str], *, digits: int = 1) -> float:
    """From RQ's own start and end times: the first job's start to the last job's end."""
    from rq.job import Job

    # A creation is a draft a moment before RQ records its job as finished (the job's own
    # bookkeeping comes after the service's COMMIT): wait for RQ's records, read whole.
    deadline = time.monotonic() + 30
    while True:
        jobs = Job.fetch_many(job_ids, connection=redis_connection())
        finished = [
            job
            for job in jobs
            if job is not None
            and job.get_status(refresh=False) == "finished"
            and job.ended_at is not None
        ]
        if len(finished) == len(job_ids):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(finished)} of {len(job_ids)} jobs finished")
        time.sleep(0.1)
    span = max(j.ended_at for j in finished) - min(j.started_at for j in finished)
    return round(len(finished) / span.total_seconds(), digits)
