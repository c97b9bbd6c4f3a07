"""Token accounts in the admin: the read-only ledger and the Adjust balance form."""

import pytest
from django.db import IntegrityError, InternalError, transaction
from django.urls import reverse
from django.utils import timezone

from creations.models import Creation
from tokens.adjustments import adjustment_approve
from tokens.models import AdjustmentRequest, LedgerEntry
from tokens.services import account_adjust, ledger_discrepancies

from .conftest import balance_of, creation_in_state


def adjust_url(user) -> str:
    return reverse("admin:tokens_tokenaccount_adjust", args=[user.token_account.pk])


def account_url(user) -> str:
    return reverse("admin:tokens_tokenaccount_change", args=[user.token_account.pk])


def test_an_adjustment_writes_a_ledger_row_with_the_staff_member(client, adjuster, alice):
    client.force_login(adjuster)

    response = client.post(adjust_url(alice), {"amount": "-30", "reason": "chargeback"})

    assert response.status_code == 302
    assert response["Location"] == account_url(alice)
    assert balance_of(alice) == 70
    entry = LedgerEntry.objects.get(kind="adjustment")
    assert (entry.amount, entry.balance_after, entry.reason, entry.staff) == (
        -30,
        70,
        "chargeback",
        adjuster,
    )
    assert ledger_discrepancies() == []


def test_an_adjustment_below_zero_is_refused_with_a_clear_error(client, adjuster, alice):
    client.force_login(adjuster)

    response = client.post(adjust_url(alice), {"amount": "-101", "reason": "too much"})

    assert response.status_code == 200
    assert "would take the balance of 100 below zero" in response.content.decode()
    assert balance_of(alice) == 100
    assert not LedgerEntry.objects.filter(kind="adjustment").exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"amount": "5", "reason": "   "}, "This field is required."),
        ({"amount": "0", "reason": "nothing"}, "An adjustment must change the balance."),
        ({"amount": "", "reason": "no amount"}, "This field is required."),
    ],
)
def test_an_adjustment_needs_a_reason_and_a_non_zero_amount(client, adjuster, alice, data, error):
    client.force_login(adjuster)

    response = client.post(adjust_url(alice), data)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert balance_of(alice) == 100


def test_staff_without_the_adjust_permission_get_no_button_and_a_403(client, plain_staff, alice):
    client.force_login(plain_staff)

    page = client.get(account_url(alice))
    form = client.get(adjust_url(alice))
    post = client.post(adjust_url(alice), {"amount": "50", "reason": "gift"})

    assert page.status_code == 200
    assert adjust_url(alice) not in page.content.decode()
    assert (form.status_code, post.status_code) == (403, 403)
    assert balance_of(alice) == 100


def test_staff_with_the_adjust_permission_see_the_button(client, adjuster, alice):
    client.force_login(adjuster)
    assert adjust_url(alice) in client.get(account_url(alice)).content.decode()


def test_the_account_page_shows_the_ledger_newest_first(client, adjuster, alice):
    account_adjust(user=alice, amount=5, reason="first correction", staff=adjuster)
    account_adjust(user=alice, amount=7, reason="second correction", staff=adjuster)
    client.force_login(adjuster)

    page = client.get(account_url(alice)).content.decode()

    assert page.index("second correction") < page.index("first correction") < page.index("welcome")


def test_the_ledger_of_a_deleted_creation_still_renders(client, adjuster, alice):
    creation = creation_in_state(owner=alice, status="failed")
    Creation.objects.filter(pk=creation.pk).delete()
    client.force_login(adjuster)

    account = client.get(account_url(alice))
    entries = client.get(reverse("admin:tokens_ledgerentry_changelist"))

    assert account.status_code == entries.status_code == 200
    assert str(creation.pk)[:8] in account.content.decode()


