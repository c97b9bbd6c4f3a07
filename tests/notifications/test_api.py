"""GET /api/notifications and POST /api/notifications/read: bodies and status codes."""

import json
import uuid

import pytest
from django.test import Client

from notifications.selectors import PAGE_SIZE

from .conftest import comment_notifications, unread_of


@pytest.fixture
def many(alice, bob, make_creation):
    """PAGE_SIZE + 3 notifications of bob's comments on alice's draft, a minute apart, the
    newest first."""
    draft = make_creation(owner=alice, status="draft")
    return comment_notifications(
        draft=draft, author=bob, words=[f"Comment {n}" for n in range(PAGE_SIZE + 3)]
    )


def said(n: int) -> str:
    return f"bob commented on your draft: “Comment {n}”"


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_the_list_is_newest_first_with_the_unread_count_and_a_next_page(alice_client, many):
    response = alice_client.get("/api/notifications")

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert body["unread"] == PAGE_SIZE + 3
    assert [n["text"] for n in body["notifications"]] == [said(n) for n in range(PAGE_SIZE)]
    first = body["notifications"][0]
    assert first == {
        "id": str(many[0].pk),
        "kind": "comment",
        "text": said(0),
        "creation_id": str(many[0].creation_id),
        "comment_id": str(many[0].comment_id),
        "created_at": many[0].created_at.isoformat(),
        "read": False,
        "read_at": None,
        "open_url": f"/notifications/{many[0].pk}/open",
    }

    rest = alice_client.get(body["next"]).json()
    assert [n["text"] for n in rest["notifications"]] == [
        said(n) for n in range(PAGE_SIZE, PAGE_SIZE + 3)
    ]
    assert rest["next"] is None


def test_a_bad_cursor_is_a_400_with_a_reason(alice_client, many):
    response = alice_client.get("/api/notifications?before=yesterday")
    assert response.status_code == 400
    assert response.json() == {
        "error": "bad_cursor",
        "message": "The 'before' value is not one this API gave.",
    }


def test_an_empty_list(alice_client):
    assert alice_client.get("/api/notifications").json() == {
        "notifications": [],
        "unread": 0,
        "next": None,
    }


def test_marking_some_read_answers_the_new_count(alice_client, alice, many):
    ids = [str(many[0].pk), str(many[1].pk), str(uuid.uuid4())]  # one unknown: matches nothing

    response = post_json(alice_client, "/api/notifications/read", {"ids": ids})

    assert response.status_code == 200
    assert response.json() == {"marked": 2, "unread": PAGE_SIZE + 1}
    assert unread_of(alice) == PAGE_SIZE + 1
    # Again: already read, nothing marked.
    again = post_json(alice_client, "/api/notifications/read", {"ids": ids})
    assert again.json() == {"marked": 0, "unread": PAGE_SIZE + 1}


def test_marking_all_read(alice_client, alice, many):
    response = post_json(alice_client, "/api/notifications/read", {"all": True})
    assert response.json() == {"marked": PAGE_SIZE + 3, "unread": 0}
    listed = alice_client.get("/api/notifications").json()
    assert listed["unread"] == 0
    assert all(n["read"] and n["read_at"] for n in listed["notifications"])


def test_someone_elses_ids_mark_nothing(client, alice, bob, many):
    client.force_login(bob)
    response = post_json(client, "/api/notifications/read", {"ids": [str(many[0].pk)]})
    assert response.json() == {"marked": 0, "unread": 0}
    assert post_json(client, "/api/notifications/read", {"all": True}).json()["marked"] == 0
    assert unread_of(alice) == PAGE_SIZE + 3
    assert client.get("/api/notifications").json()["notifications"] == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "ids_or_all"),
        ({"ids": ["x"], "all": True}, "ids_or_all"),
        ({"all": False}, "ids_or_all"),
        ({"all": "yes"}, "ids_or_all"),
        ({"ids": []}, "invalid_ids"),
        ({"ids": "everything"}, "invalid_ids"),
        ({"ids": ["not-a-uuid"]}, "invalid_ids"),
        ({"ids": [12]}, "invalid_ids"),
        ({"ids": [str(uuid.uuid4())] * 101}, "too_many_ids"),
        ({"id": "x"}, "unknown_field"),
        ([1, 2], "malformed_request"),
    ],
)
def test_a_bad_request_is_a_400_with_a_reason_and_changes_nothing(
    alice_client, alice, many, body, code
):
    response = post_json(alice_client, "/api/notifications/read", body)
    assert response.status_code == 400
    assert response.json()["error"] == code
    assert response.json()["message"]
    assert unread_of(alice) == PAGE_SIZE + 3


def test_malformed_json_is_a_400(alice_client, alice, many):
    response = alice_client.post(
        "/api/notifications/read", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"


def test_a_visitor_gets_401_json(client, db):
    for response in (
        client.get("/api/notifications"),
        post_json(client, "/api/notifications/read", {"all": True}),
    ):
        assert response.status_code == 401
        assert response.json() == {
            "error": "authentication_required",
            "message": "Log in to do this.",
        }


def test_wrong_methods_are_405(alice_client):
    assert alice_client.post("/api/notifications").status_code == 405
    assert alice_client.get("/api/notifications/read").status_code == 405


def test_marking_read_needs_the_csrf_token(alice, many):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    refused = post_json(client, "/api/notifications/read", {"all": True})
    assert refused.status_code == 403
    assert unread_of(alice) == PAGE_SIZE + 3
    client.get("/notifications")
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/notifications/read",
        json.dumps({"all": True}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code == 200
    assert unread_of(alice) == 0
