"""The trash from the creator's side: Undo right after a delete, the Trash tab with Restore
and Delete forever, and who may see it."""

import re

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from creations.models import Creation

from .lifecycle import in_state

HTMX = {"HX-Request": "true"}
NOT_IN_TRASH = "Only a creation in the trash can be restored or deleted forever."


def undo(client, creation, slot: str | None):
    data = {"undo": "1", "back": "drafts"}
    if slot:
        data["slot"] = slot
    return client.post(f"/creations/{creation.id}/restore", data, headers=HTMX)


def test_undo_puts_the_card_back_into_its_slot_with_focus(alice_client, alice, make_creation):
    draft = in_state(make_creation, owner=alice, state="trashed-draft")

    response = undo(alice_client, draft, f"creation-{draft.id}")

    html = response.content.decode()
    assert response.status_code == 200
    # The card replaces its empty slot out of band; the Undo toast (the target) goes.
    card = re.search(rf'<article id="creation-{draft.id}"[^>]*>', html, re.S).group(0)
    assert 'hx-swap-oob="true"' in card
    assert "data-autofocus" in card
    assert "Restored." in html
    assert "toast--undo" not in html
    draft.refresh_from_db()
    assert (draft.status, draft.trashed_at) == ("draft", None)


def test_undo_with_its_slot_gone_says_where_the_draft_is(alice_client, alice, make_creation):
    draft = in_state(make_creation, owner=alice, state="trashed-draft")

    html = undo(alice_client, draft, slot=None).content.decode()

    assert f"creation-{draft.id}" not in html
    assert 'href="/soho/alice?tab=drafts">Open your drafts</a>' in html
    assert Creation.objects.get(pk=draft.pk).trashed_at is None


def test_undo_of_a_deleted_post_brings_it_back_as_the_post_it_was(
    alice_client, alice, make_creation
):
    post = in_state(make_creation, owner=alice, state="trashed-published")
    published_at = Creation.objects.get(pk=post.pk).published_at

    html = undo(alice_client, post, f"post-{post.id}").content.decode()

    # The delete taken back whole: back in its slot on the Posts tab, and in the feed.
    assert f"post-{post.id}" in html
    post.refresh_from_db()
    assert (post.status, post.trashed_at, post.published_at) == ("published", None, published_at)
    assert f"post-{post.id}" in Client().get("/").content.decode()


def test_an_undo_that_comes_too_late_is_disabled_and_says_why(alice_client, alice, make_creation):
    draft = in_state(make_creation, owner=alice, state="trashed-draft")
    alice_client.post(f"/creations/{draft.id}/purge", headers=HTMX)

    response = undo(alice_client, draft, f"creation-{draft.id}")

    html = response.content.decode()
    assert response.status_code == 409
    # Not an error: the toast stays, its Undo disabled, with why.
    assert 'class="toast toast--info"' in html
    assert "toast--error" not in html
    assert '<button type="button" class="toast__action" aria-disabled="true" disabled' in html
    assert "Nothing to undo: only a creation in the trash can be restored" in html
    assert Creation.objects.get(pk=draft.pk).purged_at is not None


