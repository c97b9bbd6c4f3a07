"""The JSON API of sharing: status codes and bodies."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from sharing import services
from sharing.models import Comment, LinkOpening, Share, hash_token

from .conftest import client_for, post_json

NOT_FOUND = {"error": "not_found", "message": "No such creation."}


def shares_url(creation) -> str:
    return f"/api/creations/{creation.id}/shares"


def comments_url(creation) -> str:
    return f"/api/creations/{creation.id}/comments"


def test_sharing_by_name_answers_201_with_the_share(draft, alice, bob):
    response = post_json(client_for(alice), shares_url(draft), {"username": "bob"})
    assert response.status_code == 201
    body = response.json()
    share = Share.objects.get()
    assert body["share_id"] == str(share.id)
    assert (body["kind"], body["username"], body["active"]) == ("person", "bob", True)
    assert body["revoked_at"] is None and "url" not in body


def test_a_link_answers_201_with_its_url_once(draft, alice, carol):
    expires = (timezone.now() + timedelta(days=2)).astimezone(UTC).isoformat()
    owner = client_for(alice)
    response = post_json(owner, shares_url(draft), {"link": True, "expires_at": expires})
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "link" and body["url"].startswith("http://testserver/s/")
    token = body["url"].rsplit("/", 1)[1]
    assert Share.objects.get().token_hash == hash_token(token)
    assert datetime.fromisoformat(body["expires_at"]) == datetime.fromisoformat(expires)
    # The list never shows the URL again, but who opened it.
    client_for(carol).get(f"/s/{token}")
    listed = owner.get(shares_url(draft)).json()["shares"]
    assert listed == [{**body, "url": None, "opened_by": ["carol"]}]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"username": "nobody"}, 422, "unknown_user"),
        ({"username": "alice"}, 422, "own_draft"),
        ({"username": 3}, 400, "username_required"),
        ({}, 400, "username_or_link"),
        ({"username": "bob", "link": True}, 400, "username_or_link"),
        ({"link": "yes"}, 400, "invalid_link"),
        ({"link": True, "expires_at": "tomorrow"}, 400, "invalid_expires_at"),
        ({"link": True, "expires_at": "2020-01-01T00:00:00+00:00"}, 400, "invalid_expires_at"),
        ({"link": True, "expires_at": "2099-01-01T00:00:00"}, 400, "invalid_expires_at"),
        ({"username": "bob", "expires_at": "2099-01-01T00:00:00Z"}, 400, "field_not_allowed"),
        ({"username": "bob", "role": "editor"}, 400, "unknown_field"),
        ([1, 2], 400, "malformed_request"),
    ],
)
def test_a_bad_share_request_is_refused_with_a_reason_and_changes_nothing(
    body, status, code, draft, alice, bob
):
    response = post_json(client_for(alice), shares_url(draft), body)
    assert response.status_code == status
    assert response.json()["error"] == code
    assert response.json()["message"]
    assert not Share.objects.exists()


def test_a_duplicate_share_is_refused(shared_with_bob, draft, alice):
    response = post_json(client_for(alice), shares_url(draft), {"username": "bob"})
    assert response.status_code == 422
    assert response.json() == {
        "error": "already_shared",
        "message": "This draft is already shared with bob.",
    }


def test_a_published_creation_cannot_be_shared(alice, bob, make_creation):
    post = make_creation(owner=alice, status="published")
    response = post_json(client_for(alice), shares_url(post), {"username": "bob"})
    assert response.status_code == 409
    assert response.json()["error"] == "not_shareable"


def test_malformed_json_is_a_400(draft, alice):
    response = client_for(alice).post(shares_url(draft), "{", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"


def test_revoking_answers_204_and_ends_access_at_once(shared_with_bob, draft, alice, bob):
    viewer = client_for(bob)
    assert viewer.get(comments_url(draft)).status_code == 200
    url = f"{shares_url(draft)}/{shared_with_bob.id}"
    response = client_for(alice).delete(url)
    assert response.status_code == 204 and response.content == b""
    assert viewer.get(comments_url(draft)).json() == NOT_FOUND
    assert client_for(alice).delete(url).status_code == 204  # already ended: still gone
    unknown = client_for(alice).delete(f"{shares_url(draft)}/{uuid.uuid4()}")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"


def test_not_the_owner_gets_the_same_404_as_an_unknown_id(shared_with_bob, draft, bob, carol):
    unknown = f"/api/creations/{uuid.uuid4()}/shares"
    for client in (client_for(bob), client_for(carol)):
        for response in (
            client.get(shares_url(draft)),
            post_json(client, shares_url(draft), {"username": "carol"}),
            client.delete(f"{shares_url(draft)}/{shared_with_bob.id}"),
            client.get(unknown),
        ):
            assert response.status_code == 404
            assert response.json() == NOT_FOUND
    assert Share.objects.filter(revoked_at__isnull=True).count() == 1


def test_anonymous_gets_401_json(draft):
    for response in (
        client_for().get(shares_url(draft)),
        post_json(client_for(), comments_url(draft), {"text": "hi"}),
        client_for().get(comments_url(draft)),
    ):
        assert response.status_code == 401
        assert response.json()["error"] == "authentication_required"


def test_comments_through_the_api(shared_with_bob, draft, alice, bob, carol):
    viewer = client_for(bob)
    created = post_json(viewer, comments_url(draft), {"text": "  Nice\r\nwork  "})
    assert created.status_code == 201
    body = created.json()
    assert (body["author"], body["text"], body["deleted"], body["can_delete"]) == (
        "bob",
        "Nice\nwork",
        False,
        True,
    )
    post_json(client_for(alice), comments_url(draft), {"text": "Thank you"})

    listed = viewer.get(comments_url(draft)).json()["comments"]
    assert [(c["author"], c["can_delete"]) for c in listed] == [("bob", True), ("alice", False)]
    owner_view = client_for(alice).get(comments_url(draft)).json()["comments"]
    assert [c["can_delete"] for c in owner_view] == [True, True]

    alices = listed[1]["comment_id"]
    refused = viewer.delete(f"{comments_url(draft)}/{alices}")
    assert refused.status_code == 404
    assert refused.json() == {"error": "not_found", "message": "No such comment."}
    assert viewer.delete(f"{comments_url(draft)}/{body['comment_id']}").status_code == 204
    assert client_for(alice).delete(f"{comments_url(draft)}/{alices}").status_code == 204
    after = viewer.get(comments_url(draft)).json()["comments"]
    assert [(c["deleted"], c["text"]) for c in after] == [(True, ""), (True, "")]
    # Someone it is not shared with: as for an unknown creation.
    for response in (
        client_for(carol).get(comments_url(draft)),
        post_json(client_for(carol), comments_url(draft), {"text": "hi"}),
        client_for(carol).delete(f"{comments_url(draft)}/{alices}"),
    ):
        assert response.status_code == 404 and response.json() == NOT_FOUND


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "text_required"),
        ({"text": ""}, 422, "text_required"),
        ({"text": 5}, 400, "invalid_text"),
        ({"text": "x" * 1001}, 422, "text_too_long"),
        ({"text": "a\x00b"}, 422, "invalid_text"),
        ({"text": "hi", "html": True}, 400, "unknown_field"),
    ],
)
def test_a_bad_comment_is_refused(body, status, code, shared_with_bob, draft, bob):
    response = post_json(client_for(bob), comments_url(draft), body)
    assert (response.status_code, response.json()["error"]) == (status, code)
    assert not Comment.objects.exists()


def test_a_link_opener_comments_until_the_link_is_revoked(draft, alice, carol):
    new = services.share_link_create(creation=draft)
    viewer = client_for(carol)
    assert viewer.get(comments_url(draft)).status_code == 404
    viewer.get(f"/s/{new.token}")
    assert post_json(viewer, comments_url(draft), {"text": "via link"}).status_code == 201
    client_for(alice).delete(f"{shares_url(draft)}/{new.share.id}")
    assert post_json(viewer, comments_url(draft), {"text": "again"}).status_code == 404
    assert LinkOpening.objects.filter(user=carol).exists()  # the record stays; access does not
    assert json.loads(viewer.get(comments_url(draft)).content) == NOT_FOUND
