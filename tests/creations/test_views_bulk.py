"""Bulk actions on the Drafts and Trash tabs: one POST, each item its own transaction, a
summary in words, the tab refreshed; at most 100 items; someone else's ids change nothing."""

import uuid

import pytest
from django.test import Client

from creations.models import Creation
from tokens.models import TokenAccount
from tokens.services import account_grant

from .lifecycle import in_state

HTMX = {"HX-Request": "true"}


def bulk(client, action: str, creations, *, tab: str = "drafts", follow=False, **extra):
    data = {"tab": tab, "action": action, "ids": [str(c.id) for c in creations], **extra}
    headers = {} if follow else HTMX
    return client.post("/creations/bulk", data, headers=headers, follow=follow)


def statuses(creations) -> list[str]:
    return [Creation.objects.get(pk=c.pk).status for c in creations]


def test_publishing_drafts_at_once_says_what_was_published_and_what_was_skipped(
    alice_client, alice, make_creation
):
    drafts = [make_creation(owner=alice, status="draft") for _ in range(3)]
    pending = make_creation(owner=alice, status="pending")
    failed = make_creation(owner=alice, status="failed")

    response = bulk(alice_client, "publish", [*drafts, pending, failed], caption="  a set  ")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith('<section id="profile-tabs"')  # the tab, refreshed
    assert (
        '<p class="bulk__summary" tabindex="-1" data-autofocus>'
        "3 published, 2 skipped: 1 still generating, 1 failed or canceled.</p>"
    ) in html
    assert not any(f'id="creation-{d.id}"' in html for d in drafts)
    assert f'id="creation-{pending.id}"' in html
    assert "hx-preserve" not in html  # a new selection starts
    assert statuses(drafts) == ["published"] * 3
    assert {Creation.objects.get(pk=d.pk).caption for d in drafts} == {"a set"}
    assert statuses([pending, failed]) == ["pending", "failed"]


def test_one_reason_for_every_skip_reads_as_one(alice_client, alice, make_creation):
    drafts = [make_creation(owner=alice, status="draft") for _ in range(2)]
    pending = [make_creation(owner=alice, status="pending") for _ in range(2)]

    html = bulk(alice_client, "publish", [*drafts, *pending]).content.decode()

    assert "2 published, 2 skipped: still generating." in html


