"""The reconciliation still checks the whole ledger, in keyset batches of accounts: no
single aggregate over the ledger and no server-side cursor (PgBouncer)."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from profiles.services import creator_signup
from tokens.models import TokenAccount
from tokens.services import account_grant


def test_it_checks_every_account_in_batches_and_finds_the_one_off(alice, bob, capsys):
    carol = creator_signup(username="carol", password="carol-password-123")
    account_grant(user=carol, amount=40, reason="contest")
    TokenAccount.objects.filter(pk=carol.token_account.pk).update(balance=1)
    with CaptureQueriesContext(connection) as queries, pytest.raises(CommandError, match="1 acc"):
        call_command("reconcile_tokens", batch_size=1)
    out = capsys.readouterr().out
    assert out.count("DISCREPANCY") == 1
    assert "DISCREPANCY carol" in out and "off by -139" in out
    # One statement per account batch of one, and the empty one that ends it.
    batches = [q["sql"] for q in queries if 'FROM "tokens_tokenaccount"' in q["sql"]]
    assert len(batches) == 4
    assert all("LIMIT 1" in sql for sql in batches)
    assert not any("DECLARE" in q["sql"].upper() for q in queries)


def test_a_clean_ledger_reconciles_across_batch_boundaries(alice, bob, capsys):
    call_command("reconcile_tokens", batch_size=1)
    assert "2 account(s) reconcile" in capsys.readouterr().out


def test_a_batch_size_below_one_is_refused(db):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("reconcile_tokens", batch_size=0)
