"""The reliability suite: after every test here, the money and the state machine must be
right, whatever the test did to the worker, Redis or PostgreSQL."""

import os
import signal
import socket
import subprocess
from datetime import timedelta

import pytest
from django.db.models import Count, Q
from django.utils import timezone
from redis import Redis
from redis.exceptions import RedisError

from creations import queues, services
from creations.jobs import recovery
from creations.models import Creation
from creations.validation import CreationRequest
from profiles.services import creator_signup
from tests.conftest import (  # noqa: F401 (re-exported for the suite)
    QUEUE_NAMES,
    files_in,
    private_media,
    start_worker,
    stop_worker,
    wait_for,
    work_horse_pids,
)
from tokens.models import LedgerEntry, TokenAccount
from tokens.services import ledger_discrepancies

from .providers import SCRIPTED


def invariant_violations() -> list[str]:
    """Everything wrong with the money or the states, in words (empty when all is well)."""
    problems = [f"negative balance: {a}" for a in TokenAccount.objects.filter(balance__lt=0)]
    problems += [f"balance is not the ledger sum: {d}" for d in ledger_discrepancies()]
    per_creation = (
        LedgerEntry.objects.filter(creation__isnull=False)
        .values("creation_id")
        .annotate(
            debits=Count("id", filter=Q(kind=LedgerEntry.Kind.DEBIT)),
            refunds=Count("id", filter=Q(kind=LedgerEntry.Kind.REFUND)),
        )
    )
    refunded = set()
    for row in per_creation:
        if row["debits"] > 1 or row["refunds"] > 1:
            problems.append(
                f"creation {row['creation_id']}: {row['debits']} debits, {row['refunds']} refunds"
            )
        if row["refunds"]:
            refunded.add(row["creation_id"])
    # Failed and canceled creations are refunded, exactly those, and hold no media.
    for creation in Creation.objects.only("id", "status", "media"):
        ended_without_media = creation.status in Creation.ENDED_WITHOUT_MEDIA
        if ended_without_media != (creation.id in refunded):
            state = "refunded" if creation.id in refunded else "not refunded"
            problems.append(f"creation {creation.id} is {creation.status} and {state}")
        if ended_without_media and creation.media:
            problems.append(f"creation {creation.id} is {creation.status} and holds media")
    # Nothing may stay in flight past its deadline once a recovery pass has run.
    queues.reset()  # a test may have left the queues on a Redis it has stopped
    recovery.creations_recover()
    now = timezone.now()
    for creation in Creation.objects.filter(status__in=Creation.IN_FLIGHT):
        if creation.deadline <= now:
            problems.append(f"creation {creation.id} still {creation.status} past its deadline")
    return problems


@pytest.fixture(autouse=True)
def invariants(request):
    uses_db = request.node.get_closest_marker("django_db") or (
        {"db", "transactional_db"} & set(request.fixturenames)
    )
    if not uses_db:
        yield
        return
    # Set up after the database, so this check runs before the database is emptied.
    request.getfixturevalue("_django_db_helper")
    yield
    problems = invariant_violations()
    assert not problems, "invariants broken:\n" + "\n".join(problems)


@pytest.fixture
def creator(transactional_db):
    return creator_signup(username="reliable", password="reliable-password-123")


def submit(user, prompt: str = "a red fox", kind: str = "image") -> Creation:
    if kind == "image":
        request = CreationRequest("image", prompt, "1:1")
    else:
        request = CreationRequest("video", prompt, "", "landscape")
    creation, _ = services.creation_submit(user=user, request=request)
    return creation


def balance(user) -> int:
    return TokenAccount.objects.get(user=user).balance


def refunds(creation: Creation) -> int:
    return creation.ledger_entries.filter(kind=LedgerEntry.Kind.REFUND).count()


def status_of(creation: Creation) -> str:
    return Creation.objects.values_list("status", flat=True).get(pk=creation.pk)


def past_deadline(creation: Creation):
    """A moment just past the creation's deadline, for a recovery pass."""
    creation.refresh_from_db()
    return creation.deadline + timedelta(seconds=1)


def scripted_worker(*args: str, **env: str) -> subprocess.Popen:
    """A real `manage.py rqworker` (forking) with the scripted provider."""
    return start_worker(*args, PHOENIX_IMAGE_PROVIDER=SCRIPTED, **env)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own, so stopping or pausing it touches nobody else."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url, socket_connect_timeout=0.5)
        wait_for(lambda: self._answers(client), timeout=10, what="private redis to answer")

    @staticmethod
    def _answers(client: Redis) -> bool:
        try:
            return client.ping()
        except RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def pause(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)


@pytest.fixture
def private_redis(settings):
    redis = PrivateRedis()
    redis.start()
    settings.RQ_QUEUES = {name: {"URL": redis.url, "DEFAULT_TIMEOUT": 600} for name in QUEUE_NAMES}
    settings.REDIS_URL = redis.url
    queues.reset()
    try:
        yield redis
    finally:
        if redis.process is not None:
            redis.resume()
        redis.stop()
        queues.reset()
