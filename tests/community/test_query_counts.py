"""The feed, Explore, search and a creator's page cost the same queries for 10 posts as for
1,000: the figures are columns of the post, `liked` one query for the page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community import services
from profiles.services import creator_signup

from .conftest import bulk_posts, client_for

PAGES = ["/", "/explore", "/?q=bulk", "/soho/{owner}", "/?tab=following"]
API = ["/api/posts", "/api/explore", "/api/posts?q=bulk"]


def queries_of(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(queries)


@pytest.mark.parametrize("path", PAGES + API)
def test_a_page_costs_the_same_queries_for_10_and_1000_posts(db, path):
    counts = {}
    for size in (10, 1000):
        owner = creator_signup(username=f"owner{size}", password="owner-password-123")
        viewer = creator_signup(username=f"viewer{size}", password="viewer-password-123")
        posts = bulk_posts(owner, size)
        services.creator_follow(follower=viewer, username=owner.username)
        for post in posts[:5]:
            services.post_like(user=viewer, post_id=post.id)
        client = client_for(viewer)
        client.get(path.format(owner=owner.username))  # the session's first use
        counts[size] = queries_of(client, path.format(owner=owner.username))
        # Clear the way for the next size: only its own posts are public.
        owner.is_active = False
        owner.save(update_fields=["is_active"])
    assert counts[10] == counts[1000], counts
