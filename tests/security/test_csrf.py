"""CSRF is enforced on every state-changing request to every URL of the project."""

import json

import pytest
from django.test import Client

from .conftest import database_fingerprint, project_routes

STATE_CHANGING = ["post", "put", "patch", "delete"]
# Views that may take a state-changing request without a CSRF token, with the reason.
CSRF_EXEMPT = {
    "stripe_webhook": (
        "Stripe's server calls it, not a browser: each request is authenticated by its "
        "Stripe-Signature over the raw body instead (tests/tokens/test_checkout.py checks a "
        "missing, forged and wrongly keyed signature change nothing)"
    ),
}
FILL = {
    "creation_id": None,
    "which": "media",
    "username": "alice",
    "uidb64": "MQ",
    "token": "x",
    "share_id": "00000000-0000-0000-0000-000000000001",
    "comment_id": "00000000-0000-0000-0000-000000000002",
    "post_comment_id": "00000000-0000-0000-0000-000000000007",
    "notification_id": "00000000-0000-0000-0000-000000000003",
    "export_id": "00000000-0000-0000-0000-000000000004",
    "purchase_id": "00000000-0000-0000-0000-000000000005",
    "batch_id": "00000000-0000-0000-0000-000000000006",
    "endpoint_id": "00000000-0000-0000-0000-000000000007",
    "delivery_id": "00000000-0000-0000-0000-000000000008",
    "board_id": "00000000-0000-0000-0000-000000000009",
    "link_id": "00000000-0000-0000-0000-00000000000a",
    "key_id": "00000000-0000-0000-0000-00000000000b",
    "action_id": "00000000-0000-0000-0000-000000000007",
}


def csrf_client(user=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("route", project_routes(), ids=lambda route: "/" + route.route)
def test_a_state_changing_request_without_a_csrf_token_is_refused(route, alice, make_creation):
    if route.name in CSRF_EXEMPT:
        pytest.skip(CSRF_EXEMPT[route.name])
    draft = make_creation(owner=alice, status="draft")
    url = route.fill({**FILL, "creation_id": draft.id})
    client = csrf_client(alice)
    before = database_fingerprint()
    for method in STATE_CHANGING:
        response = getattr(client, method)(
            url, json.dumps({"type": "image", "prompt": "x"}), content_type="application/json"
        )
        assert response.status_code == 403, (method, url, response.status_code)
        assert b"CSRF" in response.content, (method, url)
        assert database_fingerprint() == before


def test_with_its_token_the_same_request_goes_through(alice, make_creation):
    """The control: the refusals above are CSRF's, not something else's."""
    draft = make_creation(owner=alice, status="draft")
    client = csrf_client(alice)
    client.get("/create")
    token = client.cookies["csrftoken"].value
    without = client.post(f"/creations/{draft.id}/publish", {"caption": "hi"})
    with_token = client.post(
        f"/creations/{draft.id}/publish", {"caption": "hi"}, headers={"X-CSRFToken": token}
    )
    assert without.status_code == 403
    assert with_token.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "published"


def test_the_admin_refuses_posts_without_a_token(staff):
    client = csrf_client(staff)
    before = database_fingerprint()
    for url in ("/admin/login/", "/admin/creations/creation/", "/admin/tokens/tokenaccount/"):
        assert client.post(url, {"action": "fail_and_refund"}).status_code == 403, url
    assert database_fingerprint() == before
