"""The sharing matrix: every URL of a shared draft, asked by its owner, by the creator it is
shared with, by someone holding a still-valid link, by someone it is not shared with, by
someone whose link was revoked, by someone whose link expired, and by an anonymous visitor.

The owner and the people it is shared with get what they should; everyone else gets the
very answer an unknown id gets (same status, same body), and nothing changes.
"""

import json
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from profiles.services import creator_signup
from sharing import services as sharing
from sharing.models import Share
from tests.pages import same_page_text

from .conftest import database_fingerprint

JSON = "application/json"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(alice, bob, make_creation, django_capture_on_commit_callbacks):
    """alice's video draft shared with bob by name; erin opened a link that still stands;
    carol opened a link since revoked; dave one since expired; eve has nothing."""
    users = {
        name: creator_signup(username=name, password=f"{name}-password-123")
        for name in ("carol", "dave", "eve", "erin")
    }
    draft = make_creation(owner=alice, status="draft", kind="video", prompt="shared sketch")
    with django_capture_on_commit_callbacks(execute=True):
        by_name = sharing.share_with_person(creation=draft, owner=alice, username="bob")
    valid = sharing.share_link_create(creation=draft)
    revoked = sharing.share_link_create(creation=draft)
    expired = sharing.share_link_create(
        creation=draft, expires_at=timezone.now() + timedelta(hours=1)
    )
    for name, link in (("erin", valid), ("carol", revoked), ("dave", expired)):
        assert signed_in(users[name]).get(f"/s/{link.token}").status_code == 302
    sharing.share_revoke(share=revoked.share)
    Share.objects.filter(pk=expired.share.pk).update(expires_at=timezone.now() - timedelta(1))
    comment = sharing.comment_post(creation=draft, author=alice, text="first note")
    return {
        "draft": draft,
        "share": by_name,
        "comment": comment,
        "tokens": {"valid": valid.token, "revoked": revoked.token, "expired": expired.token},
        "clients": {
            "owner": signed_in(alice),
            "shared with": signed_in(bob),
            "valid link": signed_in(users["erin"]),
            "not shared": signed_in(users["eve"]),
            "revoked link": signed_in(users["carol"]),
            "expired link": signed_in(users["dave"]),
            "anonymous": Client(),
        },
    }


def requests_of(world) -> list[tuple[str, str, str, object]]:
    """(method, URL pattern, what it is, body) for every URL of the shared draft, with
    {c} the creation, {s} the share, {m} a comment of the owner's."""
    return [
        ("get", "/creations/{c}/card", "card", None),
        ("get", "/media/creations/{c}/media", "media", None),
        ("get", "/media/creations/{c}/poster", "poster", None),
        ("get", "/creations/{c}/shared", "shared page", None),
        ("get", "/creations/{c}/comments", "thread", None),
        ("post", "/creations/{c}/comments", "comment form", {"text": "hello"}),
        ("post", "/creations/{c}/comments/{m}/delete", "delete a comment", None),
        ("get", "/api/creations/{c}/comments", "API thread", None),
        ("post", "/api/creations/{c}/comments", "API comment", {"text": "hello"}),
        ("delete", "/api/creations/{c}/comments/{m}", "API delete a comment", None),
        ("get", "/api/creations/{c}/shares", "API shares", None),
        ("post", "/api/creations/{c}/shares", "API share", {"username": "eve"}),
        ("delete", "/api/creations/{c}/shares/{s}", "API revoke", None),
        ("get", "/creations/{c}/sharing", "share panel", None),
        ("post", "/creations/{c}/sharing", "share panel form", {"username": "eve"}),
        ("post", "/creations/{c}/sharing/{s}/revoke", "revoke", None),
    ]


def ask(client: Client, method: str, url: str, body, *, as_json: bool):
    if body is None:
        return getattr(client, method)(url)
    if as_json:
        return getattr(client, method)(url, json.dumps(body), content_type=JSON)
    return getattr(client, method)(url, body)


def fill(pattern: str, c, s, m) -> str:
    return pattern.format(c=c, s=s, m=m)


# What the owner and the people a share reaches get (reads; the writes are checked after).
EXPECTED = {
    "owner": {
        "card": 200,
        "media": 200,
        "poster": 200,
        "shared page": 200,
        "thread": 200,
        "API thread": 200,
        "API shares": 200,
        "share panel": 200,
    },
    "shared with": {
        "media": 200,
        "poster": 200,
        "shared page": 200,
        "thread": 200,
        "API thread": 200,
    },
    "valid link": {
        "media": 200,
        "poster": 200,
        "shared page": 200,
        "thread": 200,
        "API thread": 200,
    },
}
OUTSIDERS = ("not shared", "revoked link", "expired link")


