"""A board shared read-only by link, through sharing's links (sharing.boards)."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from creations import services as creations
from library import services
from sharing.models import Share
from sharing.services import person_block, share_revoke


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def shared_board(alice, alice_client, make_creation):
    board = services.board_create(owner=alice, name="Coast")
    draft = make_creation(owner=alice, prompt="a draft on the board")
    post = make_creation(owner=alice, status="published", prompt="a post on the board")
    failed = make_creation(owner=alice, status="failed", prompt="a failure on the board")
    services.board_add(board=board, creation_ids=[draft.pk, post.pk, failed.pk])
    other = make_creation(owner=alice, prompt="a draft on no board")
    made = alice_client.post(f"/boards/{board.pk}/sharing", {"expires_in": ""})
    assert made.status_code == 201
    link = re.search(r'value="(http[^"]+/s/[^"]+)"', made.content.decode()).group(1)
    return {"board": board, "draft": draft, "post": post, "other": other, "link": link}


def media(client, creation) -> int:
    return client.get(f"/media/creations/{creation.id}/media").status_code


def test_whoever_opens_the_link_sees_the_boards_drafts_and_posts_only(bob, shared_board):
    bob_client = client_of(bob)
    path = shared_board["link"].split("testserver", 1)[-1]

    opened = bob_client.get(path)
    assert opened.status_code == 302
    assert opened["Location"] == f"/boards/{shared_board['board'].pk}"
    html = bob_client.get(opened["Location"]).content.decode()

    assert "a draft on the board" in html and "a post on the board" in html
    assert "a failure on the board" not in html and "a draft on no board" not in html
    assert media(bob_client, shared_board["draft"]) == 200
    assert media(bob_client, shared_board["other"]) == 404
    # A board's link opens no thread: the draft's own shared page stays closed.
    assert bob_client.get(f"/creations/{shared_board['draft'].id}/shared").status_code == 404


def test_without_opening_the_link_nothing_is_seen(bob, shared_board):
    stranger = client_of(bob)
    assert stranger.get(f"/boards/{shared_board['board'].pk}").status_code == 404
    assert media(stranger, shared_board["draft"]) == 404


def test_a_revoked_or_expired_link_closes_the_board_and_its_media(bob, shared_board):
    bob_client = client_of(bob)
    bob_client.get(shared_board["link"].split("testserver", 1)[-1])
    share = Share.objects.get(board=shared_board["board"])

    Share.objects.filter(pk=share.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert bob_client.get(f"/boards/{shared_board['board'].pk}").status_code == 404
    assert media(bob_client, shared_board["draft"]) == 404

    Share.objects.filter(pk=share.pk).update(expires_at=None)
    assert bob_client.get(f"/boards/{shared_board['board'].pk}").status_code == 200
    share_revoke(share=share)
    assert bob_client.get(f"/boards/{shared_board['board'].pk}").status_code == 404
    assert media(bob_client, shared_board["draft"]) == 404


def test_a_trashed_draft_leaves_the_shared_board(bob, shared_board):
    bob_client = client_of(bob)
    bob_client.get(shared_board["link"].split("testserver", 1)[-1])
    creations.creation_trash(creation=shared_board["draft"])

    html = bob_client.get(f"/boards/{shared_board['board'].pk}").content.decode()
    assert "a draft on the board" not in html
    assert media(bob_client, shared_board["draft"]) == 404


def test_deleting_the_board_ends_its_links(alice, bob, shared_board):
    bob_client = client_of(bob)
    path = shared_board["link"].split("testserver", 1)[-1]
    bob_client.get(path)
    services.board_delete(board=shared_board["board"])

    assert not Share.objects.exists()
    assert bob_client.get(path).status_code == 404
    assert media(bob_client, shared_board["draft"]) == 404


def test_only_the_owner_manages_a_boards_links(bob, shared_board):
    bob_client = client_of(bob)
    board = shared_board["board"]
    share = Share.objects.get(board=board)
    assert bob_client.get(f"/boards/{board.pk}/sharing").status_code == 404
    assert bob_client.post(f"/boards/{board.pk}/sharing").status_code == 404
    assert bob_client.post(f"/boards/{board.pk}/sharing/{share.pk}/revoke").status_code == 404
    assert Share.objects.get(pk=share.pk).revoked_at is None


def test_blocking_the_owner_closes_their_boards_links(bob, shared_board):
    bob_client = client_of(bob)
    path = shared_board["link"].split("testserver", 1)[-1]
    bob_client.get(path)
    person_block(blocker=bob, username="alice")

    assert bob_client.get(f"/boards/{shared_board['board'].pk}").status_code == 404
    assert bob_client.get(path).status_code == 404
    assert media(bob_client, shared_board["draft"]) == 404
