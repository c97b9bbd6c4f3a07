"""/tokens: the signed-in creator's balance and ledger, newest first, paginated, in words,
each row linked to its creation where it has one — and never anyone else's rows."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse

from creations import services
from creations.models import Creation
from tokens.models import LedgerEntry
from tokens.presenters import creation_place
from tokens.selectors import HISTORY_PAGE_SIZE
from tokens.services import account_adjust, account_grant

URL = "/tokens"
ROW = re.compile(
    r'<tr class="ledger__row[^"]*" id="entry-(\d+)".*?'
    r'<span class="receipt[^"]*">([^<]+)<span.*?'
    r'<span class="show-sm">Balance after </span>(\d+)</td>',
    re.S,
)


@pytest.fixture
def staff_member(db):
    return get_user_model().objects.create_user(
        "moneyperson", password="staff-password-123", is_staff=True
    )


def shown_rows(html: str) -> list[tuple[int, str, int]]:
    """(entry id, amount as shown, balance after) of every row, in page order."""
    return [(int(pk), amount, int(after)) for pk, amount, after in ROW.findall(html)]


def ledger_of(user) -> list[tuple[int, str, int]]:
    rows = LedgerEntry.objects.filter(account__user=user).order_by("-created_at", "-id")
    return [
        (e.pk, f"+{e.amount}" if e.amount > 0 else f"\u2212{-e.amount}", e.balance_after)
        for e in rows
    ]


def delete_row(creation) -> None:
    """The row alone, as if deleted by hand: the ledger keeps its creation id (no FK)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Creation._meta.db_table} WHERE id = %s", [creation.pk])


