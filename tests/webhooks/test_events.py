"""Events: creation.finished (a draft), creation.failed, creation.published and tokens.low
become one delivery per subscribed endpoint, written after COMMIT, queued, and written once
however often the event is told. Creations and tokens know nothing of webhooks."""

import ast
import json
from pathlib import Path

import pytest
from django.utils import timezone

from creations import services as creation_services
from creations.presenters import creation_as_json
from phoenix import redis_clients as queues
from tests.conftest import ROOT
from tokens.models import TokenAccount
from tokens.services import account_grant
from webhooks import services
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db


def deliveries(event_type: str | None = None) -> list[WebhookDelivery]:
    rows = WebhookDelivery.objects.order_by("created_at")
    if event_type:
        rows = rows.filter(event_type=event_type)
    return list(rows)


def body(delivery: WebhookDelivery) -> dict:
    return json.loads(delivery.payload)


def queued_deliveries() -> list[str]:
    return [job.args[0] for job in queues.get_queue("webhooks").jobs]


@pytest.fixture
def subscribed(alice, make_endpoint):
    return make_endpoint(
        owner=alice,
        url="https://hooks.example.com/in",
        events=["creation.finished", "creation.failed", "creation.published", "tokens.low"],
    )


def test_a_creation_reaching_draft_is_creation_finished_with_the_api_shape(
    alice, subscribed, make_creation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        creation = make_creation(owner=alice, status="draft")
    [delivery] = deliveries("creation.finished")
    payload = body(delivery)
    assert payload["type"] == "creation.finished"
    creation.refresh_from_db()
    assert payload["data"] == json.loads(json.dumps(creation_as_json(creation)))
    assert payload["data"]["status"] == "draft"
    assert delivery.webhook_id.startswith("msg_") and delivery.state == "pending"
    assert queued_deliveries() == [str(delivery.pk)]


def test_a_failed_creation_is_creation_failed_with_its_refund(
    alice, subscribed, make_creation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_creation(owner=alice, status="failed", code="safety_filter")
    [delivery] = deliveries("creation.failed")
    data = body(delivery)["data"]
    assert (data["status"], data["error_code"], data["refunded"]) == (
        "failed",
        "safety_filter",
        True,
    )


def test_a_publication_is_creation_published_and_a_second_one_is_news_again(
    alice, subscribed, make_creation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        creation = make_creation(owner=alice, status="published", caption="hi")
    with django_capture_on_commit_callbacks(execute=True):
        creation_services.creation_unpublish(creation=creation)
        creation.refresh_from_db()
        creation_services.creation_publish(creation=creation, caption="again")
    published = deliveries("creation.published")
    assert len(published) == 2
    assert published[0].webhook_id != published[1].webhook_id
    assert body(published[1])["data"]["caption"] == "again"


def test_the_same_event_told_twice_is_one_delivery(alice, subscribed):
    for _ in range(2):
        services.event_emit(owner_id=alice.pk, event_type="tokens.low", key="entry-1", data={})
    assert len(deliveries()) == 1


def test_only_the_owners_enabled_subscribed_endpoints_get_it(
    alice, bob, make_endpoint, make_creation, django_capture_on_commit_callbacks
):
    wants = make_endpoint(owner=alice, url="https://a.example.com/", events=["creation.finished"])
    make_endpoint(owner=alice, url="https://b.example.com/", events=["creation.failed"])
    make_endpoint(
        owner=alice,
        url="https://c.example.com/",
        events=["creation.finished"],
        disabled_at=timezone.now(),
        disabled_reason="gone",
    )
    make_endpoint(owner=bob, url="https://d.example.com/", events=["creation.finished"])
    with django_capture_on_commit_callbacks(execute=True):
        make_creation(owner=alice, status="draft")
    assert [d.endpoint_id for d in deliveries()] == [wants.pk]


def test_nothing_is_written_before_commit(alice, subscribed, make_creation):
    # Without COMMIT (the test's transaction never commits), no delivery and no job.
    make_creation(owner=alice, status="draft")
    assert deliveries() == [] and queued_deliveries() == []


def balance_of(user) -> int:
    return TokenAccount.objects.get(user=user).balance


def test_tokens_low_once_when_the_balance_crosses_the_threshold(
    alice, subscribed, make_creation, settings, django_capture_on_commit_callbacks
):
    start = balance_of(alice)
    mark = settings.PHOENIX_TOKENS_LOW_THRESHOLD = start - 1
    with django_capture_on_commit_callbacks(execute=True):
        make_creation(owner=alice, status="pending")  # at the mark, not below
    assert deliveries("tokens.low") == []
    with django_capture_on_commit_callbacks(execute=True):
        make_creation(owner=alice, status="pending")  # crossed
        make_creation(owner=alice, status="pending")  # still low, no news
    [low] = deliveries("tokens.low")
    assert body(low)["data"] == {"balance": mark - 1, "threshold": mark}
    # Back above the mark and down again: a second crossing is news again.
    with django_capture_on_commit_callbacks(execute=True):
        account_grant(user=alice, amount=3, reason="test")  # start
        make_creation(owner=alice, status="pending")  # the mark
        make_creation(owner=alice, status="pending")  # crossed again
    assert [body(d)["data"]["balance"] for d in deliveries("tokens.low")] == [mark - 1] * 2


def test_a_deleted_accounts_forfeit_is_not_tokens_low(
    alice, subscribed, settings, django_capture_on_commit_callbacks
):
    from tokens.services import account_forfeit

    settings.PHOENIX_TOKENS_LOW_THRESHOLD = 8
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        account_forfeit(user=alice, reason="account deleted")
    assert balance_of(alice) == 0
    assert deliveries("tokens.low") == []
    assert callbacks == []  # nothing was told at all


LOWER_APPS = ("creations", "tokens")


@pytest.mark.parametrize("app", LOWER_APPS)
def test_lower_layers_never_import_webhooks(app):
    for path in Path(ROOT, app).rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n == "webhooks" or n.startswith("webhooks.") for n in names), path


def test_deleting_the_account_erases_its_endpoints_and_logs(
    alice, bob, make_endpoint, make_delivery
):
    from accounts.services import account_delete
    from webhooks.models import WebhookEndpoint

    mine = make_endpoint(owner=alice, url="https://hooks.example.com/a")
    make_delivery(endpoint=mine)
    theirs = make_endpoint(owner=bob, url="https://hooks.example.com/b")
    account_delete(user=alice)
    assert list(WebhookEndpoint.objects.all()) == [theirs]
    assert not WebhookDelivery.objects.filter(endpoint_id=mine.pk).exists()
