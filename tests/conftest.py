import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import django_rq
import httpx
import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import connection
from django.test import Client
from django.utils import timezone
from hypothesis import settings as hypothesis_settings
from rq.job import Job, JobStatus

from creations import queues, versions
from creations.worker import FairSimpleWorker
from phoenix import health
from profiles.services import creator_signup
from tests import mailbox

ROOT = Path(__file__).resolve().parent.parent

# Fuzzing is derandomised by default (CI runs the same cases every time, and every case
# ever found is pinned as an @example); HYPOTHESIS_PROFILE=explore tries new ones locally.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False, database=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
QUEUE_NAMES = ["images", "videos", "default", "light", "housekeeping", "webhooks"]


@pytest.fixture(autouse=True)
def fresh_cache():
    """The typical run behind an ETA, the finished cards' HTML and /readyz's probe results
    are cached per process: each test starts without them."""
    from creations import cards, selectors

    cache.clear()
    cards.clear_cache()
    selectors.forget_remembered()
    health.forget_probes()
    yield
    cache.clear()
    cards.clear_cache()
    selectors.forget_remembered()
    health.forget_probes()


@pytest.fixture(autouse=True, scope="session")
def shared_mailbox(django_test_environment):
    """pytest-django's test environment sets Django's locmem backend; the suite's own keeps
    the test outbox too and shares every message with worker processes (tests/mailbox.py,
    phoenix/test_settings.py)."""
    locmem = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "tests.mailbox.SharedMailbox"
    yield
    settings.EMAIL_BACKEND = locmem


@pytest.fixture(autouse=True)
def fresh_mailbox():
    """Each test starts with no e-mail sent."""
    mailbox.empty(Path(settings.EMAIL_FILE_PATH))


@pytest.fixture(autouse=True)
def clean_redis():
    """Each test starts with an empty Redis database of its own."""
    queues.reset()
    versions.reset()  # no pause left by a test that had Redis down
    redis = django_rq.get_connection("default")
    redis.flushdb()
    yield redis
    queues.reset()


@pytest.fixture
def httpserver(make_httpserver):
    """pytest-httpserver's local server, with a clean slate at both ends of the test.

    It is one server per test process and answers one request at a time, appending each to
    its log when the answer is made. A request a test gave up on (its client timed out) is
    still being answered after that test ends, and its entry used to land in the log of the
    next test that used the server (issue 23: the 410 test saw two posts when it ran right
    after the webhook timeout test). So the test's handlers are dropped, one more request is
    sent and waited for — the server answers it only after everything sent before it — and
    the log is cleared after that."""
    server = make_httpserver
    server.clear()
    yield server
    server.clear_all_handlers()
    try:
        httpx.get(server.url_for("/__tests__/drained"), timeout=30)
    finally:
        server.clear()


@pytest.fixture
def alice(db):
    return creator_signup(username="alice", password="alice-password-123")


@pytest.fixture
def bob(db):
    return creator_signup(username="bob", password="bob-password-123")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def registered_worker():
    """Register RQ workers listening to the given queues, in that order, as `rqworker`
    does at start (they take no job): what the queue estimates read. Gone at the end."""
    from rq import Worker

    from creations import selectors

    registered = []

    def register(*queue_names: str) -> Worker:
        worker = Worker(
            [queues.get_queue(name) for name in queue_names],
            connection=queues.get_queue("default").connection,
        )
        worker.register_birth()
        registered.append(worker)
        cache.delete("creations:queue-workers")
        selectors.forget_remembered("creations:queue-workers")
        return worker

    yield register
    for worker in registered:
        worker.register_death()


def queued_job_ids() -> list[str]:
    ids = []
    for name in QUEUE_NAMES:
        ids.extend(queues.get_queue(name).get_job_ids())
    return ids


def run_worker_burst() -> None:
    """Run every queued job in this process (SimpleWorker), as the real worker would."""
    worker = FairSimpleWorker(
        [queues.get_queue(name) for name in QUEUE_NAMES],
        connection=queues.get_queue("default").connection,
    )
    worker.work(burst=True)


