"""Who refunded: a refund staff make by hand (the admin's Refund and Fail and refund) writes
a ledger row naming the staff member and the reason they gave; without a reason nothing is
refunded. Automatic refunds (failures, cancels) name nobody. The creator reads the reason,
never the staff member's name."""

import pytest
from django.contrib.admin.models import LogEntry
from django.db import transaction
from django.test import Client
from django.urls import reverse

from creations import services
from creations.api import refusal_status
from creations.services import ActionRefused
from tests.conftest import run_at_once
from tokens import services as tokens
from tokens.models import LedgerEntry
from tokens.services import ledger_discrepancies

from .conftest import balance_of, creation_in_state

CHANGELIST = reverse("admin:creations_creation_changelist")
REASON = "Provider outage on 3 May, confirmed with their support"


def send(client, action: str, creation, **extra):
    body = {"action": action, "_selected_action": [str(creation.pk)], **extra}
    return client.post(CHANGELIST, body)


def refund_of(creation) -> LedgerEntry | None:
    return LedgerEntry.objects.filter(creation_id=creation.pk, kind="refund").first()


def test_refund_asks_for_the_reason_first_and_refunds_nothing_yet(client, refunder, alice):
    forgotten = creation_in_state(owner=alice, kind="video", status="failed", refunded=False)
    client.force_login(refunder)

    response = send(client, "refund", forgotten)

    assert response.status_code == 200
    page = response.content.decode()
    assert '<textarea name="reason"' in page
    assert "will be refunded 10 tokens" in page
    assert 'value="Refund 1 creation"' in page
    assert refund_of(forgotten) is None
    assert balance_of(alice) == 90


@pytest.mark.parametrize("action", ["refund", "fail_and_refund"])
@pytest.mark.parametrize("reason", ["", "   \n  "])
def test_a_staff_refund_without_a_reason_is_refused_and_changes_nothing(
    client, refunder, alice, action, reason
):
    status = "failed" if action == "refund" else "processing"
    creation = creation_in_state(owner=alice, kind="video", status=status, refunded=False)
    client.force_login(refunder)

    response = send(client, action, creation, post="yes", reason=reason)

    assert response.status_code == 400
    page = response.content.decode()
    assert "A refund needs a reason: nothing was refunded." in page
    assert '<textarea name="reason"' in page  # the page again, to give one
    assert refund_of(creation) is None
    assert balance_of(alice) == 90
    creation.refresh_from_db()
    assert creation.status == status
    assert not LogEntry.objects.filter(object_id=str(creation.pk)).exists()


def test_refund_names_the_staff_member_and_their_reason(client, refunder, alice):
    forgotten = creation_in_state(owner=alice, kind="video", status="failed", refunded=False)
    client.force_login(refunder)

    response = send(client, "refund", forgotten, post="yes", reason=f"  {REASON}  ")

    assert response.status_code == 302
    refund = refund_of(forgotten)
    assert (refund.staff, refund.reason, refund.amount) == (refunder, REASON, 10)
    assert balance_of(alice) == 100
    log = LogEntry.objects.get(object_id=str(forgotten.pk), user=refunder)
    assert REASON in log.get_change_message()
    assert ledger_discrepancies() == []


def test_fail_and_refund_names_the_staff_member_and_their_reason(client, refunder, alice):
    stuck = creation_in_state(owner=alice, kind="video", status="processing")
    client.force_login(refunder)

    send(client, "fail_and_refund", stuck, post="yes", reason=REASON)

    stuck.refresh_from_db()
    assert (stuck.status, stuck.error_code) == ("failed", "staff_refund")
    refund = refund_of(stuck)
    assert (refund.staff, refund.reason) == (refunder, REASON)
    assert balance_of(alice) == 100


def test_fail_and_refund_of_one_already_failed_names_the_staff_who_refunded_it(
    client, refunder, alice
):
    forgotten = creation_in_state(owner=alice, status="failed", refunded=False)
    client.force_login(refunder)

    send(client, "fail_and_refund", forgotten, post="yes", reason=REASON)

    assert (refund_of(forgotten).staff, refund_of(forgotten).reason) == (refunder, REASON)