def test_it_sends_an_anonymous_visitor_to_log_in(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={URL}"


def test_the_url_is_named_token_history():
    assert reverse("token_history") == URL


def test_the_history_matches_the_ledger_row_for_row(
    alice_client, alice, make_creation, staff_member
):
    make_creation(owner=alice, status="draft", prompt="a quiet harbour")
    make_creation(owner=alice, kind="video", status="failed", code="provider_unavailable")
    make_creation(owner=alice, kind="video", status="canceled")
    account_adjust(user=alice, amount=-3, reason="Duplicate welcome bonus", staff=staff_member)

    response = alice_client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    rows = shown_rows(html)
    assert rows == ledger_of(alice)
    assert len(rows) == 7  # grant, 3 debits, 2 refunds, 1 adjustment
    assert [amount for _, amount, _ in rows] == ["\u22123", "+10", "\u221210", "+10"] + [
        "\u221210",
        "\u22121",
        "+100",
    ]
    alice.token_account.refresh_from_db()
    assert rows[0][2] == 96 == alice.token_account.balance
    assert '<span class="balance-card__amount">96 tokens</span>' in html


def test_each_row_says_what_it_was_in_words(alice_client, alice, make_creation, staff_member):
    make_creation(owner=alice, status="draft", prompt="a lighthouse " + "on a cliff " * 20)
    make_creation(owner=alice, kind="video", status="failed", code="timed_out")
    make_creation(owner=alice, kind="video", status="canceled")
    account_adjust(user=alice, amount=5, reason="Sorry for the outage", staff=staff_member)

    html = alice_client.get(URL).content.decode()

    assert "Welcome grant" in html
    assert '<span class="ledger__title">Image</span>' in html
    assert '<span class="ledger__title">Video</span>' in html
    # The prompt, shortened.
    assert "“a lighthouse on a cliff on a cliff" in html and "…”" in html
    assert "a lighthouse " + "on a cliff " * 20 not in html
    assert "Failed: Generation took too long and was stopped." in html
    assert "Canceled, tokens refunded" in html
    assert "By Phoenix staff: Sorry for the outage" in html
    # Staff are never named to a creator.
    assert staff_member.username not in html


def test_a_page_holds_25_rows_and_the_26th_goes_to_the_next_page(alice_client, alice):
    assert HISTORY_PAGE_SIZE == 25
    for n in range(HISTORY_PAGE_SIZE - 1):
        account_grant(user=alice, amount=1, reason=f"grant {n}")

    full = alice_client.get(URL).content.decode()

    assert len(shown_rows(full)) == 25
    assert 'class="pager"' not in full  # exactly one page: no page links

    account_grant(user=alice, amount=1, reason="the 26th row")
    first = alice_client.get(URL).content.decode()
    second = alice_client.get(URL, {"page": 2}).content.decode()

    ledger = ledger_of(alice)
    assert shown_rows(first) == ledger[:25]
    assert shown_rows(second) == ledger[25:]
    assert "Welcome grant" in second and "Welcome grant" not in first
    assert 'rel="next" href="?page=2"' in first and 'rel="prev"' not in first
    assert 'rel="prev" href="?page=1"' in second and 'rel="next"' not in second
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert '<nav class="pager" aria-label="Token history pages">' in first


@pytest.mark.parametrize("page", ["3", "999999", "-1"])
def test_a_page_past_the_end_shows_the_last_page(alice_client, alice, page):
    for n in range(HISTORY_PAGE_SIZE):
        account_grant(user=alice, amount=1, reason=f"grant {n}")

    response = alice_client.get(URL, {"page": page})

    assert response.status_code == 200
    assert shown_rows(response.content.decode()) == ledger_of(alice)[25:]


def test_a_page_that_is_not_a_number_shows_the_first(alice_client, alice):
    response = alice_client.get(URL, {"page": "abc"})

    assert response.status_code == 200
    assert shown_rows(response.content.decode()) == ledger_of(alice)


def test_another_creators_rows_never_show(alice_client, alice, bob, make_creation, staff_member):
    bobs = make_creation(owner=bob, status="published", prompt="bob's secret garden")
    account_adjust(user=bob, amount=7, reason="bob's private correction", staff=staff_member)
    for n in range(30):
        account_grant(user=bob, amount=1, reason=f"bob grant {n}")
    bob_ids = set(LedgerEntry.objects.filter(account__user=bob).values_list("pk", flat=True))

    pages = [alice_client.get(URL, {"page": n}).content.decode() for n in (1, 2, 3)]

    for html in pages:
        assert {pk for pk, _, _ in shown_rows(html)} == {alice.token_account.entries.get().pk}
        assert not bob_ids & {pk for pk, _, _ in shown_rows(html)}
        assert "secret garden" not in html and str(bobs.pk) not in html
        assert "private correction" not in html and "bob grant" not in html
        assert 'class="pager"' not in html


def test_each_row_links_to_where_its_creation_is_now(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft", prompt="draft fox")
    failed = make_creation(owner=alice, status="failed", prompt="failed fox")
    pending = make_creation(owner=alice, status="pending", prompt="pending fox")
    post = make_creation(owner=alice, status="published", prompt="posted fox")
    taken_down = make_creation(owner=alice, status="taken_down", prompt="taken fox")
    trashed = services.creation_trash(
        creation=make_creation(owner=alice, status="draft", prompt="trashed fox")
    )
    purged = services.creation_trash(
        creation=make_creation(owner=alice, status="failed", prompt="purged fox")
    )
    services.creation_purge(creation=purged)

    html = alice_client.get(URL).content.decode()

    drafts = "/soho/alice?tab=drafts#creation-{}"
    assert f'<a href="{drafts.format(draft.pk)}">“draft fox”</a>' in html
    assert f'<a href="{drafts.format(failed.pk)}">“failed fox”</a>' in html
    assert f'<a href="{drafts.format(pending.pk)}">“pending fox”</a>' in html
    assert f'<a href="/p/{post.pk}">“posted fox”</a>' in html
    assert f'<a href="/p/{taken_down.pk}">“taken fox”</a>' in html
    assert f'<a href="/soho/alice?tab=trash#creation-{trashed.pk}">“trashed fox”</a>' in html
    # Deleted forever: its debit and its refund say so, with no link and no prompt.
    assert html.count("Creation deleted forever") == 2
    assert str(purged.pk) not in html and "purged fox" not in html
    # Every link goes where the card really is.
    drafts_tab = alice_client.get("/soho/alice?tab=drafts").content.decode()
    trash_tab = alice_client.get("/soho/alice?tab=trash").content.decode()
    assert f'id="creation-{draft.pk}"' in drafts_tab
    assert f'id="creation-{trashed.pk}"' in trash_tab
    assert alice_client.get(f"/p/{taken_down.pk}").status_code == 200


def test_a_row_whose_creation_row_is_gone_reads_deleted_forever(alice, make_creation):
    creation = make_creation(owner=alice, kind="video", status="failed")
    delete_row(creation)
    entries = alice.token_account.entries.select_related("creation")

    debit = entries.get(kind="debit")

    assert debit.creation is None
    assert creation_place(debit.creation, owner=alice).is_gone


def test_a_missing_creation_keeps_its_kind_and_reason(alice_client, alice, make_creation):
    creation = make_creation(owner=alice, kind="video", status="failed", code="storage_failed")
    delete_row(creation)

    html = alice_client.get(URL).content.decode()

    assert '<span class="ledger__title">Video</span>' in html
    assert "Failed: storage failed" in html
    assert html.count("Creation deleted forever") == 2


def test_a_page_costs_the_same_few_queries_however_long_it_is(
    alice_client, alice, make_creation, django_assert_max_num_queries
):
    """Session, user, count, the page's rows with their creations (and purchases), the
    balance with the debt (once, for the page and the nav), the lots, the recent purchases
    and the nav's notifications bell."""
    make_creation(owner=alice, status="draft")
    with django_assert_max_num_queries(8) as few:
        short = alice_client.get(URL)
    assert len(shown_rows(short.content.decode())) == 2

    for n in range(12):  # 24 rows more, each with its creation
        make_creation(owner=alice, kind="video" if n % 2 else "image", status="failed")
    with django_assert_max_num_queries(8) as many:
        full = alice_client.get(URL)
    assert len(shown_rows(full.content.decode())) == 25
    assert len(many) == len(few)


def test_the_nav_balance_leads_to_the_history(alice_client):
    html = alice_client.get("/create").content.decode()
    assert '<a href="/tokens" class="balance" title="Your token balance and history">' in html
    here = alice_client.get(URL).content.decode()
    assert 'class="balance" title="Your token balance and history" aria-current="page"' in here


def test_posting_is_not_allowed(alice_client):
    assert alice_client.post(URL).status_code == 405