def run_light_jobs() -> None:
    """Run the jobs waiting on "light" in this process, as worker-light would (e-mails, a
    comment's notifications); a generation waiting in its queue stays queued."""
    light = queues.get_queue("light")
    FairSimpleWorker([light], connection=light.connection).work(burst=True)


def sent_emails() -> list[EmailMessage]:
    """Every e-mail sent in this test, oldest first, by this process or by a worker process
    it started (tests/mailbox.py) — once the jobs waiting on "light" (e-mails are sent by a
    job) have run here, and those a worker process took have ended. Only "light" runs: a
    generation waiting in its queue stays queued. A fresh list on every call."""
    light = queues.get_queue("light")

    def light_jobs_done() -> bool:
        run_light_jobs()
        return not jobs_in_flight(light)

    wait_for(light_jobs_done, what='the jobs on "light" a worker process took')
    return mailbox.read(Path(settings.EMAIL_FILE_PATH))


def forget_sent_emails() -> None:
    """Empty the mailbox (and the test outbox) mid-test."""
    mailbox.empty(Path(settings.EMAIL_FILE_PATH))
    mail.outbox.clear()


def jobs_in_flight(queue) -> bool:
    """Whether any job of `queue` is waiting or running, wherever it is: a job a worker has
    popped but not yet started is in no list or registry, only its status says "queued"."""
    redis = queue.connection
    ids = [
        key.decode().removeprefix("rq:job:")
        for key in redis.scan_iter(match="rq:job:*", count=1000)
        if key.count(b":") == 2
    ]
    return any(
        job is not None
        and job.origin == queue.name
        and job.get_status(refresh=False) in (JobStatus.QUEUED, JobStatus.STARTED)
        for job in Job.fetch_many(ids, connection=redis)
    )


def worker_environment(**extra: str) -> dict[str, str]:
    """Environment for a real `manage.py rqworker` subprocess that uses the test database."""
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="phoenix.test_settings",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        REDIS_URL=settings.REDIS_URL,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        PHOENIX_TEST_MAIL_DIR=str(settings.EMAIL_FILE_PATH),
    )
    env.update(extra)
    return env


WORKER_CLASS = ("--worker-class", "creations.worker.PreloadingWorker")


def start_worker(*args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        # The worker class production runs (scripts/run-all.sh).
        [sys.executable, "manage.py", "rqworker", *QUEUE_NAMES, *WORKER_CLASS, *args],
        cwd=ROOT,
        env=worker_environment(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


@pytest.fixture
def private_media(settings, tmp_path) -> Path:
    """A media folder of this test's own (the workers of a run share MEDIA_ROOT), for
    checks that no file is left behind. Real worker subprocesses get it too."""
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": settings.MEDIA_URL},
        },
    }
    return tmp_path