def test_ledger_rows_cannot_be_changed_or_deleted_through_the_admin(admin_client, alice):
    entry = alice.token_account.entries.get()
    change = reverse("admin:tokens_ledgerentry_change", args=[entry.pk])
    delete = reverse("admin:tokens_ledgerentry_delete", args=[entry.pk])

    edit = admin_client.post(change, {"amount": "1000", "reason": "edited"})
    delete_page = admin_client.get(delete)
    delete_post = admin_client.post(delete, {"post": "yes"})
    bulk = admin_client.post(
        reverse("admin:tokens_ledgerentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )

    assert (edit.status_code, delete_page.status_code, delete_post.status_code) == (403, 403, 403)
    assert bulk.status_code in (200, 302)
    entry.refresh_from_db()
    assert (entry.amount, entry.reason) == (100, "welcome")
    assert (
        'value="delete_selected"'
        not in admin_client.get(reverse("admin:tokens_ledgerentry_changelist")).content.decode()
    )


def test_the_database_refuses_to_update_a_ledger_row(alice):
    entry = alice.token_account.entries.get()
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=1000)
    entry.refresh_from_db()
    assert entry.amount == 100


def test_the_account_links_its_full_ledger(client, adjuster, alice, bob):
    client.force_login(adjuster)
    page = client.get(account_url(alice)).content.decode()
    url = (
        reverse("admin:tokens_ledgerentry_changelist")
        + f"?account__id__exact={alice.token_account.pk}"
    )
    assert url in page

    listing = client.get(url)

    assert listing.status_code == 200
    assert [e.account_id for e in listing.context["cl"].result_list] == [alice.token_account.pk]


def test_the_same_adjust_form_sent_twice_adjusts_once(client, adjuster, alice):
    client.force_login(adjuster)
    form = client.get(adjust_url(alice)).content.decode()
    key = form.split('name="request_key" value="')[1].split('"')[0]
    assert len(key) == 32
    sent = {"amount": "25", "reason": "goodwill", "request_key": key}

    first = client.post(adjust_url(alice), sent)
    again = client.post(adjust_url(alice), sent, follow=True)

    assert first.status_code == 302
    assert "This adjustment was already applied (+25)" in again.content.decode()
    assert balance_of(alice) == 125
    assert LedgerEntry.objects.filter(kind="adjustment").count() == 1
    # A fresh render is a fresh key: a deliberate second adjustment goes through.
    fresh = client.get(adjust_url(alice)).content.decode()
    assert key not in fresh


@pytest.mark.django_db(transaction=True)
def test_two_sendings_of_one_form_at_once_adjust_once(adjuster, alice):
    from tests.conftest import run_at_once
    from tokens.services import AlreadyApplied

    def send():
        try:
            account_adjust(
                user=alice, amount=10, reason="double click", staff=adjuster, request_key="k1"
            )
            return "applied"
        except AlreadyApplied:
            return "already"

    assert sorted(run_at_once([send] * 6)) == ["already"] * 5 + ["applied"]
    assert balance_of(alice) == 110


@pytest.mark.parametrize(
    "amount",
    ["100001", "-100001", "9" * 30, "-" + "9" * 30, "9223372036854775807"],
    ids=["just-over", "just-under", "past-bigint", "far-below", "bigint-max"],
)
def test_an_adjustment_beyond_the_bound_is_a_form_error_never_a_500(
    client, adjuster, alice, amount
):
    client.force_login(adjuster)

    response = client.post(adjust_url(alice), {"amount": amount, "reason": "fat finger"})

    assert response.status_code == 200
    assert "An adjustment is at most 100,000 tokens either way" in response.content.decode()
    assert balance_of(alice) == 100
    assert not LedgerEntry.objects.filter(kind="adjustment").exists()


def test_the_bound_itself_is_accepted(client, adjuster, alice, staff_user):
    client.force_login(adjuster)
    response = client.post(adjust_url(alice), {"amount": "100000", "reason": "prize"})
    assert response.status_code == 302
    # Past PHOENIX_ADJUSTMENT_APPROVAL_ABOVE: a second staff member applies it.
    assert balance_of(alice) == 100
    request = AdjustmentRequest.objects.get()
    adjustment_approve(request_id=request.pk, staff=staff_user("tokens.adjust_balance"))
    assert balance_of(alice) == 100_100


def test_staff_cannot_adjust_their_own_balance(client, adjuster):
    from tokens.services import account_open

    account_open(user=adjuster)
    client.force_login(adjuster)

    page = client.get(account_url(adjuster)).content.decode()
    response = client.post(adjust_url(adjuster), {"amount": "500", "reason": "bonus for me"})

    assert adjust_url(adjuster) not in page  # no Adjust button on one's own account
    assert response.status_code == 200
    assert "Nobody adjusts their own balance" in response.content.decode()
    assert not LedgerEntry.objects.filter(kind="adjustment").exists()


def test_the_service_refuses_a_self_adjustment_and_one_beyond_the_bound(adjuster, alice):
    from tokens.services import AdjustmentTooLarge, SelfAdjustment, account_open

    account_open(user=adjuster)
    with pytest.raises(SelfAdjustment):
        account_adjust(user=adjuster, amount=5, reason="mine", staff=adjuster)
    with pytest.raises(AdjustmentTooLarge):
        account_adjust(user=alice, amount=10**12, reason="typo", staff=adjuster)
    assert not LedgerEntry.objects.filter(kind="adjustment").exists()


def test_the_adjust_form_says_the_creator_sees_the_reason(client, adjuster, alice):
    client.force_login(adjuster)

    page = client.get(adjust_url(alice)).content.decode()

    assert "Shown to the creator on their token history as “By Phoenix staff: …”" in page


@pytest.mark.parametrize("suffix", ["change/", "adjust/"])
def test_an_account_address_that_is_not_a_number_is_no_500(client, adjuster, suffix):
    client.force_login(adjuster)

    response = client.get(f"/admin/tokens/tokenaccount/abc/{suffix}")

    if suffix == "change/":
        # Django's own answer for an object that does not exist: back to the list.
        assert response.status_code == 302
        assert response["Location"] == "/admin/"
    else:
        assert response.status_code == 404


def test_tokens_added_by_staff_can_expire(client, adjuster, alice):
    client.force_login(adjuster)

    response = client.post(
        adjust_url(alice), {"amount": "30", "reason": "contest prize", "expires_in_days": "14"}
    )

    assert response.status_code == 302
    lot = LedgerEntry.objects.get(kind="adjustment").lot
    assert (lot.category, lot.remaining) == ("promo", 30)
    assert 13 <= (lot.expires_at - timezone.now()).days <= 14
