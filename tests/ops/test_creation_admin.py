"""The creations admin: list, filters, detail, and the two refund actions (the take-down
action is in test_takedown.py)."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from creations import services
from creations.models import Creation
from tests.conftest import run_at_once
from tokens.models import LedgerEntry
from tokens.services import ledger_discrepancies

from .conftest import balance_of, creation_in_state

CHANGELIST = reverse("admin:creations_creation_changelist")


def run_action(
    client,
    action: str,
    *creations,
    follow: bool = True,
    reason: str = "The provider's outage, checked in its status page",
):
    """The action as sent from its page that asks for the reason (both refund actions ask;
    see test_staff_refund.py for the page itself and a missing reason)."""
    return client.post(
        CHANGELIST,
        {
            "action": action,
            "_selected_action": [str(c.pk) for c in creations],
            "post": "yes",
            "reason": reason,
        },
        follow=follow,
    )


def refunds_of(creation) -> int:
    return LedgerEntry.objects.filter(creation_id=creation.pk, kind="refund").count()


def test_the_list_shows_owner_type_status_cost_refund_age_and_processing_time(
    client, refunder, alice
):
    creation_in_state(
        owner=alice, kind="video", status="draft", seconds=42.5, prompt="waves at dusk"
    )
    creation_in_state(owner=alice, status="failed", error_code="storage_failed", prompt="lost fox")
    client.force_login(refunder)

    response = client.get(CHANGELIST)

    assert response.status_code == 200
    page = response.content.decode()
    assert "waves at dusk" in page and "lost fox" in page
    assert reverse("admin:auth_user_change", args=[alice.pk]) in page
    assert "42.5 s" in page
    assert "5\xa0minutes" in page  # the age
    assert 'alt="True"' in page  # the failure's refund


def test_the_list_filters_by_refunded_status_type_and_searches_prompt_and_owner(
    client, refunder, alice, bob
):
    refunded = creation_in_state(owner=alice, status="failed", prompt="refunded one")
    unrefunded = creation_in_state(
        owner=bob, status="failed", refunded=False, prompt="forgotten one"
    )
    video = creation_in_state(owner=bob, kind="video", status="processing", prompt="rolling wave")
    client.force_login(refunder)

    def listed(**params) -> set:
        response = client.get(CHANGELIST, params)
        assert response.status_code == 200
        return {c.pk for c in response.context["cl"].result_list}

    assert listed(refunded="no") == {unrefunded.pk, video.pk}
    assert listed(refunded="yes") == {refunded.pk}
    assert listed(status__exact="failed") == {refunded.pk, unrefunded.pk}
    assert listed(kind__exact="video") == {video.pk}
    assert listed(q="forgotten") == {unrefunded.pk}
    assert listed(q="alice") == {refunded.pk}


def test_the_detail_page_links_the_owner_and_ledger_and_previews_published_media(
    client, refunder, alice
):
    post = creation_in_state(owner=alice, status="published", media="creations/shown.png")
    client.force_login(refunder)

    response = client.get(reverse("admin:creations_creation_change", args=[post.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert reverse("admin:auth_user_change", args=[alice.pk]) in page
    assert reverse("admin:tokens_tokenaccount_change", args=[alice.token_account.pk]) in page
    debit = LedgerEntry.objects.get(creation_id=post.pk, kind="debit")
    assert reverse("admin:tokens_ledgerentry_change", args=[debit.pk]) in page
    assert f'<img src="{reverse("creation_media", args=[post.pk, "media"])}"' in page


def test_the_detail_page_previews_a_private_draft_to_staff_who_may_view_creations(
    client, refunder, alice
):
    draft = creation_in_state(owner=alice, status="draft", media="creations/private.png")
    client.force_login(refunder)

    response = client.get(reverse("admin:creations_creation_change", args=[draft.pk]))

    assert response.status_code == 200
    assert refunder.has_perm("creations.view_creation")
    media = reverse("creation_media", args=[draft.pk, "media"])
    assert f'<img src="{media}"' in response.content.decode()


def test_fail_and_refund_fails_a_stuck_creation_and_refunds_it(client, refunder, alice):
    stuck = creation_in_state(owner=alice, kind="video", status="processing")
    assert balance_of(alice) == 90
    client.force_login(refunder)

    response = run_action(client, "fail_and_refund", stuck)

    stuck.refresh_from_db()
    assert (stuck.status, stuck.error_code) == ("failed", "staff_refund")
    assert balance_of(alice) == 100
    assert refunds_of(stuck) == 1
    assert "Failed and refunded 1 creation" in response.content.decode()
    assert LogEntry.objects.filter(object_id=str(stuck.pk), user=refunder).exists()


def test_fail_and_refund_twice_refunds_once(client, refunder, alice):
    stuck = creation_in_state(owner=alice, status="pending")
    client.force_login(refunder)

    run_action(client, "fail_and_refund", stuck)
    run_action(client, "fail_and_refund", stuck)

    assert refunds_of(stuck) == 1
    assert balance_of(alice) == 100
    assert ledger_discrepancies() == []


def test_refund_refunds_a_failure_that_was_not_refunded_once(client, refunder, alice):
    forgotten = creation_in_state(owner=alice, kind="video", status="failed", refunded=False)
    assert balance_of(alice) == 90
    client.force_login(refunder)

    first = run_action(client, "refund", forgotten)
    second = run_action(client, "refund", forgotten)

    assert refunds_of(forgotten) == 1
    assert balance_of(alice) == 100
    assert "Refunded 1 failed creation" in first.content.decode()
    assert "already refunded; nothing changed" in second.content.decode()
    forgotten.refresh_from_db()
    assert forgotten.error_code == "generation_failed"


@pytest.mark.parametrize("action", ["fail_and_refund", "refund"])
@pytest.mark.parametrize("status", ["draft", "published"])
def test_actions_on_drafts_and_published_creations_are_refused(
    client, refunder, alice, action, status
):
    creation = creation_in_state(owner=alice, status=status)
    client.force_login(refunder)

    response = run_action(client, action, creation)

    creation.refresh_from_db()
    assert creation.status == status
    assert refunds_of(creation) == 0
    assert balance_of(alice) == 99
    assert "Refused for 1 creation(s)" in response.content.decode()


def test_refund_refuses_a_creation_still_in_flight(client, refunder, alice):
    running = creation_in_state(owner=alice, status="processing")
    client.force_login(refunder)

    response = run_action(client, "refund", running)

    running.refresh_from_db()
    assert running.status == "processing"
    assert refunds_of(running) == 0
    assert "use Fail and refund" in response.content.decode()


def test_staff_without_the_refund_permission_neither_see_nor_run_the_actions(
    client, plain_staff, alice
):
    stuck = creation_in_state(owner=alice, status="processing")
    forgotten = creation_in_state(owner=alice, status="failed", refunded=False)
    client.force_login(plain_staff)

    listing = client.get(CHANGELIST)
    run_action(client, "fail_and_refund", stuck)
    run_action(client, "refund", forgotten)

    assert listing.status_code == 200
    assert "fail_and_refund" not in listing.content.decode()
    assert 'value="refund"' not in listing.content.decode()
    stuck.refresh_from_db()
    assert stuck.status == "processing"
    assert refunds_of(stuck) == refunds_of(forgotten) == 0


def test_staff_with_the_permission_see_both_actions(client, refunder, alice):
    creation_in_state(owner=alice, status="processing")
    client.force_login(refunder)
    page = client.get(CHANGELIST).content.decode()
    assert 'value="fail_and_refund"' in page and 'value="refund"' in page


def race_action(users, action: str, creation) -> list[int]:
    """Every user posts the action at once, each from a thread with its own connection."""

    def post(user) -> int:
        client = Client()
        client.force_login(user)
        return run_action(client, action, creation, follow=False).status_code

    return run_at_once([lambda user=user: post(user) for user in users])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("action", "status", "refunded"),
    [("fail_and_refund", "processing", True), ("refund", "failed", False)],
)
def test_staff_racing_on_one_creation_refund_it_once(staff_user, alice, action, status, refunded):
    creation = creation_in_state(owner=alice, kind="video", status=status, refunded=refunded)
    users = [staff_user("tokens.refund_creation") for _ in range(4)]

    statuses = race_action(users, action, creation)

    assert statuses == [302] * 4
    assert refunds_of(creation) == 1
    assert balance_of(alice) == 100
    assert Creation.objects.get(pk=creation.pk).status == "failed"
    assert ledger_discrepancies() == []


def canceled_creation(owner, kind: str = "video") -> Creation:
    creation = creation_in_state(owner=owner, kind=kind, status="processing")
    services.creation_cancel(creation=creation)
    creation.refresh_from_db()
    return creation


@pytest.mark.parametrize(
    ("action", "why"),
    [
        ("refund", "that are not failed creations"),
        ("fail_and_refund", "that are not pending or processing"),
    ],
)
def test_a_canceled_creation_was_refunded_already_and_both_actions_refuse_it(
    client, refunder, alice, action, why
):
    canceled = canceled_creation(alice)
    assert (canceled.status, refunds_of(canceled), balance_of(alice)) == ("canceled", 1, 100)
    client.force_login(refunder)

    response = run_action(client, action, canceled)

    canceled.refresh_from_db()
    assert canceled.status == "canceled"
    assert refunds_of(canceled) == 1
    assert balance_of(alice) == 100
    page = response.content.decode()
    assert f"Refused for 1 creation(s) {why}" in page
    assert f"{str(canceled.pk)[:8]} (canceled)" in page
    assert not LogEntry.objects.filter(object_id=str(canceled.pk)).exists()
    assert ledger_discrepancies() == []


def test_fail_and_refund_refuses_one_its_owner_canceled_meanwhile(client, refunder, alice):
    """The list showed it processing; the owner canceled it before staff pressed Go."""
    running = creation_in_state(owner=alice, kind="video", status="processing")
    client.force_login(refunder)
    services.creation_cancel(creation=Creation.objects.get(pk=running.pk))

    response = run_action(client, "fail_and_refund", running)

    running.refresh_from_db()
    assert running.status == "canceled"
    assert refunds_of(running) == 1
    assert balance_of(alice) == 100
    assert "Refused for 1 creation(s) that are not pending or processing" in (
        response.content.decode()
    )


def test_the_list_filters_by_the_new_statuses_and_by_trash(client, refunder, alice, bob):
    post = creation_in_state(owner=alice, status="published", prompt="kept post")
    taken_down = creation_in_state(owner=bob, status="published", prompt="taken down post")
    services.creation_take_down(creation=taken_down, staff=refunder, reason="spam")
    scheduled = creation_in_state(owner=alice, status="draft", prompt="scheduled one")
    services.creation_publish(creation=scheduled, publish_at=timezone.now() + timedelta(days=1))
    canceled = canceled_creation(bob)
    trashed_post = creation_in_state(owner=alice, status="published", prompt="trashed post")
    services.creation_trash(creation=trashed_post)
    purged = creation_in_state(owner=bob, status="failed", prompt="purged failure")
    services.creation_trash(creation=purged)
    services.creation_purge(creation=purged)
    client.force_login(refunder)

    def listed(**params) -> set:
        response = client.get(CHANGELIST, params)
        assert response.status_code == 200
        return {c.pk for c in response.context["cl"].result_list}

    assert listed(status__exact="canceled") == {canceled.pk}
    assert listed(status__exact="scheduled") == {scheduled.pk}
    assert listed(status__exact="taken_down") == {taken_down.pk}
    # A trashed post keeps its status: the trash filter tells it apart.
    assert listed(status__exact="published") == {post.pk, trashed_post.pk}
    assert listed(status__exact="published", trash="no") == {post.pk}
    assert listed(trash="trashed") == {trashed_post.pk}
    assert listed(trash="purged") == {purged.pk}
    assert purged.pk not in listed(trash="no")
    page = client.get(CHANGELIST).content.decode()
    for label in ("Canceled", "Scheduled", "Taken down", "In the trash", "Purged"):
        assert f">{label}</a>" in page


def test_the_detail_page_shows_the_lifecycle_times(client, refunder, alice):
    canceled = canceled_creation(alice)
    purged = creation_in_state(owner=alice, status="draft", prompt="gone for good")
    services.creation_trash(creation=purged)
    services.creation_purge(creation=purged)
    client.force_login(refunder)

    canceled_page = client.get(reverse("admin:creations_creation_change", args=[canceled.pk]))
    purged_page = client.get(reverse("admin:creations_creation_change", args=[purged.pk]))

    for response in (canceled_page, purged_page):
        assert response.status_code == 200
        labels = {
            line.field["field"]
            for fieldset in response.context["adminform"]
            for fieldline in fieldset
            for line in fieldline
        }
        assert {"canceled_at", "publish_at", "trashed_at", "purged_at"} <= labels
        assert "takedown_reason" not in labels  # only for a post taken down
    assert canceled_page.context["original"].canceled_at is not None
    page = purged_page.content.decode()
    assert "Purged " in page and "its files were deleted" in page
