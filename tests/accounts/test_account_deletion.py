"""Deleting the account: the password (and a code) again; then at once the sessions fail,
the password fails, the balance is forfeited through the ledger; the job purges the media;
personal data is scrubbed, comments stay anonymous, and the ledger still reconciles."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from accounts import twofactor
from accounts.models import DeletedAccount, TwoFactor
from creations.models import Creation
from profiles.models import ConfirmedEmail
from sharing import services as sharing
from sharing.models import Comment
from tests.accounts.conftest import code_at, enable_two_factor, log_in, signed_in_as
from tests.conftest import files_in, run_worker_burst
from tokens.models import LedgerEntry, TokenAccount

User = get_user_model()
DELETE = {"password": "alice-password-123", "confirm": "on"}


@pytest.fixture
def alices_things(alice, bob, make_creation, private_media):
    """Alice's creations in several states (one still generating), her comment on Bob's
    shared draft, and her confirmed address."""
    alice.email = "alice@example.com"
    alice.save(update_fields=["email"])
    ConfirmedEmail.objects.create(user=alice, address=alice.email)
    creations = [
        make_creation(owner=alice, status="draft"),
        make_creation(owner=alice, status="published", kind="video", caption="my fox"),
        make_creation(owner=alice, status="pending"),
    ]
    bobs = make_creation(owner=bob, status="draft")
    sharing.share_with_person(creation=bobs, owner=bob, username="alice")
    comment = sharing.comment_post(creation=bobs, author=alice, text="Lovely light!")
    return {"creations": creations, "comment": comment, "bobs": bobs}


def reconciles() -> bool:
    call_command("reconcile_tokens")  # raises CommandError (exit 1) when an account is off
    return True


# Committed for real: the purge job runs after COMMIT, in this process (run_worker_burst).
@pytest.mark.django_db(transaction=True)
def test_deleting_the_account_ends_it_everywhere_and_keeps_the_ledger_whole(
    alice, alice_client, alices_things, private_media
):
    other_browser = Client()
    other_browser.force_login(alice)
    entries_before = LedgerEntry.objects.filter(account__user=alice).count()
    alice_files = {
        private_media / name
        for creation in Creation.objects.filter(owner=alice)
        for name in (creation.media.name, creation.poster.name)
        if name
    }
    assert alice_files and alice_files <= files_in(private_media)
    bobs_file = private_media / alices_things["bobs"].media.name

    response = alice_client.post("/settings/delete", DELETE)
    assert response.status_code == 302

    # Every session of the account fails at once (pages and API), and so does the password.
    for browser in (alice_client, other_browser):
        assert browser.get("/tokens")["Location"].startswith("/accounts/login/")
        assert browser.get("/api/notifications").status_code == 401
    assert signed_in_as(log_in(Client(), "alice", "alice-password-123").client) is None

    # Money records stay: the in-flight creation was refunded, then the whole balance
    # forfeited through the ledger, so balance = sum of the ledger still holds.
    account = TokenAccount.objects.get(user_id=alice.pk)
    assert account.balance == 0
    forfeit = LedgerEntry.objects.get(account=account, kind="forfeit")
    assert forfeit.amount < 0 and forfeit.balance_after == 0
    assert LedgerEntry.objects.filter(account=account).count() == entries_before + 2
    assert DeletedAccount.objects.get(user_id=alice.pk).forfeited == -forfeit.amount
    assert reconciles()

    # Personal data scrubbed; the row stays as a tombstone for the ledger.
    tombstone = User.objects.get(pk=alice.pk)
    assert tombstone.username.startswith("deleted-")
    assert tombstone.email == "" and not tombstone.is_active
    assert not tombstone.has_usable_password()
    assert not ConfirmedEmail.objects.filter(user_id=alice.pk).exists()

    # Nothing of hers is public meanwhile; the job purges every creation and its files.
    assert not Creation.objects.public().filter(owner_id=alice.pk).exists()
    run_worker_burst()
    assert not Creation.objects.filter(owner_id=alice.pk, purged_at__isnull=True).exists()
    assert not Creation.objects.filter(owner_id=alice.pk).exclude(prompt="").exists()
    assert not (alice_files & files_in(private_media))
    assert bobs_file in files_in(private_media)
    assert DeletedAccount.objects.get(user_id=alice.pk).purged_at is not None

    # Her comment stays in Bob's thread, under the anonymous name.
    comment = Comment.objects.select_related("author").get(pk=alices_things["comment"].pk)
    assert comment.text == "Lovely light!"
    assert comment.author.username == tombstone.username
    assert reconciles()


def test_a_wrong_password_deletes_nothing(alice, alice_client, alices_things):
    response = alice_client.post("/settings/delete", {**DELETE, "password": "wrong"})
    assert response.status_code == 400
    assert "That password is not right" in response.content.decode()
    alice.refresh_from_db()
    assert alice.is_active and alice.username == "alice"
    assert not LedgerEntry.objects.filter(kind="forfeit").exists()
    assert alice_client.get("/tokens").status_code == 200


def test_without_ticking_the_statement_nothing_is_deleted(alice, alice_client):
    response = alice_client.post("/settings/delete", {"password": "alice-password-123"})
    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.is_active


def test_with_two_factor_on_the_code_is_asked_too(alice, client):
    enable_two_factor(alice)
    log_in(client, "alice", "alice-password-123")
    client.post("/accounts/login/code", {"code": code_at()})
    assert client.post("/settings/delete", DELETE).status_code == 400
    alice.refresh_from_db()
    assert alice.is_active
    codes = twofactor.recovery_codes_renew(user=alice)
    assert client.post("/settings/delete", {**DELETE, "code": codes[0]}).status_code == 302
    alice.refresh_from_db()
    assert not alice.is_active
    assert not TwoFactor.objects.filter(user_id=alice.pk).exists()
    assert reconciles()


def test_the_page_says_what_is_lost(alice_client):
    page = alice_client.get("/settings/data").content.decode()
    assert "100 unspent tokens are forfeited" in page
    assert "cannot be undone" in page


@pytest.mark.django_db(transaction=True)
def test_a_deleted_accounts_purge_left_undone_is_finished_by_the_daily_job(
    alice, alices_things, private_media, clean_redis
):
    from accounts import services
    from accounts.jobs import entrypoints

    services.account_delete(user=alice)
    clean_redis.flushdb()  # its purge job lost (Redis flushed)
    assert Creation.objects.filter(owner_id=alice.pk, purged_at__isnull=True).exists()
    entrypoints.accounts_housekeeping()
    assert not Creation.objects.filter(owner_id=alice.pk, purged_at__isnull=True).exists()
    assert reconciles()
