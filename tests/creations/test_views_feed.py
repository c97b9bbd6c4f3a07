"""The feed: published posts from everybody, newest first, paginated, readable by anyone."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from creations.selectors import FEED_PAGE_SIZE

HTMX = {"HX-Request": "true"}


def test_anybody_reads_published_posts_newest_first_without_drafts(
    client, alice, bob, make_creation
):
    older = make_creation(owner=alice, status="published", caption="alice's fox")
    newer = make_creation(owner=bob, status="published", kind="video", caption="bob's waves")
    draft = make_creation(owner=alice, status="draft", prompt="secret draft prompt")

    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index(f"post-{newer.id}") < html.index(f"post-{older.id}")
    assert 'href="/soho/bob"' in html and 'href="/soho/alice"' in html
    assert "bob&#x27;s waves" in html
    assert f'<img src="/media/creations/{older.id}/media"' in html
    assert f'poster="/media/creations/{newer.id}/poster"' in html
    assert '<span class="duration-badge" title="Duration">8s</span>' in html
    assert str(draft.id) not in html
    assert "secret draft prompt" not in html


def test_an_empty_feed_invites_visitors_to_sign_up(client, db):
    html = client.get("/").content.decode()

    assert "No posts yet." in html
    assert 'href="/accounts/signup/"' in html


def test_the_feed_pages_with_load_more(client, alice, make_creation):
    posts = [
        make_creation(owner=alice, status="published", caption=f"post {n}")
        for n in range(FEED_PAGE_SIZE + 2)
    ]

    first = client.get("/").content.decode()
    cursor = first.split("?cursor=")[1].split('"')[0]
    more = client.get("/", {"cursor": cursor}, headers=HTMX)

    newest_first = list(reversed(posts))
    assert all(f"post-{p.id}" in first for p in newest_first[:FEED_PAGE_SIZE])
    assert not any(f"post-{p.id}" in first for p in newest_first[FEED_PAGE_SIZE:])
    assert 'hx-swap="outerHTML"' in first and "Load more" in first
    assert "HX-Request" in more["Vary"]
    more_html = more.content.decode()
    assert "<html" not in more_html
    positions = [more_html.index(f"post-{p.id}") for p in newest_first[FEED_PAGE_SIZE:]]
    assert positions == sorted(positions)
    assert "Load more" not in more_html


def test_without_javascript_load_more_opens_the_next_page(client, alice, make_creation):
    for n in range(FEED_PAGE_SIZE + 1):
        make_creation(owner=alice, status="published", caption=f"post {n}")
    first = client.get("/").content.decode()
    cursor = first.split("?cursor=")[1].split('"')[0]

    page = client.get("/", {"cursor": cursor}).content.decode()

    assert "<html" in page
    assert "post 0" in page
    assert "Back to the newest" in page


def test_the_feed_costs_the_same_queries_for_few_and_many_posts(client, alice, bob, make_creation):
    make_creation(owner=alice, status="published")
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for n in range(15):
        make_creation(owner=alice if n % 2 else bob, status="published")
    with CaptureQueriesContext(connection) as many:
        client.get("/")

    assert len(few) == len(many) <= 2


def test_unpublishing_and_publishing_again_never_brings_a_post_back_to_the_top(
    client, alice, bob, make_creation
):
    from creations import services

    looped = make_creation(owner=alice, status="published", caption="first out")
    later = make_creation(owner=bob, status="published", caption="second out")
    mine = make_creation(owner=alice, status="published", caption="alice's other")
    for _ in range(3):
        services.creation_unpublish(creation=looped)
        services.creation_publish(creation=looped)

    feed = client.get("/").content.decode()
    page = client.get("/soho/alice?tab=posts").content.decode()

    assert feed.index(f"post-{later.id}") < feed.index(f"post-{looped.id}")
    assert page.index(f"post-{mine.id}") < page.index(f"post-{looped.id}")
    looped.refresh_from_db()
    assert looped.first_published_at < looped.published_at  # the latest is still told
