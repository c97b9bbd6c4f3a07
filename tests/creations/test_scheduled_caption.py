"""A scheduled post's caption is set and edited on its card in the drafts tab."""

from datetime import timedelta

from django.utils import timezone

from creations import services

HTMX = {"HX-Request": "true"}


def test_a_scheduled_card_sets_and_edits_its_caption(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")
    services.creation_publish(creation=draft, publish_at=timezone.now() + timedelta(days=1))
    page = alice_client.get("/soho/alice?tab=drafts").content.decode()
    assert f'id="scheduled-caption-{draft.id}"' in page
    assert "Add a caption" in page

    response = alice_client.post(
        f"/creations/{draft.id}/caption",
        {"caption": "Out tomorrow", "back": "drafts"},
        headers={**HTMX, "HX-Target": f"creation-{draft.id}"},
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="creation-{draft.id}"' in body  # the card again, not a post
    assert "Out tomorrow" in body and "Caption saved." in body
    draft.refresh_from_db()
    assert (draft.status, draft.caption) == ("scheduled", "Out tomorrow")


def test_a_too_long_caption_keeps_the_words_on_the_card(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")
    services.creation_publish(creation=draft, publish_at=timezone.now() + timedelta(days=1))

    response = alice_client.post(
        f"/creations/{draft.id}/caption",
        {"caption": "x" * 2201},
        headers={**HTMX, "HX-Target": f"creation-{draft.id}"},
    )

    assert response.status_code in (400, 422)
    body = response.content.decode()
    assert f'id="scheduled-caption-{draft.id}"' in body and 'role="alert"' in body
    draft.refresh_from_db()
    assert draft.caption == ""
