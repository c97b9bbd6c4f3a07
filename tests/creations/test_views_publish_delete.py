"""Publishing a draft with a caption, and deleting a creation with its files."""

import pytest
from django.core.files.storage import default_storage

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


@pytest.mark.parametrize("status", ["draft", "failed"])
def test_deleting_with_htmx_removes_the_card_the_row_and_the_files(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks, status
):
    creation = make_creation(owner=alice, status=status, kind="video")
    files = [name for name in (creation.media.name, creation.poster.name) if name]

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(f"/creations/{creation.id}/delete", headers=HTMX)

    assert response.status_code == 200
    assert f"creation-{creation.id}" not in response.content.decode()
    assert "Deleted." in response.content.decode()
    assert not Creation.objects.filter(pk=creation.pk).exists()
    assert len(files) == (2 if status == "draft" else 0)
    assert not any(default_storage.exists(name) for name in files)


def test_deleting_without_javascript_asks_first_then_deletes(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")

    confirm = alice_client.get(f"/creations/{draft.id}/delete")
    assert confirm.status_code == 200
    assert "Delete this image?" in confirm.content.decode()
    assert Creation.objects.filter(pk=draft.pk).exists()

    response = alice_client.post(f"/creations/{draft.id}/delete", follow=True)

    assert response.redirect_chain == [("/soho/alice?tab=drafts", 302)]
    assert "Deleted." in response.content.decode()
    assert not Creation.objects.filter(pk=draft.pk).exists()


@pytest.mark.parametrize("status", ["pending", "processing"])
def test_an_unfinished_creation_cannot_be_deleted_and_the_page_says_so(
    alice_client, alice, make_creation, status
):
    creation = make_creation(owner=alice, status=status)
    message = "This creation is still being generated. It can be deleted once it finishes or fails."

    confirm = alice_client.get(f"/creations/{creation.id}/delete").content.decode()
    with_htmx = alice_client.post(f"/creations/{creation.id}/delete", headers=HTMX)
    without = alice_client.post(f"/creations/{creation.id}/delete", follow=True)

    assert message in confirm
    assert "<button" not in confirm.split('class="narrow panel"')[1]
    assert with_htmx.status_code == 409
    assert message in with_htmx.content.decode()
    assert f'id="creation-{creation.id}"' in with_htmx.content.decode()
    assert message in without.content.decode()
    assert Creation.objects.filter(pk=creation.pk, status=status).exists()
