"""Abuse limits: social writes per account and per network a minute; 0 turns one off."""

from community.models import PostLike

from .conftest import client_for, make_people


def test_an_account_is_held_to_its_writes_per_minute(post, bob, settings):
    settings.PHOENIX_SOCIAL_WRITES_PER_MINUTE = 3
    settings.PHOENIX_SOCIAL_WRITES_PER_NETWORK_PER_MINUTE = 0
    client = client_for(bob)
    answers = [client.post(f"/api/posts/{post.id}/like").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = client.post("/api/users/alice/follow")
    assert refused.status_code == 429 and refused.json()["error"] == "too_many_writes"
    assert int(refused["Retry-After"]) > 0
    # Another account is not held to bob's count.
    assert client_for(post.owner).post(f"/api/posts/{post.id}/like").status_code == 200


def test_a_network_is_held_to_its_writes_per_minute_ipv6_by_its_64(post, settings):
    settings.PHOENIX_SOCIAL_WRITES_PER_MINUTE = 0
    settings.PHOENIX_SOCIAL_WRITES_PER_NETWORK_PER_MINUTE = 2
    people = make_people(3)
    statuses = [
        client_for(person)
        .post(f"/api/posts/{post.id}/like", REMOTE_ADDR=f"2001:db8:1:2::{n + 1}")
        .status_code
        for n, person in enumerate(people)
    ]
    assert statuses == [200, 200, 429]
    assert PostLike.objects.count() == 2
    elsewhere = client_for(people[2]).post(
        f"/api/posts/{post.id}/like", REMOTE_ADDR="2001:db8:9::1"
    )
    assert elsewhere.status_code == 200


def test_zero_turns_the_limits_off(post, bob, settings):
    settings.PHOENIX_SOCIAL_WRITES_PER_MINUTE = 0
    settings.PHOENIX_SOCIAL_WRITES_PER_NETWORK_PER_MINUTE = 0
    client = client_for(bob)
    assert {client.post(f"/api/posts/{post.id}/like").status_code for _ in range(50)} == {200}


def test_comments_are_limited_too_and_a_refused_one_is_not_written(post, bob, settings):
    settings.PHOENIX_SOCIAL_WRITES_PER_MINUTE = 1
    client = client_for(bob)
    url = f"/api/posts/{post.id}/comments"
    first = client.post(url, '{"text": "one"}', content_type="application/json")
    second = client.post(url, '{"text": "two"}', content_type="application/json")
    assert (first.status_code, second.status_code) == (201, 429)
    post.refresh_from_db()
    assert post.comment_count == 1