def test_automatic_refunds_name_no_staff(alice, make_creation):
    failed = make_creation(owner=alice, kind="video", status="failed", code="timed_out")
    canceled = make_creation(owner=alice, kind="video", status="canceled")

    assert (refund_of(failed).staff, refund_of(failed).reason) == (None, "timed_out")
    assert (refund_of(canceled).staff, refund_of(canceled).reason) == (None, "canceled")


def test_the_service_refuses_a_staff_refund_without_a_reason(alice, refunder):
    forgotten = creation_in_state(owner=alice, status="failed", refunded=False)

    with pytest.raises(ActionRefused) as refused:
        services.creation_refund_failed(creation=forgotten, staff=refunder, reason=" ")
    with pytest.raises(ActionRefused):
        services.creation_fail_by_staff(creation=forgotten, staff=refunder, reason="")

    assert (refused.value.code, refusal_status(refused.value)) == ("reason_required", 400)
    assert refund_of(forgotten) is None
    assert balance_of(alice) == 99


def test_the_money_service_itself_refuses_a_staff_refund_without_a_reason(alice, refunder):
    forgotten = creation_in_state(owner=alice, status="failed", refunded=False)

    with pytest.raises(ValueError, match="needs a reason"), transaction.atomic():
        account = tokens.lock_account(alice)
        tokens.creation_refund_locked(account, creation=forgotten, reason="", staff=refunder)

    assert refund_of(forgotten) is None


def test_the_creator_reads_the_reason_but_not_the_staff_members_name(client, refunder, alice):
    forgotten = creation_in_state(
        owner=alice, kind="video", status="failed", refunded=False, prompt="a stormy sea"
    )
    services.creation_refund_failed(creation=forgotten, staff=refunder, reason=REASON)
    client.force_login(alice)

    html = client.get("/tokens").content.decode()

    assert f"Refunded by Phoenix staff: {REASON}" in html
    assert refunder.username not in html


def test_the_ledger_admin_shows_who_refunded_and_why(client, refunder, alice):
    forgotten = creation_in_state(owner=alice, status="failed", refunded=False)
    automatic = creation_in_state(owner=alice, status="failed", error_code="timed_out")
    services.creation_refund_failed(creation=forgotten, staff=refunder, reason=REASON)
    refund = refund_of(forgotten)
    client.force_login(refunder)

    listing = client.get(reverse("admin:tokens_ledgerentry_changelist"))
    by_staff = client.get(reverse("admin:tokens_ledgerentry_changelist"), {"staff__isempty": "0"})
    detail = client.get(reverse("admin:tokens_ledgerentry_change", args=[refund.pk]))
    account = client.get(reverse("admin:tokens_tokenaccount_change", args=[alice.token_account.pk]))
    creation_page = client.get(reverse("admin:creations_creation_change", args=[forgotten.pk]))

    assert REASON in listing.content.decode() and "refunder" in listing.content.decode()
    assert [e.pk for e in by_staff.context["cl"].result_list] == [refund.pk]
    assert refund_of(automatic).pk not in {e.pk for e in by_staff.context["cl"].result_list}
    for response in (detail, account):
        assert response.status_code == 200
        assert REASON in response.content.decode()
        assert "refunder" in response.content.decode()
    assert f"by refunder: {REASON}" in creation_page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_staff_racing_to_refund_with_different_reasons_write_one_row_naming_one_of_them(
    staff_user, alice
):
    forgotten = creation_in_state(owner=alice, kind="video", status="failed", refunded=False)
    users = [staff_user("tokens.refund_creation") for _ in range(4)]

    def post(user) -> int:
        client = Client()
        client.force_login(user)
        reason = f"checked by {user.username}"
        return send(client, "refund", forgotten, post="yes", reason=reason).status_code

    statuses = run_at_once([lambda user=user: post(user) for user in users])

    assert statuses == [302] * 4
    refunds = LedgerEntry.objects.filter(creation_id=forgotten.pk, kind="refund")
    assert refunds.count() == 1
    refund = refunds.get()
    assert refund.staff in users and refund.reason == f"checked by {refund.staff.username}"
    assert balance_of(alice) == 100
    assert ledger_discrepancies() == []
