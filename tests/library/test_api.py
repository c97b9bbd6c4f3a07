"""The library's JSON API: GET /api/creations, stars, boards and their items."""

import json

import pytest
from django.test import Client

from creations.models import Creation
from creations.presenters import creation_as_json
from library.models import Board, BoardItem


def post(client, url, body=None, method="post"):
    data = json.dumps(body or {})
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, data, content_type="application/json")


@pytest.fixture
def bob_client(bob):
    client = Client()
    client.force_login(bob)
    return client


def test_the_list_is_the_callers_own_newest_first_shaped_like_one_creation(
    alice_client, alice, bob, make_creation
):
    older = make_creation(owner=alice, prompt="older fox")
    newer = make_creation(owner=alice, prompt="newer fox", status="published")
    make_creation(owner=bob, prompt="bob's fox")

    body = alice_client.get("/api/creations", {"q": "fox"}).json()

    assert [item["creation_id"] for item in body["results"]] == [str(newer.id), str(older.id)]
    one = alice_client.get(f"/api/creations/{older.id}").json()
    assert body["results"][1].keys() == one.keys() == creation_as_json(older).keys()
    assert body["results"][1] == one
    assert body["next_cursor"] is None


def test_the_cursor_pages_through_everything_once(alice_client, alice, bulk_creations):
    made = bulk_creations(alice, 30)
    seen, cursor = [], None
    while True:
        params = {"cursor": cursor} if cursor else {}
        body = alice_client.get("/api/creations", params).json()
        seen += [item["creation_id"] for item in body["results"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(c.id) for c in reversed(made)]


def test_filters_by_type_status_star_and_board(alice_client, alice, make_creation):
    video = make_creation(owner=alice, kind="video")
    post_ = make_creation(owner=alice, status="published")
    starred = make_creation(owner=alice)
    assert post(alice_client, f"/api/creations/{starred.id}/star").status_code == 200
    board = post(alice_client, "/api/boards", {"name": "Best"}).json()
    post(alice_client, f"/api/boards/{board['id']}/items", {"creation_id": str(video.id)})

    def ids(**params):
        return [
            r["creation_id"] for r in alice_client.get("/api/creations", params).json()["results"]
        ]

    assert ids(type="video") == [str(video.id)]
    assert ids(status="published") == [str(post_.id)]
    assert ids(starred="1") == [str(starred.id)]
    assert ids(board=board["id"]) == [str(video.id)]


@pytest.mark.parametrize(
    "params, code",
    [
        ({"type": "gif"}, "invalid_type"),
        ({"status": "lost"}, "invalid_status"),
        ({"starred": "maybe"}, "invalid_starred"),
        ({"board": "not-a-board"}, "not_found"),
        ({"cursor": "junk"}, "invalid_cursor"),
    ],
)
def test_bad_filters_are_refused_with_a_code(alice_client, params, code):
    response = alice_client.get("/api/creations", params)
    assert response.status_code in (400, 404)
    assert response.json()["error"] == code


def test_someone_elses_board_is_not_found(alice_client, bob):
    bobs = Board.objects.create(owner=bob, name="Bob's")
    response = alice_client.get("/api/creations", {"board": str(bobs.pk)})
    assert response.status_code == 404
    for method in ("get", "patch", "delete"):
        assert (
            post(alice_client, f"/api/boards/{bobs.pk}", {"name": "x"}, method).status_code == 404
        )
    assert Board.objects.get(pk=bobs.pk).name == "Bob's"


def test_anonymous_callers_get_401(client, db):
    for url in ("/api/creations", "/api/boards"):
        assert client.get(url).json()["error"] == "authentication_required"


def test_a_star_is_idempotent_and_only_for_ones_own(alice_client, bob_client, alice, make_creation):
    creation = make_creation(owner=alice)
    url = f"/api/creations/{creation.id}/star"

    first = post(alice_client, url).json()
    starred_at = Creation.objects.get(pk=creation.pk).starred_at
    again = post(alice_client, url).json()
    assert first["starred"] is again["starred"] is True
    assert Creation.objects.get(pk=creation.pk).starred_at == starred_at

    assert post(bob_client, url, method="delete").status_code == 404
    assert Creation.objects.get(pk=creation.pk).starred_at == starred_at

    assert post(alice_client, url, method="delete").json()["starred"] is False
    assert post(alice_client, url, method="delete").json()["starred"] is False
    assert Creation.objects.get(pk=creation.pk).starred_at is None


def test_boards_are_made_renamed_listed_and_deleted(alice_client, alice):
    made = post(alice_client, "/api/boards", {"name": "  Night   skies "})
    assert made.status_code == 201
    board = made.json()
    assert board == {"id": board["id"], "name": "Night skies"}

    assert post(alice_client, "/api/boards", {"name": "night SKIES"}).status_code == 409
    renamed = post(alice_client, f"/api/boards/{board['id']}", {"name": "Stars"}, "patch")
    assert renamed.json()["name"] == "Stars"
    listed = alice_client.get("/api/boards").json()["boards"]
    assert listed == [{"id": board["id"], "name": "Stars", "item_count": 0}]

    assert post(alice_client, f"/api/boards/{board['id']}", method="delete").status_code == 204
    assert not Board.objects.exists()


@pytest.mark.parametrize(
    "body, code",
    [
        ({}, "name_required"),
        ({"name": "   "}, "name_required"),
        ({"name": 7}, "invalid_name"),
        ({"name": "x" * 81}, "name_too_long"),
        ({"name": "ok", "colour": "red"}, "unknown_field"),
    ],
)
def test_a_bad_board_name_is_refused_and_makes_nothing(alice_client, body, code):
    response = post(alice_client, "/api/boards", body)
    assert response.status_code == 400
    assert response.json()["error"] == code
    assert not Board.objects.exists()


def test_items_go_on_several_boards_once_each_and_come_off(alice_client, alice, make_creation):
    creation = make_creation(owner=alice)
    first = post(alice_client, "/api/boards", {"name": "One"}).json()
    second = post(alice_client, "/api/boards", {"name": "Two"}).json()
    body = {"creation_id": str(creation.id)}

    assert post(alice_client, f"/api/boards/{first['id']}/items", body).json()["added"] is True
    assert post(alice_client, f"/api/boards/{first['id']}/items", body).json()["added"] is False
    assert post(alice_client, f"/api/boards/{second['id']}/items", body).json()["added"] is True
    assert BoardItem.objects.filter(creation=creation).count() == 2

    gone = post(alice_client, f"/api/boards/{first['id']}/items", body, "delete")
    assert gone.status_code == 204
    assert post(alice_client, f"/api/boards/{first['id']}/items", body, "delete").status_code == 204
    assert list(BoardItem.objects.values_list("board_id", flat=True)) == [
        Board.objects.get(name="Two").pk
    ]


def test_someone_elses_creation_cannot_go_on_ones_board(alice_client, bob, make_creation):
    bobs = make_creation(owner=bob)
    board = post(alice_client, "/api/boards", {"name": "Mine"}).json()

    response = post(alice_client, f"/api/boards/{board['id']}/items", {"creation_id": str(bobs.id)})

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert not BoardItem.objects.exists()
