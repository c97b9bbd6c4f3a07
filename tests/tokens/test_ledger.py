import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, InternalError, transaction

from creations import services
from creations.models import Creation
from creations.validation import CreationRequest
from profiles.services import creator_signup
from tests.conftest import run_at_once, staff_adjust
from tokens.models import LedgerEntry, TokenAccount
from tokens.services import (
    BalanceWouldGoNegative,
    account_grant,
    ledger_discrepancies,
)


def test_a_new_creator_gets_the_welcome_grant_in_the_ledger(alice):
    entry = alice.token_account.entries.get()
    assert (entry.kind, entry.amount, entry.balance_after) == ("grant", 100, 100)
    assert alice.token_account.balance == 100


def test_the_welcome_grant_follows_the_setting(db, settings):
    settings.PHOENIX_WELCOME_TOKENS = 7
    carol = creator_signup(username="carol", password="carol-password-123")
    assert carol.token_account.balance == 7


def test_the_database_refuses_a_negative_balance(alice):
    with pytest.raises(IntegrityError), transaction.atomic():
        TokenAccount.objects.filter(pk=alice.token_account.pk).update(balance=-1)


def test_the_database_refuses_to_change_or_delete_a_ledger_row(alice):
    entry = alice.token_account.entries.get()
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=1000)
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.amount == 100


def test_the_database_refuses_a_second_debit_for_one_creation(
    alice, django_capture_on_commit_callbacks
):
    creation, _ = services.creation_submit(
        user=alice, request=CreationRequest("image", "fox", "1:1")
    )
    account = alice.token_account
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            account=account, kind="debit", amount=-1, balance_after=98, creation=creation
        )


def test_the_database_refuses_a_debit_with_a_positive_amount(alice):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            account=alice.token_account, kind="grant", amount=-5, balance_after=95
        )


def test_an_adjustment_cannot_take_a_balance_below_zero(alice):
    with pytest.raises(BalanceWouldGoNegative):
        staff_adjust(user=alice, amount=-101, reason="oops")
    alice.token_account.refresh_from_db()
    assert alice.token_account.balance == 100
    entry = staff_adjust(user=alice, amount=-100, reason="to zero")
    assert entry.balance_after == 0


def test_reconcile_is_clean_and_then_finds_a_tampered_balance(alice, bob, capsys):
    call_command("reconcile_tokens")
    assert "2 account(s) reconcile" in capsys.readouterr().out

    TokenAccount.objects.filter(pk=bob.token_account.pk).update(balance=150)
    with pytest.raises(CommandError, match="1 account"):
        call_command("reconcile_tokens")
    out = capsys.readouterr().out
    assert "DISCREPANCY bob" in out
    assert "off by +50" in out
    assert [d.username for d in ledger_discrepancies()] == ["bob"]


def test_grant_tokens_command_grants_and_creates_a_missing_account(db, django_user_model, capsys):
    dave = django_user_model.objects.create_user("dave", password="x")
    call_command("grant_tokens", "dave", "25", "--reason", "contest prize")
    dave.refresh_from_db()
    assert dave.token_account.balance == 25
    assert dave.token_account.entries.get().reason == "contest prize"
    with pytest.raises(CommandError):
        call_command("grant_tokens", "nobody", "5", "--reason", "x")
    with pytest.raises(CommandError):
        call_command("grant_tokens", "dave", "-5", "--reason", "x")


def test_it_refunds_once_when_failed_twice(alice, django_capture_on_commit_callbacks):
    creation, _ = services.creation_submit(
        user=alice, request=CreationRequest("video", "w", "", "landscape")
    )
    assert services.creation_fail(creation=creation, code="generation_failed") is True
    assert services.creation_fail(creation=creation, code="generation_failed") is False
    alice.token_account.refresh_from_db()
    assert alice.token_account.balance == 100
    assert creation.ledger_entries.filter(kind="refund").count() == 1
    assert creation.status == "failed"
    assert creation.error_message.endswith("Your tokens were refunded.")


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_of_one_creation_write_one_refund_row():
    alice = creator_signup(username="alice", password="alice-password-123")
    creation, _ = services.creation_submit(
        user=alice, request=CreationRequest("video", "w", "", "landscape")
    )
    results = run_at_once(
        [
            lambda: services.creation_fail(
                creation=Creation.objects.get(pk=creation.pk), code="generation_failed"
            )
        ]
        * 8
    )
    assert sorted(results) == [False] * 7 + [True]
    assert creation.ledger_entries.filter(kind="refund").count() == 1
    alice.token_account.refresh_from_db()
    assert alice.token_account.balance == 100
    assert ledger_discrepancies() == []


def test_a_grant_must_be_positive(alice):
    with pytest.raises(ValueError):
        account_grant(user=alice, amount=0, reason="nothing")