@pytest.mark.parametrize(
    ("state", "comes_back_as", "tab"),
    [
        ("trashed-draft", "draft", "drafts"),
        ("trashed-failed", "failed", "drafts"),
        ("trashed-canceled", "canceled", "drafts"),
        ("trashed-published", "draft", "drafts"),
        ("trashed-scheduled", "draft", "drafts"),
        ("trashed-taken_down", "taken_down", "posts"),
    ],
)
def test_restore_in_the_trash_tab_takes_the_card_out_and_says_where_it_went(
    alice_client, alice, make_creation, state, comes_back_as, tab
):
    creation = in_state(make_creation, owner=alice, state=state)

    response = alice_client.post(
        f"/creations/{creation.id}/restore",
        headers={**HTMX, "HX-Target": f"creation-{creation.id}"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f'<article id="creation-{creation.id}"' not in html
    assert 'class="slot"' not in html  # nothing to put back here
    if state in ("trashed-published", "trashed-scheduled"):
        # Never straight back into public, and the toast says so.
        assert "Restored as a draft: publish it again" in html
    else:
        assert f"Restored to your {tab}." in html
    assert f'href="/soho/alice?tab={tab}"' in html or 'href="/soho/alice">' in html
    creation.refresh_from_db()
    assert (creation.status, creation.trashed_at) == (comes_back_as, None)


@pytest.mark.parametrize("state", ["draft", "published", "pending", "failed"])
def test_restoring_what_is_not_in_the_trash_is_refused(alice_client, alice, make_creation, state):
    creation = in_state(make_creation, owner=alice, state=state)

    with_htmx = alice_client.post(f"/creations/{creation.id}/restore", headers=HTMX)
    without = alice_client.post(f"/creations/{creation.id}/restore", follow=True)

    assert with_htmx.status_code == 409
    assert NOT_IN_TRASH in with_htmx.content.decode()
    assert without.redirect_chain == [("/soho/alice?tab=trash", 302)]
    assert NOT_IN_TRASH in without.content.decode()
    assert Creation.objects.get(pk=creation.pk).status == state


def test_restore_without_javascript_returns_to_the_trash(alice_client, alice, make_creation):
    draft = in_state(make_creation, owner=alice, state="trashed-draft")

    response = alice_client.post(f"/creations/{draft.id}/restore", follow=True)

    assert response.redirect_chain == [("/soho/alice?tab=trash", 302)]
    assert "Restored to your drafts." in response.content.decode()
    assert Creation.objects.get(pk=draft.pk).trashed_at is None


def test_delete_forever_removes_the_files_and_the_words_and_keeps_the_row(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks
):
    video = in_state(make_creation, owner=alice, state="trashed-draft", kind="video")
    files = [video.media.name, video.poster.name]

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            f"/creations/{video.id}/purge", headers={**HTMX, "HX-Target": f"creation-{video.id}"}
        )

    assert response.status_code == 200
    assert "Deleted forever." in response.content.decode()
    assert f'<article id="creation-{video.id}"' not in response.content.decode()
    video.refresh_from_db()
    assert video.purged_at is not None
    assert (video.prompt, video.media.name, video.poster.name) == ("", "", "")
    assert not any(default_storage.exists(name) for name in files)
    trash = alice_client.get("/soho/alice?tab=trash").content.decode()
    assert str(video.id) not in trash


def test_delete_forever_without_javascript_asks_first(alice_client, alice, make_creation):
    draft = in_state(make_creation, owner=alice, state="trashed-draft")

    question = alice_client.get(f"/creations/{draft.id}/purge")
    assert "Delete this image forever?" in question.content.decode()
    assert Creation.objects.get(pk=draft.pk).purged_at is None

    response = alice_client.post(f"/creations/{draft.id}/purge", follow=True)

    assert response.redirect_chain == [("/soho/alice?tab=trash", 302)]
    assert "Deleted forever." in response.content.decode()
    assert Creation.objects.get(pk=draft.pk).purged_at is not None


@pytest.mark.parametrize("state", ["draft", "published", "processing"])
def test_only_what_is_in_the_trash_can_be_deleted_forever(
    alice_client, alice, make_creation, state
):
    creation = in_state(make_creation, owner=alice, state=state)
    media = creation.media.name

    question = alice_client.get(f"/creations/{creation.id}/purge").content.decode()
    response = alice_client.post(f"/creations/{creation.id}/purge", headers=HTMX)

    assert "Only a creation in the trash can be deleted forever." in question
    assert "<button" not in question.split('class="narrow panel"')[1].split("</main>")[0]
    assert response.status_code == 409
    assert NOT_IN_TRASH in response.content.decode()
    creation.refresh_from_db()
    assert (creation.status, creation.purged_at) == (state, None)
    assert not media or default_storage.exists(media)


def test_the_trash_tab_lists_what_is_in_the_trash_with_its_actions(
    alice_client, alice, make_creation
):
    trashed = in_state(make_creation, owner=alice, state="trashed-draft", prompt="binned fox")
    post = in_state(make_creation, owner=alice, state="trashed-published", prompt="binned post")
    purged = in_state(make_creation, owner=alice, state="trashed-failed")
    alice_client.post(f"/creations/{purged.id}/purge")
    kept = make_creation(owner=alice, status="draft", prompt="a kept draft")

    html = alice_client.get("/soho/alice?tab=trash").content.decode()

    assert "binned fox" in html and "binned post" in html
    assert str(purged.id) not in html and "a kept draft" not in html
    assert html.index(f"creation-{post.id}") < html.index(f"creation-{trashed.id}")  # newest
    assert html.count('id="restore-') == 2
    assert f'href="/creations/{trashed.id}/purge"' in html
    assert "Restore brings it back as a draft" in html  # the trashed post
    assert 'aria-current="page">Trash</a>' in html
    assert 'name="action" value="restore"' in html and 'name="action" value="purge"' in html
    drafts = alice_client.get("/soho/alice?tab=drafts").content.decode()
    assert "a kept draft" in drafts and "binned fox" not in drafts
    assert str(kept.id) not in html


def test_an_empty_trash_says_so(alice_client):
    html = alice_client.get("/soho/alice?tab=trash").content.decode()

    assert "The trash is empty." in html
    assert 'id="bulk-form"' not in html


@pytest.mark.parametrize("viewer", ["bob", "anonymous"])
def test_someone_elses_trash_tab_shows_their_posts_instead(
    client, alice, bob, make_creation, viewer
):
    in_state(make_creation, owner=alice, state="trashed-draft", prompt="alice's binned draft")
    make_creation(owner=alice, status="published", caption="alice's post")
    if viewer == "bob":
        client.force_login(bob)

    html = client.get("/soho/alice?tab=trash").content.decode()

    assert "binned draft" not in html
    assert "alice&#x27;s post" in html
    assert 'href="?tab=trash"' not in html
