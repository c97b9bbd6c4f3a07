"""Explore's pages: by score, a page at a time, every public post once."""

import pytest

from community import services

from .conftest import bulk_posts, client_for, make_people


def test_explore_pages_through_every_public_post_once_highest_score_first(alice):
    posts = bulk_posts(alice, 25)
    for person in make_people(3):
        services.post_like(user=person, post_id=posts[-1].id)  # the oldest, liked thrice
    seen, cursor = [], None
    while True:
        params = {"cursor": cursor} if cursor else {}
        body = client_for().get("/api/explore", params).json()
        seen += [post["id"] for post in body["results"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 25
    assert seen[0] == str(posts[-1].id)
    # The rest newest first: with no likes, the latest publication ranks highest.
    assert seen[1:] == [str(post.id) for post in posts[:-1]]


@pytest.mark.parametrize("cursor", ["junk", "nan~00", "inf~" + "0" * 32, "1e400~ab", "~", "1~zz"])
def test_a_junk_cursor_is_the_first_page(alice, cursor):
    bulk_posts(alice, 3)
    response = client_for().get("/api/explore", {"cursor": cursor})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3
    assert client_for().get("/explore", {"cursor": cursor}).status_code == 200
