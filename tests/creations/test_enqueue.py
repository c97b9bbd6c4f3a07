import pytest
from django.conf import settings
from django.db import transaction

from creations import queues, services
from creations.jobs import recovery
from creations.models import Creation
from creations.validation import CreationRequest
from phoenix import redis_clients
from profiles.services import creator_signup
from tests.conftest import queued_job_ids
from tokens import services as tokens_services
from tokens.services import ledger_discrepancies

DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def dead_redis(settings):
    settings.RQ_QUEUES = {name: {"URL": DEAD_REDIS} for name in settings.RQ_QUEUES}
    queues.reset()
    yield
    queues.reset()


@pytest.mark.django_db(transaction=True)
def test_the_job_is_in_redis_only_after_commit(monkeypatch):
    alice = creator_signup(username="alice", password="alice-password-123")
    real_debit = tokens_services.account_debit_locked
    seen_before_commit = []

    def debit_and_look(*args, **kwargs):
        entry = real_debit(*args, **kwargs)
        seen_before_commit.append((transaction.get_connection().in_atomic_block, queued_job_ids()))
        return entry

    monkeypatch.setattr("tokens.services.account_debit_locked", debit_and_look)
    creation, _ = services.creation_submit(
        user=alice, request=CreationRequest("image", "fox", "1:1")
    )

    assert seen_before_commit == [(True, [])]
    assert queued_job_ids() == [f"creation-{creation.id}"]
    job = queues.queue_for_kind("image").fetch_job(f"creation-{creation.id}")
    assert job.func_name == "creations.jobs.entrypoints.run_generation"
    assert job.args == (str(creation.id),)
    assert job.timeout == settings.PHOENIX_JOB_TIMEOUT["image"] == 300
    assert job.ttl is None


@pytest.mark.django_db(transaction=True)
def test_no_job_and_no_debit_when_the_transaction_rolls_back(monkeypatch):
    alice = creator_signup(username="alice", password="alice-password-123")

    def explode(*args, **kwargs):
        raise RuntimeError("database trouble after the insert")

    # Fail inside the transaction, after the creation row and before COMMIT.
    monkeypatch.setattr("tokens.services.account_debit_locked", explode)
    with pytest.raises(RuntimeError):
        services.creation_submit(user=alice, request=CreationRequest("image", "fox", "1:1"))
    assert queued_job_ids() == []
    assert Creation.objects.count() == 0
    alice.token_account.refresh_from_db()
    assert alice.token_account.balance == 100


@pytest.mark.django_db(transaction=True)
def test_redis_down_at_create_answers_503_fails_and_refunds_once(client, dead_redis):
    alice = creator_signup(username="alice", password="alice-password-123")
    client.force_login(alice)

    response = client.post("/api/generate/creation", {"type": "video", "prompt": "waves"})

    assert response.status_code == 503
    assert response.json()["error"] == "queue_unavailable"
    creation = Creation.objects.get()
    assert creation.status == "failed"
    assert creation.error_code == "queue_unavailable"
    assert creation.ledger_entries.filter(kind="refund").count() == 1
    alice.token_account.refresh_from_db()
    assert alice.token_account.balance == 100
    assert ledger_discrepancies() == []


@pytest.mark.django_db(transaction=True)
def test_after_redis_comes_back_the_refunded_creation_stays_settled(client, settings):
    alice = creator_signup(username="alice", password="alice-password-123")
    client.force_login(alice)
    real_queues = settings.RQ_QUEUES
    settings.RQ_QUEUES = {name: {"URL": DEAD_REDIS} for name in real_queues}
    queues.reset()
    assert (
        client.post("/api/generate/creation", {"type": "image", "prompt": "x"}).status_code == 503
    )

    settings.RQ_QUEUES = real_queues
    queues.reset()
    assert recovery.creations_recover() == {"reenqueued": 0, "failed": 0, "published": 0}
    assert (
        client.post("/api/generate/creation", {"type": "image", "prompt": "y"}).status_code == 202
    )

    failed, accepted = Creation.objects.order_by("created_at")
    assert (failed.status, failed.ledger_entries.filter(kind="refund").count()) == ("failed", 1)
    assert accepted.status == "pending"
    assert queued_job_ids() == [f"creation-{accepted.id}"]
    alice.token_account.refresh_from_db()
    assert alice.token_account.balance == 99
    assert ledger_discrepancies() == []


def test_threads_asking_for_a_queue_at_once_all_get_the_same_one(monkeypatch):
    """A second client made meanwhile would be dropped, and a dropped redis client closes
    its pool's connections under whoever is using them (gthread workers, at start)."""
    import time

    from redis import Redis

    from tests.conftest import run_at_once

    class SlowToConnectRedis:
        @staticmethod
        def from_url(*args, **kwargs):
            time.sleep(0.02)  # widens the window in which the threads overlap
            return Redis.from_url(*args, **kwargs)

    monkeypatch.setattr(redis_clients, "Redis", SlowToConnectRedis)
    queues.reset()

    got = run_at_once([lambda: queues.get_queue("default")] * 16)

    assert len({id(queue) for queue in got}) == 1
    assert got[0] is queues.get_queue("default")
