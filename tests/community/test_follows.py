"""Follows: one per pair, not oneself, counted on both creators, and the Following feed."""

import pytest
from django.db import IntegrityError, transaction

from community import services
from community.models import CreatorCounts, Follow
from tests.conftest import run_at_once

from .conftest import client_for, make_people


def test_following_is_idempotent_and_counted_on_both(alice, bob):
    client = client_for(bob)
    assert client.post("/api/users/alice/follow").json() == {
        "username": "alice",
        "following": True,
        "follower_count": 1,
    }
    assert client.post("/api/users/alice/follow").json()["follower_count"] == 1
    assert CreatorCounts.objects.get(pk=bob.pk).following == 1
    assert client.delete("/api/users/alice/follow").json()["follower_count"] == 0
    assert client.delete("/api/users/alice/follow").json()["following"] is False
    assert CreatorCounts.objects.get(pk=bob.pk).following == 0


def test_nobody_follows_themselves_or_a_stranger(alice):
    client = client_for(alice)
    response = client.post("/api/users/alice/follow")
    assert response.status_code == 400 and response.json()["error"] == "cannot_follow_yourself"
    assert client.post("/api/users/nobody/follow").status_code == 404
    assert Follow.objects.count() == 0
    with pytest.raises(IntegrityError), transaction.atomic():
        Follow.objects.create(follower=alice, followee=alice)


def test_the_following_feed_shows_the_followed_creators_posts(alice, bob, carol, make_creation):
    alices = make_creation(owner=alice, status="published", caption="by alice")
    carols = make_creation(owner=carol, status="published", caption="by carol")
    services.creator_follow(follower=bob, username="alice")
    page = client_for(bob).get("/", {"tab": "following"}).content.decode()
    assert f'id="post-{alices.id}"' in page and f'id="post-{carols.id}"' not in page
    assert client_for().get("/", {"tab": "following"}).status_code == 302


def test_the_profile_shows_the_figures_and_the_follow_button(alice, bob, make_creation):
    make_creation(owner=alice, status="published")
    page = client_for(bob).get("/soho/alice").content.decode()
    assert (
        "<strong>1</strong> post" in page and "<strong data-followers>0</strong> followers" in page
    )
    assert 'id="follow-button"' in page and ">Follow<" in page
    answer = client_for(bob).post(
        "/soho/alice/follow", {"follow": "1"}, headers={"HX-Request": "true"}
    )
    assert answer.status_code == 200
    body = answer.content.decode()
    assert "<strong data-followers>1</strong> follower" in body and ">Following<" in body
    # The owner sees no Follow button on their own page.
    assert 'id="follow-button"' not in client_for(alice).get("/soho/alice").content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_creators_following_each_other_at_once_do_not_deadlock(alice, bob):
    people = make_people(6, prefix="pair")
    calls = []
    for one, other in zip(people[::2], people[1::2], strict=True):
        calls.append(
            lambda a=one, b=other: services.creator_follow(follower=a, username=b.username)
        )
        calls.append(
            lambda a=one, b=other: services.creator_follow(follower=b, username=a.username)
        )
    run_at_once(calls)
    for person in people:
        counts = CreatorCounts.objects.get(pk=person.pk)
        assert (counts.followers, counts.following) == (1, 1)
