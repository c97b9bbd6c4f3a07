"""Every per-creation URL answers 404 to anyone but the owner, and every POST needs CSRF."""

import re

import pytest
from django.test import Client

from creations.models import Creation

HTMX = {"HX-Request": "true"}


def per_creation_requests(creation: Creation) -> list[tuple[str, str]]:
    base = f"/creations/{creation.id}"
    return [
        ("get", f"{base}/card"),
        ("post", f"{base}/publish"),
        ("get", f"{base}/delete"),
        ("post", f"{base}/delete"),
        ("get", f"/media/creations/{creation.id}/media"),
        ("get", f"/media/creations/{creation.id}/poster"),
    ]


@pytest.mark.parametrize("status", ["pending", "processing", "draft", "failed"])
@pytest.mark.parametrize("as_htmx", [False, True])
def test_another_creator_gets_404_for_every_url_of_a_creation(
    client, alice, bob, make_creation, status, as_htmx
):
    creation = make_creation(owner=alice, status=status, kind="video")
    client.force_login(bob)

    for method, url in per_creation_requests(creation):
        data = {"caption": "mine now"} if url.endswith("publish") else {}
        response = getattr(client, method)(url, data, headers=HTMX if as_htmx else {})
        assert response.status_code == 404, (method, url)

    creation.refresh_from_db()
    assert creation.status == status
    assert creation.caption == ""


@pytest.mark.parametrize("status", ["pending", "draft", "failed"])
def test_an_anonymous_visitor_gets_404_for_every_url_of_a_creation(
    client, alice, make_creation, status
):
    creation = make_creation(owner=alice, status=status, kind="video")

    for method, url in per_creation_requests(creation):
        assert getattr(client, method)(url).status_code == 404, (method, url)

    assert Creation.objects.filter(pk=creation.pk, status=status).exists()


def test_published_media_is_public_but_its_card_publish_and_delete_are_not(
    client, alice, bob, make_creation
):
    creation = make_creation(owner=alice, status="published", kind="video", caption="hi")
    client.force_login(bob)

    assert client.get(f"/media/creations/{creation.id}/media").status_code == 200
    assert client.get(f"/media/creations/{creation.id}/poster").status_code == 200
    assert client.get(f"/creations/{creation.id}/card").status_code == 404
    assert client.post(f"/creations/{creation.id}/delete").status_code == 404
    assert Creation.objects.filter(pk=creation.pk).exists()


def test_an_unknown_creation_is_404_for_its_owner_too(alice_client):
    missing = "00000000-0000-4000-8000-000000000000"
    assert alice_client.get(f"/creations/{missing}/card").status_code == 404
    assert alice_client.post(f"/creations/{missing}/publish").status_code == 404
    assert alice_client.post(f"/creations/{missing}/delete").status_code == 404


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
        csrf_client.post("/create", {"type": "image", "prompt": "a fox"}),
        csrf_client.post(
            "/api/generate/creation", {"type": "image", "prompt": "a fox"}, headers=HTMX
        ),
    ]

    assert [response.status_code for response in refused] == [403] * 5
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert Creation.objects.filter(pk=failed.pk).exists()
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
