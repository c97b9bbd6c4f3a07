"""Sharing is not unsolicited and unlimited: shares are counted per owner per hour
(PHOENIX_SHARES_PER_HOUR), the person a draft reaches can decline it, and can block its
owner (their shares end, new ones are refused, their links open nothing)."""

import pytest

from sharing import services
from sharing.models import Block, Share

from .conftest import client_for, post_json


@pytest.fixture
def drafts(alice, make_creation):
    return [make_creation(owner=alice, status="draft", prompt=f"draft {n}") for n in range(4)]


def test_shares_past_the_hourly_limit_are_refused_with_when_to_retry(
    drafts, alice, bob, carol, settings
):
    settings.PHOENIX_SHARES_PER_HOUR = 3
    owner = client_for(alice)
    url = f"/api/creations/{drafts[0].id}/shares"

    assert post_json(owner, url, {"username": "bob"}).status_code == 201
    assert post_json(owner, url, {"link": True}).status_code == 201
    # A refusal (unknown person) does not use the allowance up.
    assert post_json(owner, url, {"username": "nobody"}).status_code == 422
    assert post_json(owner, url, {"username": "carol"}).status_code == 201
    refused = post_json(owner, f"/api/creations/{drafts[1].id}/shares", {"link": True})

    assert refused.status_code == 429
    assert refused.json()["error"] == "too_many_shares"
    assert int(refused["Retry-After"]) > 0
    assert Share.objects.count() == 3


def test_the_limit_can_be_turned_off(drafts, alice, settings):
    settings.PHOENIX_SHARES_PER_HOUR = 0
    for _ in range(5):
        services.share_link_create(creation=drafts[0])
    assert Share.objects.count() == 5


def test_the_recipient_declines_a_share(drafts, alice, bob, shared_with_bob, draft):
    viewer = client_for(bob)
    assert viewer.get(f"/creations/{draft.id}/shared").status_code == 200

    response = viewer.post(f"/creations/{draft.id}/decline")

    assert response.status_code == 302
    assert viewer.get(f"/creations/{draft.id}/shared").status_code == 404
    share = Share.objects.get(recipient=bob)
    assert share.revoked_reason == "declined"
    # Declining again, or a draft that never reached them: 404, nothing changes.
    assert viewer.post(f"/creations/{draft.id}/decline").status_code == 404
    assert client_for(bob).post(f"/creations/{drafts[0].id}/decline").status_code == 404


def test_declining_a_link_stops_it_reaching_them_until_they_open_it_again(draft, alice, bob):
    new = services.share_link_create(creation=draft)
    services.share_link_open(token=new.token, user=bob)
    viewer = client_for(bob)

    viewer.post(f"/creations/{draft.id}/decline")

    assert viewer.get(f"/creations/{draft.id}/shared").status_code == 404
    assert Share.objects.get().revoked_at is None  # the link stands for everyone else
    services.share_link_open(token=new.token, user=bob)
    assert viewer.get(f"/creations/{draft.id}/shared").status_code == 200


def test_blocking_ends_their_shares_and_refuses_new_ones(
    drafts, alice, bob, shared_with_bob, draft
):
    link = services.share_link_create(creation=drafts[0])
    services.share_link_open(token=link.token, user=bob)
    viewer = client_for(bob)

    response = viewer.post("/people/alice/block")

    assert response.status_code == 302
    assert Block.objects.filter(blocker=bob, blocked=alice).exists()
    assert viewer.get(f"/creations/{draft.id}/shared").status_code == 404
    assert viewer.get(f"/creations/{drafts[0].id}/shared").status_code == 404
    assert Share.objects.get(recipient=bob).revoked_reason == "blocked"
    again = post_json(
        client_for(alice), f"/api/creations/{drafts[1].id}/shares", {"username": "bob"}
    )
    assert again.status_code == 403
    assert again.json()["error"] == "not_accepted"
    with pytest.raises(services.NotFound):
        services.share_link_open(token=link.token, user=bob)
    # Blocking twice is blocking once; the settings page lists them and unblocks.
    viewer.post("/people/alice/block")
    assert Block.objects.count() == 1
    assert "alice" in viewer.get("/settings/blocked").content.decode()
    viewer.post("/people/alice/unblock")
    assert not Block.objects.exists()
    assert (
        post_json(
            client_for(alice), f"/api/creations/{drafts[1].id}/shares", {"username": "bob"}
        ).status_code
        == 201
    )


def test_nobody_blocks_themselves_or_a_stranger(alice):
    viewer = client_for(alice)
    assert viewer.post("/people/alice/block").status_code == 404
    assert viewer.post("/people/nobody/block").status_code == 404
    assert not Block.objects.exists()
