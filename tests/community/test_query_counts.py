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


def like_figures(html: str) -> dict[str, str]:
    """{post id: the like count its footer shows} on a page."""
    shown = {}
    for part in html.split('id="like-')[1:]:
        post_id = part.split('"', 1)[0]
        shown[post_id] = part.split("data-like-count>", 1)[1].split("<", 1)[0]
    return shown


def test_a_creators_page_shows_each_posts_likes_and_comments_from_the_post(db):
    """Each post on a creator's page (and on its next pages) carries its likes and comments,
    read from the post's own counters: the page costs the same queries for 10 posts as for
    1,000, and none of them counts likes or comments."""
    costs = {}
    for size in (10, 1000):
        owner = creator_signup(username=f"maker{size}", password="maker-password-123")
        viewer = creator_signup(username=f"fan{size}", password="fan-password-123")
        posts = bulk_posts(owner, size)
        newest = posts[0]
        services.post_like(user=viewer, post_id=newest.id)
        services.comment_post(author=viewer, post_id=newest.id, text="Lovely")
        services.comment_post(author=viewer, post_id=newest.id, text="Again")
        client = client_for(viewer)
        client.get(f"/soho/{owner.username}")  # the session's first use
        with CaptureQueriesContext(connection) as queries:
            page = client.get(f"/soho/{owner.username}")
        costs[size] = len(queries)
        assert not [
            q["sql"]
            for q in queries.captured_queries
            if "count(" in q["sql"].lower()
            and ("community_postlike" in q["sql"] or "community_postcomment" in q["sql"])
        ]
        html = page.content.decode()
        shown = like_figures(html)
        assert shown[str(newest.id)] == "1"
        assert set(shown.values()) == {"0", "1"}
        assert 'aria-pressed="true" id="like-' + str(newest.id) in html  # the viewer's like
        assert f'href="/p/{newest.id}#comments"><span aria-hidden="true">💬</span> 2 comments' in (
            html
        )
        cursor = page.context["page"].next_cursor
        if cursor:
            more = client.get(
                f"/soho/{owner.username}", {"cursor": cursor}, headers={"HX-Request": "true"}
            ).content.decode()
            assert set(like_figures(more).values()) == {"0"}
        owner.is_active = False
        owner.save(update_fields=["is_active"])
    assert costs[10] == costs[1000], costs