def test_everyone_else_gets_what_an_unknown_id_gets_and_changes_nothing(world, figure):
    draft, share, comment = world["draft"], world["share"], world["comment"]
    clients = world["clients"]
    before = database_fingerprint()
    asked = 0
    for method, pattern, what, body in requests_of(world):
        as_json = pattern.startswith("/api/")
        real = fill(pattern, draft.id, share.id, comment.id)
        unknown_draft = fill(pattern, uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
        # For the people it is shared with, what is not theirs (the owner's comment, the
        # shares) answers as an unknown comment or share of the same draft does.
        unknown_object = fill(pattern, draft.id, uuid.uuid4(), uuid.uuid4())
        for who in (*OUTSIDERS, "anonymous", "shared with", "valid link"):
            insider = who in EXPECTED
            if what in EXPECTED.get(who, {}) or (
                insider and what in ("comment form", "API comment")
            ):
                continue  # theirs: checked by the next test
            mine = "{m}" in pattern or "{s}" in pattern
            unknown = unknown_object if insider and mine else unknown_draft
            client = clients[who]
            got = ask(client, method, real, body, as_json=as_json)
            control = ask(client, method, unknown, body, as_json=as_json)
            asked += 1
            assert got.status_code == control.status_code, (who, method, real, got.status_code)
            assert same_page_text(got, path=real) == same_page_text(control, path=unknown), (
                who,
                method,
                real,
            )
            if who == "anonymous":
                assert got.status_code in (302, 401, 404), (method, real)
                if got.status_code == 302:
                    assert got["Location"].startswith("/accounts/login/")
            else:
                assert got.status_code == 404, (who, method, real, got.status_code)
            assert database_fingerprint() == before, (who, method, real)
    figure(f"sharing matrix: {asked} requests by outsiders answered as an unknown id, 0 changes")


def test_the_owner_and_the_people_it_is_shared_with_get_what_they_should(world):
    draft, share, comment = world["draft"], world["share"], world["comment"]
    clients = world["clients"]
    for who, expected in EXPECTED.items():
        for method, pattern, what, body in requests_of(world):
            if what not in expected:
                continue
            url = fill(pattern, draft.id, share.id, comment.id)
            response = ask(clients[who], method, url, body, as_json=url.startswith("/api/"))
            assert response.status_code == expected[what], (who, what, response.status_code)
    # The people it is shared with comment, and delete only their own.
    for who in ("shared with", "valid link"):
        client = clients[who]
        posted = client.post(
            f"/api/creations/{draft.id}/comments", json.dumps({"text": "mine"}), content_type=JSON
        )
        assert posted.status_code == 201
        assert client.post(f"/creations/{draft.id}/comments", {"text": "form"}).status_code == 302
        own = posted.json()["comment_id"]
        assert client.delete(f"/api/creations/{draft.id}/comments/{own}").status_code == 204
        assert client.delete(f"/api/creations/{draft.id}/comments/{comment.id}").status_code == 404
    # The owner's writes: any comment, the shares.
    owner = clients["owner"]
    assert owner.delete(f"/api/creations/{draft.id}/comments/{comment.id}").status_code == 204
    assert owner.post(f"/creations/{draft.id}/sharing", {"username": "eve"}).status_code == 302
    assert owner.delete(f"/api/creations/{draft.id}/shares/{share.id}").status_code == 204
    assert clients["shared with"].get(f"/creations/{draft.id}/shared").status_code == 404
    assert clients["not shared"].get(f"/creations/{draft.id}/shared").status_code == 200


@pytest.mark.parametrize("kind", ["revoked", "expired"])
def test_a_revoked_or_expired_link_opens_nothing_for_anyone(kind, world):
    token = world["tokens"][kind]
    before = database_fingerprint()
    unknown = "U" * len(token)
    for who, client in world["clients"].items():
        got, control = client.get(f"/s/{token}"), client.get(f"/s/{unknown}")
        assert got.status_code == control.status_code, who
        assert same_page_text(got, path=f"/s/{token}") == same_page_text(
            control, path=f"/s/{unknown}"
        ), who
        assert got.status_code == (302 if who == "anonymous" else 404), who
    assert database_fingerprint() == before


def test_a_valid_link_lets_in_whoever_holds_it_once_signed_in(world):
    draft, token = world["draft"], world["tokens"]["valid"]
    clients = world["clients"]
    anonymous = clients["anonymous"].get(f"/s/{token}")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    for who in ("owner", "shared with", "valid link", "not shared"):
        response = clients[who].get(f"/s/{token}")
        assert response.status_code == 302, who
        assert response["Location"] == f"/creations/{draft.id}/shared"
    # "not shared" held the link: from now on it reaches them, until it is revoked.
    assert clients["not shared"].get(f"/media/creations/{draft.id}/media").status_code == 200
