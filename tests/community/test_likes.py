"""Likes: one per person and post, idempotent, counted on the post in the same transaction,
held by the database when requests race."""

import pytest

from community import services
from community.models import PostLike
from creations.models import Creation
from tests.conftest import run_at_once

from .conftest import client_for, like_rows, make_people, post_json


def test_a_post_as_the_public_sees_it(post, bob):
    response = client_for().get(f"/api/posts/{post.id}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(post.id)
    assert body["author"] == "alice"
    assert body["caption"] == "Morning glow"
    assert body["like_count"] == 0 and body["comment_count"] == 0 and body["liked"] is False
    assert "cost" not in body and "actions" not in body


def test_liking_twice_is_one_like_and_unliking_twice_is_none(post, bob):
    client = client_for(bob)
    first = client.post(f"/api/posts/{post.id}/like")
    again = client.post(f"/api/posts/{post.id}/like")
    assert first.status_code == again.status_code == 200
    assert again.json() == {"liked": True, "like_count": 1}
    assert client.get(f"/api/posts/{post.id}").json()["liked"] is True
    assert client.delete(f"/api/posts/{post.id}/like").json() == {"liked": False, "like_count": 0}
    assert client.delete(f"/api/posts/{post.id}/like").json() == {"liked": False, "like_count": 0}
    assert like_rows(post.id) == 0


def test_a_like_needs_an_account(post):
    response = client_for().post(f"/api/posts/{post.id}/like")
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_required"


@pytest.mark.parametrize("status", ["draft", "scheduled", "taken_down"])
def test_only_a_public_post_can_be_liked(alice, bob, make_creation, status):
    creation = make_creation(owner=alice, status=status)
    response = client_for(bob).post(f"/api/posts/{creation.id}/like")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert like_rows(creation.id) == 0
    creation.refresh_from_db()
    assert creation.like_count == 0


def test_a_liked_post_climbs_in_explore_at_once(alice, bob, make_creation):
    older = make_creation(owner=alice, status="published", caption="older")
    newer = make_creation(owner=alice, status="published", caption="newer")
    assert [p["id"] for p in client_for().get("/api/explore").json()["results"]] == [
        str(newer.id),
        str(older.id),
    ]
    services.post_like(user=bob, post_id=older.id)
    ranked = [p["id"] for p in client_for().get("/api/explore").json()["results"]]
    assert ranked == [str(older.id), str(newer.id)]
    services.post_unlike(user=bob, post_id=older.id)
    ranked = [p["id"] for p in client_for().get("/api/explore").json()["results"]]
    assert ranked == [str(newer.id), str(older.id)]


@pytest.mark.django_db(transaction=True)
def test_twenty_people_liking_one_post_at_once_make_twenty_likes(alice, make_creation):
    post = make_creation(owner=alice, status="published")
    people = make_people(20)

    results = run_at_once(
        [
            lambda person=person: services.post_like(user=person, post_id=post.id)
            for person in people
        ]
    )

    assert all(result.liked for result in results)
    post.refresh_from_db()
    assert post.like_count == 20
    assert PostLike.objects.filter(post=post).count() == 20


@pytest.mark.django_db(transaction=True)
def test_one_person_liking_ten_times_at_once_makes_one_like(alice, bob, make_creation):
    post = make_creation(owner=alice, status="published")
    score_before = Creation.objects.get(pk=post.pk).explore_score

    run_at_once([lambda: client_for(bob).post(f"/api/posts/{post.id}/like") for _ in range(10)])

    post.refresh_from_db()
    assert post.like_count == 1
    assert PostLike.objects.filter(post=post, user=bob).count() == 1
    # The score took the like once: one more term, not ten.
    services.post_unlike(user=bob, post_id=post.id)
    post.refresh_from_db()
    assert post.explore_score == pytest.approx(score_before, abs=1e-6)


def test_the_database_refuses_a_second_like_of_the_same_pair(post, bob):
    from django.db import IntegrityError, transaction

    PostLike.objects.create(post=post, user=bob)
    with pytest.raises(IntegrityError), transaction.atomic():
        PostLike.objects.create(post=post, user=bob)


def test_malformed_ids_are_404(bob):
    assert client_for(bob).post("/api/posts/not-a-uuid/like").status_code == 404
    response = post_json(client_for(bob), "/api/posts/00000000-0000-0000-0000-000000000000/like")
    assert response.status_code == 404