def test_moving_to_the_trash_at_once_keeps_in_flight_ones_out(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")
    canceled = in_state(make_creation, owner=alice, state="canceled")
    processing = make_creation(owner=alice, status="processing")

    html = bulk(alice_client, "trash", [draft, canceled, processing]).content.decode()

    assert "2 moved to the trash, 1 skipped: still generating." in html
    assert (
        Creation.objects.filter(pk__in=[draft.pk, canceled.pk], trashed_at__isnull=False).count()
        == 2
    )
    assert Creation.objects.get(pk=processing.pk).trashed_at is None


def test_canceling_at_once_refunds_each_and_updates_the_balances(
    alice_client, alice, make_creation
):
    video = make_creation(owner=alice, status="processing", kind="video")
    image = make_creation(owner=alice, status="pending")
    draft = make_creation(owner=alice, status="draft")

    html = bulk(alice_client, "cancel", [video, image, draft]).content.decode()

    assert "2 canceled, 11 tokens refunded, 1 skipped: already finished." in html
    assert '<span hx-swap-oob="innerHTML:[data-balance]">99 tokens</span>' in html
    assert statuses([video, image, draft]) == ["canceled", "canceled", "draft"]
    assert TokenAccount.objects.get(user=alice).balance == 99


def test_restoring_and_deleting_forever_from_the_trash_tab(alice_client, alice, make_creation):
    trashed = [in_state(make_creation, owner=alice, state="trashed-draft") for _ in range(2)]
    not_trashed = make_creation(owner=alice, status="draft")

    restored = bulk(alice_client, "restore", [trashed[0], not_trashed], tab="trash")
    purged = bulk(alice_client, "purge", [trashed[1]], tab="trash")

    assert "1 restored, 1 skipped: not in the trash." in restored.content.decode()
    assert 'aria-current="page">Trash</a>' in restored.content.decode()
    assert "1 deleted forever." in purged.content.decode()
    assert Creation.objects.get(pk=trashed[0].pk).trashed_at is None
    assert Creation.objects.get(pk=trashed[1].pk).purged_at is not None


def test_without_javascript_delete_forever_asks_first_then_redirects_with_the_summary(
    alice_client, alice, make_creation
):
    trashed = [in_state(make_creation, owner=alice, state="trashed-failed") for _ in range(2)]

    question = bulk(alice_client, "purge", trashed, tab="trash", follow=True)

    html = question.content.decode()
    assert "Delete 2 creations forever?" in html
    assert all(f'<input type="hidden" name="ids" value="{c.id}">' in html for c in trashed)
    assert not Creation.objects.filter(purged_at__isnull=False).exists()

    done = bulk(alice_client, "purge", trashed, tab="trash", follow=True, confirmed="1")

    assert done.redirect_chain == [("/soho/alice?tab=trash", 302)]
    assert "2 deleted forever." in done.content.decode()
    assert Creation.objects.filter(purged_at__isnull=False).count() == 2


def test_without_javascript_a_bulk_publish_redirects_to_the_tab_with_the_summary(
    alice_client, alice, make_creation
):
    draft = make_creation(owner=alice, status="draft")

    response = bulk(alice_client, "publish", [draft], follow=True)

    assert response.redirect_chain == [("/soho/alice?tab=drafts", 302)]
    assert "1 published." in response.content.decode()


def test_someone_elses_ids_read_as_not_found_and_change_nothing(
    alice_client, alice, bob, make_creation
):
    bobs = make_creation(owner=bob, status="draft")

    html = bulk(alice_client, "publish", [bobs]).content.decode()

    assert "0 published, 1 skipped: not found." in html
    assert str(bobs.id) not in html
    assert statuses([bobs]) == ["draft"]


@pytest.mark.parametrize(
    ("count", "status", "message"),
    [
        (100, 200, "100 published."),
        (101, 400, "At most 100 creations at once; this request has 101."),
    ],
)
def test_at_most_100_at_once(alice_client, alice, make_creation, count, status, message):
    account_grant(user=alice, amount=100, reason="enough for a hundred drafts")
    drafts = [make_creation(owner=alice, status="draft") for _ in range(min(count, 100))]
    ids = [str(d.id) for d in drafts] + [str(uuid.uuid4()) for _ in range(count - len(drafts))]

    response = alice_client.post(
        "/creations/bulk", {"tab": "drafts", "action": "publish", "ids": ids}, headers=HTMX
    )

    assert response.status_code == status
    assert message in response.content.decode()
    published = Creation.objects.filter(status="published").count()
    assert published == (100 if status == 200 else 0)


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"action": "publish"}, 400, "Select at least one first."),
        ({"action": "purge", "ids": "DRAFT"}, 400, "Choose an action."),  # not on this tab
        ({"action": "publish", "ids": "not-an-id"}, 400, "Every id must be a creation id."),
        ({"action": "publish", "ids": "DRAFT", "caption": "z" * 2201}, 422, "the limit is 2200"),
    ],
)
def test_a_request_that_cannot_be_done_is_refused_whole(
    alice_client, alice, make_creation, data, status, message
):
    draft = make_creation(owner=alice, status="draft")
    data = {"tab": "drafts", **data}
    if data.get("ids") == "DRAFT":
        data["ids"] = [str(draft.id)]

    response = alice_client.post("/creations/bulk", data, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == status
    assert message in html
    assert 'class="form-error" tabindex="-1" data-autofocus' in html
    assert "hx-preserve" in html  # the selection stays, to try again
    assert statuses([draft]) == ["draft"]


def test_logged_out_a_bulk_request_goes_to_the_login_and_changes_nothing(alice, make_creation):
    draft = make_creation(owner=alice, status="draft")

    response = bulk(Client(), "publish", [draft])

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert statuses([draft]) == ["draft"]


def test_the_drafts_and_trash_tabs_have_a_checkbox_on_every_card(
    alice_client, alice, make_creation
):
    cards = [make_creation(owner=alice, status=s) for s in ("pending", "draft", "failed")]

    html = alice_client.get("/soho/alice?tab=drafts").content.decode()

    assert '<form id="bulk-form"' in html
    assert 'for="select-all">Select all on this page</label>' in html
    for card in cards:
        assert (
            f'<input type="checkbox" class="card__select" id="select-{card.id}" name="ids" '
            f'value="{card.id}" form="bulk-form" data-select hx-preserve>'
        ) in html
        assert f'<label class="visually-hidden" for="select-{card.id}">Select' in html
