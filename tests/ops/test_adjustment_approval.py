"""Staff cannot credit an accomplice alone: an adjustment above
PHOENIX_ADJUSTMENT_APPROVAL_ABOVE waits for a second staff member, and every adjustment
asked in the admin is in the audit view (AdjustmentRequest)."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.conftest import run_at_once
from tokens.adjustments import SelfApproval, adjustment_approve, adjustment_ask
from tokens.models import AdjustmentRequest, LedgerEntry, TokenAccount
from tokens.services import BalanceWouldGoNegative, ledger_discrepancies

from .conftest import balance_of


@pytest.fixture
def second_adjuster(staff_user):
    return staff_user("tokens.adjust_balance", username="second")


def adjust_url(user) -> str:
    return reverse("admin:tokens_tokenaccount_adjust", args=[user.token_account.pk])


def decide_url(request: AdjustmentRequest) -> str:
    return reverse("admin:tokens_adjustmentrequest_decide", args=[request.pk])


def test_a_small_adjustment_is_applied_at_once_and_audited(client, adjuster, alice, settings):
    settings.PHOENIX_ADJUSTMENT_APPROVAL_ABOVE = 50
    client.force_login(adjuster)

    client.post(adjust_url(alice), {"amount": "50", "reason": "goodwill"})

    assert balance_of(alice) == 150
    audit = AdjustmentRequest.objects.get()
    assert (audit.status, audit.requested_by, audit.entry.amount) == ("applied", adjuster, 50)
    listing = client.get(reverse("admin:tokens_adjustmentrequest_changelist"))
    assert listing.status_code == 200
    assert "goodwill" in listing.content.decode()


def test_a_large_one_waits_and_its_asker_cannot_approve_it(
    client, adjuster, second_adjuster, alice, settings
):
    settings.PHOENIX_ADJUSTMENT_APPROVAL_ABOVE = 50
    client.force_login(adjuster)

    page = client.post(adjust_url(alice), {"amount": "500", "reason": "friend"}, follow=True)

    assert "need a second staff member" in page.content.decode()
    assert balance_of(alice) == 100
    assert not LedgerEntry.objects.filter(kind="adjustment").exists()
    request = AdjustmentRequest.objects.get(status="pending")
    mine = client.post(decide_url(request), {"decision": "approve"}, follow=True)
    assert "Another staff member must approve" in mine.content.decode()
    assert balance_of(alice) == 100
    with pytest.raises(SelfApproval):
        adjustment_approve(request_id=request.pk, staff=adjuster)
    # And the database holds the rule even if code forgot it.
    with pytest.raises(IntegrityError), transaction.atomic():
        AdjustmentRequest.objects.filter(pk=request.pk).update(
            status="rejected", decided_by=adjuster
        )

    client.force_login(second_adjuster)
    approved = client.post(decide_url(request), {"decision": "approve"}, follow=True)

    assert "Approved" in approved.content.decode()
    assert balance_of(alice) == 600
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("approved", second_adjuster)
    entry = request.entry
    assert (entry.amount, entry.staff, entry.reason) == (500, adjuster, "friend")
    # Approving twice applies once.
    again = client.post(decide_url(request), {"decision": "approve"}, follow=True)
    assert "approved and applied already" in again.content.decode()
    assert balance_of(alice) == 600
    assert ledger_discrepancies() == []


def test_a_rejected_or_withdrawn_one_moves_nothing(
    client, adjuster, second_adjuster, alice, settings
):
    settings.PHOENIX_ADJUSTMENT_APPROVAL_ABOVE = 10
    rejected = adjustment_ask(
        account=alice.token_account, amount=-90, reason="chargeback", staff=adjuster
    ).request
    withdrawn = adjustment_ask(
        account=alice.token_account, amount=20, reason="typo", staff=adjuster
    ).request

    client.force_login(second_adjuster)
    client.post(decide_url(rejected), {"decision": "reject", "note": "no evidence"})
    client.force_login(adjuster)
    client.post(decide_url(withdrawn), {"decision": "reject"})

    rejected.refresh_from_db()
    withdrawn.refresh_from_db()
    assert (rejected.status, rejected.decided_by, rejected.decision_note) == (
        "rejected",
        second_adjuster,
        "no evidence",
    )
    assert (withdrawn.status, withdrawn.decided_by) == ("withdrawn", None)
    assert balance_of(alice) == 100


def test_an_approval_that_would_take_the_balance_below_zero_is_refused(
    adjuster, second_adjuster, alice, settings
):
    settings.PHOENIX_ADJUSTMENT_APPROVAL_ABOVE = 10
    request = adjustment_ask(
        account=alice.token_account, amount=-90, reason="chargeback", staff=adjuster
    ).request
    # Each staff member's step is under the threshold (one's steps add up, see below).
    adjustment_ask(account=alice.token_account, amount=-10, reason="first", staff=adjuster)
    adjustment_ask(account=alice.token_account, amount=-10, reason="second", staff=second_adjuster)

    with pytest.raises(BalanceWouldGoNegative):
        adjustment_approve(request_id=request.pk, staff=second_adjuster)

    request.refresh_from_db()
    assert request.status == "pending"
    assert balance_of(alice) == 80


def test_staff_without_the_adjust_permission_cannot_decide(
    client, adjuster, plain_staff, alice, settings
):
    settings.PHOENIX_ADJUSTMENT_APPROVAL_ABOVE = 10
    request = adjustment_ask(
        account=alice.token_account, amount=50, reason="x", staff=adjuster
    ).request
    client.force_login(plain_staff)

    response = client.post(decide_url(request), {"decision": "approve"})

    assert response.status_code == 403
    assert balance_of(alice) == 100


def test_grant_tokens_from_a_shell_still_credits_at_once(alice, settings):
    settings.PHOENIX_ADJUSTMENT_APPROVAL_ABOVE = 10

    call_command("grant_tokens", "alice", "5000", reason="contest prize")

    assert balance_of(alice) == 5100


def test_small_adjustments_that_add_up_past_the_threshold_wait_for_a_second_staff_member(
    adjuster, alice, settings
):
    """Before: each adjustment was judged alone, so one staff member credited any amount to
    an accomplice in steps of the threshold, with nobody else looking."""
    settings.PHOENIX_ADJUSTMENT_APPROVAL_ABOVE = 50

    statuses = [
        adjustment_ask(
            account=alice.token_account, amount=30, reason=f"part {i}", staff=adjuster
        ).request.status
        for i in range(3)
    ]

    assert statuses == ["applied", "pending", "pending"]
    assert balance_of(alice) == 130
    # Taking tokens away is counted on its own: the credit does not make it wait.
    taken = adjustment_ask(account=alice.token_account, amount=-30, reason="typo", staff=adjuster)
    assert taken.request.status == "applied"
    assert balance_of(alice) == 100
    assert ledger_discrepancies() == []


@pytest.mark.django_db(transaction=True)
def test_two_small_adjustments_at_once_do_not_both_slip_under_the_threshold(
    adjuster, alice, settings
):
    settings.PHOENIX_ADJUSTMENT_APPROVAL_ABOVE = 50
    account_id = alice.token_account.pk

    def ask(part: int) -> str:
        account = TokenAccount.objects.get(pk=account_id)
        return adjustment_ask(
            account=account, amount=30, reason=f"part {part}", staff=adjuster
        ).request.status

    statuses = run_at_once([lambda part=part: ask(part) for part in range(4)])

    assert sorted(statuses) == ["applied", "pending", "pending", "pending"]
    assert balance_of(alice) == 130
    assert ledger_discrepancies() == []
