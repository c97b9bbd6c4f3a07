"""Every per-creation URL answers 404 to anyone but the owner, and every POST needs CSRF."""

import re

import pytest
from django.test import Client

from creations.models import Creation

from .lifecycle import in_state

HTMX = {"HX-Request": "true"}


def per_creation_requests(creation: Creation) -> list[tuple[str, str]]:
    base = f"/creations/{creation.id}"
    return [
        ("get", f"{base}/card"),
        ("post", f"{base}/publish"),
        ("get", f"{base}/delete"),
        ("post", f"{base}/delete"),
        ("get", f"{base}/cancel"),
        ("post", f"{base}/cancel"),
        ("post", f"{base}/restore"),
        ("get", f"{base}/purge"),
        ("post", f"{base}/purge"),
        ("post", f"{base}/unschedule"),
        ("post", f"{base}/unpublish"),
        ("post", f"{base}/caption"),
        ("get", f"/media/creations/{creation.id}/media"),
        ("get", f"/media/creations/{creation.id}/poster"),
    ]


STATES = [
    "pending",
    "processing",
    "draft",
    "failed",
    "canceled",
    "scheduled",
    "trashed-draft",
    "trashed-published",
    "taken_down",
]


def fingerprint(creation: Creation) -> tuple:
    row = Creation.objects.get(pk=creation.pk)
    return (row.status, row.caption, row.trashed_at, row.purged_at, row.publish_at, row.media.name)


@pytest.mark.parametrize("status", STATES)
@pytest.mark.parametrize("as_htmx", [False, True])
def test_another_creator_gets_404_for_every_url_of_a_creation(
    client, alice, bob, make_creation, status, as_htmx
):
    creation = in_state(make_creation, owner=alice, state=status, kind="video")
    before = fingerprint(creation)
    client.force_login(bob)

    for method, url in per_creation_requests(creation):
        data = {"caption": "mine now"} if url.endswith(("publish", "caption")) else {}
        response = getattr(client, method)(url, data, headers=HTMX if as_htmx else {})
        assert response.status_code == 404, (method, url)

    assert fingerprint(creation) == before


@pytest.mark.parametrize("status", STATES)
def test_an_anonymous_visitor_gets_404_for_every_url_of_a_creation(
    client, alice, make_creation, status
):
    creation = in_state(make_creation, owner=alice, state=status, kind="video")
    before = fingerprint(creation)

    for method, url in per_creation_requests(creation):
        assert getattr(client, method)(url).status_code == 404, (method, url)

    assert fingerprint(creation) == before


def test_published_media_is_public_but_its_card_publish_and_delete_are_not(
    client, alice, bob, make_creation
):
    creation = make_creation(owner=alice, status="published", kind="video", caption="hi")
    client.force_login(bob)

    assert client.get(f"/media/creations/{creation.id}/media").status_code == 200
    assert client.get(f"/media/creations/{creation.id}/poster").status_code == 200
    assert client.get(f"/p/{creation.id}").status_code == 200
    assert client.get(f"/creations/{creation.id}/card").status_code == 404
    for action in ("delete", "unpublish", "caption"):
        assert client.post(f"/creations/{creation.id}/{action}").status_code == 404
    creation.refresh_from_db()
    assert (creation.status, creation.trashed_at, creation.caption) == ("published", None, "hi")


def test_an_unknown_creation_is_404_for_its_owner_too(alice_client):
    missing = "00000000-0000-4000-8000-000000000000"
    assert alice_client.get(f"/creations/{missing}/card").status_code == 404
    assert alice_client.post(f"/creations/{missing}/publish").status_code == 404
    assert alice_client.post(f"/creations/{missing}/delete").status_code == 404
    for action in ("cancel", "restore", "purge", "unschedule", "unpublish", "caption"):
        assert alice_client.post(f"/creations/{missing}/{action}").status_code == 404
    assert alice_client.get(f"/p/{missing}").status_code == 404


@pytest.fixture
def csrf_client(alice) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    return client


def test_posts_without_a_csrf_token_are_refused(csrf_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")
    failed = make_creation(owner=alice, status="failed")

    refused = [
        csrf_client.post(f"/creations/{draft.id}/publish", {"caption": "x"}, headers=HTMX),
        csrf_client.post(f"/creations/{draft.id}/delete", headers=HTMX),
        csrf_client.post(f"/creations/{failed.id}/delete"),
        csrf_client.post(f"/creations/{failed.id}/cancel"),
        csrf_client.post(
            "/creations/bulk", {"tab": "drafts", "action": "trash", "ids": [str(draft.id)]}
        ),
        csrf_client.post("/create", {"type": "image", "prompt": "a fox"}),
        csrf_client.post(
            "/api/generate/creation", {"type": "image", "prompt": "a fox"}, headers=HTMX
        ),
    ]

    assert [response.status_code for response in refused] == [403] * 7
    draft.refresh_from_db()
    assert (draft.status, draft.trashed_at) == ("draft", None)
    assert Creation.objects.get(pk=failed.pk).trashed_at is None
    assert Creation.objects.count() == 2


def test_the_token_the_page_gives_htmx_is_accepted(csrf_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")
    page = csrf_client.get("/soho/alice?tab=drafts").content.decode()
    token = re.search(r"hx-headers='\{\"x-csrftoken\": \"([^\"]+)\"\}'", page).group(1)

    response = csrf_client.post(
        f"/creations/{draft.id}/publish",
        {"caption": "with the page's token"},
        headers={**HTMX, "X-CSRFToken": token},
    )

    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.status == "published"
