"""Publishing a draft with a caption, and Delete, which moves a creation to the trash."""

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from creations import services
from creations.models import Creation

HTMX = {"HX-Request": "true"}


def test_publishing_with_htmx_removes_the_card_and_puts_the_post_on_top(
    alice_client, alice, make_creation
):
    make_creation(owner=alice, status="published", caption="older post")
    draft = make_creation(owner=alice, status="draft")

    response = alice_client.post(
        f"/creations/{draft.id}/publish", {"caption": "  Snow fox, at last  "}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f"creation-{draft.id}" not in html  # nothing replaces the card: it leaves
    assert 'hx-swap-oob="beforeend:#toasts"' in html
    assert "Published. It is now at the top of your posts." in html
    draft.refresh_from_db()
    assert (draft.status, draft.caption) == ("published", "Snow fox, at last")
    drafts = alice_client.get("/soho/alice?tab=drafts").content.decode()
    assert f"creation-{draft.id}" not in drafts
    posts = alice_client.get("/soho/alice").content.decode()
    assert posts.index(f"post-{draft.id}") < posts.index("older post")
    assert "Snow fox, at last" in posts
    feed = alice_client.get("/").content.decode()
    assert feed.index(f"post-{draft.id}") < feed.index("older post")


def test_publishing_without_javascript_redirects_to_the_posts(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")

    response = alice_client.post(
        f"/creations/{draft.id}/publish", {"caption": "hello"}, follow=True
    )

    assert response.redirect_chain == [("/soho/alice", 302)]
    html = response.content.decode()
    assert "Published. It is at the top of your posts." in html
    assert f"post-{draft.id}" in html


def test_a_caption_over_2200_characters_is_refused_and_kept(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")

    response = alice_client.post(
        f"/creations/{draft.id}/publish", {"caption": "x" * 2201}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert "The caption is 2201 characters; the limit is 2200." in html
    assert f'id="creation-{draft.id}"' in html
    assert '<details class="publish" open>' in html
    assert "x" * 2201 in html
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_caption_with_a_null_character_is_refused(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")

    response = alice_client.post(
        f"/creations/{draft.id}/publish", {"caption": "hi\x00there"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "The caption contains a null character." in response.content.decode()
    draft.refresh_from_db()
    assert (draft.status, draft.caption) == ("draft", "")


def test_a_caption_of_exactly_2200_characters_is_fine(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")

    alice_client.post(f"/creations/{draft.id}/publish", {"caption": "x" * 2200}, headers=HTMX)

    draft.refresh_from_db()
    assert draft.status == "published"
    assert len(draft.caption) == 2200


@pytest.mark.parametrize("status", ["pending", "processing", "failed", "published"])
def test_only_a_draft_can_be_published(alice_client, alice, make_creation, status):
    creation = make_creation(owner=alice, status=status, caption="first")

    response = alice_client.post(
        f"/creations/{creation.id}/publish", {"caption": "second"}, headers=HTMX
    )

    assert response.status_code == 409
    assert "Only a finished draft can be published." in response.content.decode()
    creation.refresh_from_db()
    assert creation.status == status
    assert creation.caption == ("first" if status == "published" else "")


def test_captions_are_escaped_in_the_feed(alice_client, alice, make_creation):
    make_creation(owner=alice, status="published", caption="<img src=x onerror=alert(1)>")

    html = alice_client.get("/").content.decode()

    assert "<img src=x onerror" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize("status", ["draft", "failed", "canceled", "published"])
def test_deleting_with_htmx_moves_it_to_the_trash_with_an_undo_and_keeps_the_files(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks, status
):
    creation = make_creation(owner=alice, status="pending" if status == "canceled" else status)
    if status == "canceled":
        services.creation_cancel(creation=creation)
    files = [name for name in (creation.media.name, creation.poster.name) if name]
    slot = f"{'post' if status == 'published' else 'creation'}-{creation.id}"

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            f"/creations/{creation.id}/delete", headers={**HTMX, "HX-Target": slot}
        )

    html = response.content.decode()
    assert response.status_code == 200
    # The card leaves an empty slot of its own id, for Undo to fill again.
    assert f'<div id="{slot}" class="slot" hidden></div>' in html
    assert "Moved to the trash." in html
    assert f'hx-post="/creations/{creation.id}/restore"' in html
    assert f'data-undo-slot="{slot}"' in html
    assert "toast--undo" in html
    creation.refresh_from_db()
    assert creation.status == status  # trash is not a status
    assert creation.trashed_at is not None
    assert all(default_storage.exists(name) for name in files)
    drafts = alice_client.get("/soho/alice?tab=drafts").content.decode()
    trash = alice_client.get("/soho/alice?tab=trash").content.decode()
    assert f'id="creation-{creation.id}"' not in drafts
    assert f'id="creation-{creation.id}"' in trash


def test_a_deleted_post_leaves_the_feed_at_once(alice_client, alice, make_creation):
    post = make_creation(owner=alice, status="published", caption="soon gone")
    assert "soon gone" in Client().get("/").content.decode()

    alice_client.post(f"/creations/{post.id}/delete", headers=HTMX)

    assert "soon gone" not in Client().get("/").content.decode()
    assert "soon gone" not in Client().get("/soho/alice").content.decode()


def test_deleting_without_javascript_redirects_with_an_undo_button(
    alice_client, alice, make_creation
):
    draft = make_creation(owner=alice, status="draft")

    confirm = alice_client.get(f"/creations/{draft.id}/delete")
    assert confirm.status_code == 200
    assert "Delete this image?" in confirm.content.decode()
    draft.refresh_from_db()
    assert draft.trashed_at is None

    response = alice_client.post(f"/creations/{draft.id}/delete", follow=True)

    assert response.redirect_chain == [("/soho/alice?tab=drafts", 302)]
    html = response.content.decode()
    assert "Moved to the trash." in html
    # The message carries a real form: Undo works without JavaScript too.
    assert f'<form method="post" action="/creations/{draft.id}/restore"' in html
    assert '<input type="hidden" name="undo" value="1">' in html
    draft.refresh_from_db()
    assert draft.trashed_at is not None

    undone = alice_client.post(
        f"/creations/{draft.id}/restore", {"undo": "1", "back": "drafts"}, follow=True
    )

    assert undone.redirect_chain == [("/soho/alice?tab=drafts", 302)]
    assert "Restored." in undone.content.decode()
    assert f'id="creation-{draft.id}"' in undone.content.decode()
    draft.refresh_from_db()
    assert (draft.status, draft.trashed_at) == ("draft", None)


@pytest.mark.parametrize("status", ["pending", "processing"])
def test_an_unfinished_creation_cannot_be_deleted_and_the_page_says_so(
    alice_client, alice, make_creation, status
):
    creation = make_creation(owner=alice, status=status)
    message = "A creation still generating cannot be moved to the trash; cancel it."

    confirm = alice_client.get(f"/creations/{creation.id}/delete").content.decode()
    with_htmx = alice_client.post(f"/creations/{creation.id}/delete", headers=HTMX)
    without = alice_client.post(f"/creations/{creation.id}/delete", follow=True)

    assert "This creation is still being generated: cancel it instead" in confirm
    assert "<button" not in confirm.split('class="narrow panel"')[1].split("</main>")[0]
    assert with_htmx.status_code == 409
    assert message in with_htmx.content.decode()
    assert f'id="creation-{creation.id}"' in with_htmx.content.decode()
    assert message in without.content.decode()
    assert Creation.objects.filter(pk=creation.pk, status=status, trashed_at=None).exists()


def test_deleting_what_is_already_in_the_trash_is_refused(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")
    services.creation_trash(creation=draft)
    trashed_at = Creation.objects.get(pk=draft.pk).trashed_at

    response = alice_client.post(f"/creations/{draft.id}/delete", headers=HTMX)

    assert response.status_code == 409
    assert Creation.objects.get(pk=draft.pk).trashed_at == trashed_at