def files_in(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def make_creation(db):
    """Make a creation of `owner` in `status`, brought there through the real services
    (a pending one with its job in the fair queue when `queued`)
    (debit, claim, progress, complete with stored files, fail with refund, cancel with
    refund, publish now or at `publish_at` (default: a day ahead), staff take-down)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from creations import services
    from creations.jobs import sending
    from creations.validation import CreationRequest

    def make(
        *,
        owner,
        status: str = "draft",
        kind: str = "image",
        prompt: str = "a red fox in the snow",
        caption: str = "",
        progress: int = 0,
        code: str = "safety_filter",
        publish_at=None,
        takedown_reason: str = "Breaks the community rules.",
        queued: bool = False,
    ):
        request = CreationRequest(
            kind=kind,
            prompt=prompt,
            aspect_ratio="1:1" if kind == "image" else "",
            orientation="landscape" if kind == "video" else "",
        )
        creation, _ = services.creation_submit(user=owner, request=request)
        if status == "pending":
            if queued:
                # What COMMIT would have done (a test's transaction never commits).
                sending.send_generation(creation)
            return creation
        if status == "canceled":
            services.creation_cancel(creation=creation)
            return creation
        if status == "failed":
            services.creation_fail(creation=creation, code=code)
            return creation
        creation = services.creation_claim(creation_id=creation.id)
        if progress:
            services.creation_report_progress(creation=creation, percent=progress)
        if status == "processing":
            return creation
        extension = "png" if kind == "image" else "mp4"
        media = default_storage.save(
            f"creations/test-{creation.id.hex}.{extension}", ContentFile(b"media-bytes")
        )
        poster = ""
        if kind == "video":
            poster = default_storage.save(
                f"creations/test-{creation.id.hex}.jpg", ContentFile(b"poster-bytes")
            )
        services.creation_complete(
            creation=creation,
            media=media,
            poster=poster,
            width=640,
            height=360,
            duration_seconds=8.0 if kind == "video" else None,
        )
        if status in ("published", "taken_down"):
            services.creation_publish(creation=creation, caption=caption)
        if status == "taken_down":
            services.creation_take_down(creation=creation, staff=None, reason=takedown_reason)
        if status == "scheduled":
            services.creation_publish(
                creation=creation,
                caption=caption,
                publish_at=publish_at or timezone.now() + timedelta(days=1),
            )
        return creation

    return make


# Headline figures of the reliability and security suites ("20/20 kills ended final"),
# recorded by tests as user_properties so they reach this summary under xdist too.
_figures: list[tuple[str, str]] = []


def pytest_runtest_logreport(report):
    if report.when == "call":
        _figures.extend(
            (report.nodeid, value) for name, value in report.user_properties if name == "figure"
        )


def pytest_terminal_summary(terminalreporter):
    if _figures:
        terminalreporter.section("figures")
        for nodeid, text in sorted(_figures):
            terminalreporter.write_line(f"{text}  [{nodeid.split('::')[-1]}]")


@pytest.fixture
def figure(request):
    """Record a test's headline figure: printed, and listed in the run's "figures" summary."""

    def record(text: str) -> None:
        print(text)
        request.node.user_properties.append(("figure", text))

    return record


def stop_worker(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and its work horse. RQ puts the horse in a process group of its
    own (os.setpgrp), so killing the worker's group alone leaves the horse running."""
    if worker.poll() is None:
        horses = work_horse_pids(worker.pid)
        os.killpg(worker.pid, signal.SIGKILL)
        for pid in horses:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    worker.wait(timeout=10)
    if worker.stderr:
        worker.stderr.close()


def work_horse_pids(worker_pid: int) -> list[int]:
    """The worker's forked children (RQ's work horse while a job runs), from /proc."""
    children = []
    for task in Path(f"/proc/{worker_pid}/task").glob("*"):
        try:
            children += [int(pid) for pid in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return children


def staff_adjust(*, user, amount: int, reason: str):
    """A balance adjustment as staff make it: by another person (nobody adjusts their own)."""
    from django.contrib.auth import get_user_model

    from tokens.services import account_adjust

    staff, _ = get_user_model().objects.get_or_create(
        username="ledger-keeper", defaults={"is_staff": True}
    )
    return account_adjust(user=user, amount=amount, reason=reason, staff=staff)


def wait_for(predicate: Callable[[], bool], *, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"not reached within {timeout:g}s: {what}")


def run_at_once(calls: list[Callable[[], object]]) -> list[object]:
    """Start every call at the same moment, each in its own thread with its own database
    connection, and return their results in call order. An exception in any is re-raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except BaseException as error:  # noqa: BLE001 - re-raised below, in the caller
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def race_creates(user, bodies: list[dict]) -> list[tuple[str, int]]:
    """POST every body at once, each from its own thread and database connection."""

    def create(body: dict) -> tuple[str, int]:
        client = Client()
        client.force_login(user)
        response = client.post(
            "/api/generate/creation", json.dumps(body), content_type="application/json"
        )
        return body["type"], response.status_code

    return run_at_once([lambda body=body: create(body) for body in bodies])


@contextmanager
def no_session():
    """Any read of a session in the block fails the test (a poll's cheap path must not)."""
    from django.contrib.sessions.backends import cached_db

    def refuse(self):
        raise AssertionError("the session was read")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cached_db.SessionStore, "load", refuse)
        yield
