"""The profile page: header, the Posts and Drafts tabs for each kind of visitor, HTMX tab
switching, drafts pagination and the query count of the drafts tab."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from creations import services
from creations.selectors import DRAFTS_PAGE_SIZE
from tokens.services import account_grant

HTMX = {"HX-Request": "true"}


@pytest.fixture
def alices_work(alice, make_creation):
    return {
        "post": make_creation(owner=alice, status="published", caption="my public fox"),
        "draft": make_creation(owner=alice, status="draft", prompt="private draft prompt"),
        "pending": make_creation(owner=alice, status="pending", prompt="queued prompt"),
        "processing": make_creation(owner=alice, status="processing", kind="video"),
        "failed": make_creation(owner=alice, status="failed", prompt="blocked prompt"),
    }


def shown(html: str, work: dict) -> set[str]:
    return {name for name, creation in work.items() if str(creation.id) in html}


@pytest.mark.parametrize(
    ("viewer", "query", "tab"),
    [
        ("alice", "", "posts"),
        ("alice", "?tab=posts", "posts"),
        ("alice", "?tab=drafts", "drafts"),
        ("alice", "?tab=trash", "trash"),
        ("alice", "?tab=nonsense", "posts"),
        ("bob", "", "posts"),
        ("bob", "?tab=drafts", "posts"),
        ("bob", "?tab=trash", "posts"),
        ("anonymous", "", "posts"),
        ("anonymous", "?tab=drafts", "posts"),
        ("anonymous", "?tab=trash", "posts"),
    ],
)
def test_each_visitor_sees_the_tab_they_may_see(client, bob, alices_work, viewer, query, tab):
    if viewer != "anonymous":
        client.force_login(bob if viewer == "bob" else alices_work["post"].owner)

    response = client.get(f"/soho/alice{query}")

    html = response.content.decode()
    assert response.status_code == 200
    if tab == "drafts":
        assert shown(html, alices_work) == {"draft", "pending", "processing", "failed"}
        assert "private draft prompt" in html
    elif tab == "trash":
        assert shown(html, alices_work) == set()
        assert "The trash is empty." in html
    else:
        assert shown(html, alices_work) == {"post"}
        assert "my public fox" in html
        assert "private draft prompt" not in html
        assert "queued prompt" not in html
    is_owner = viewer == "alice"
    assert ('href="?tab=drafts"' in html) is is_owner
    assert ('href="?tab=trash"' in html) is is_owner
    assert ('id="bulk-form"' in html) is (tab == "drafts")
    assert ('class="balance-card"' in html) is is_owner


def test_the_owner_sees_the_balance_in_the_header(alice_client, alices_work):
    html = alice_client.get("/soho/alice").content.decode()

    # 100 welcome tokens, minus 1 + 1 + 1 + 10 + 1, plus the failed image's refund.
    assert '<span class="balance-card__amount" data-balance>87 tokens</span>' in html
    assert "<h1>alice</h1>" in html


def test_an_unknown_creator_is_404(client, db):
    assert client.get("/soho/nobody").status_code == 404


def test_the_current_tab_is_marked_and_links_work_without_javascript(alice_client, alices_work):
    html = alice_client.get("/soho/alice?tab=drafts").content.decode()

    assert (
        '<a class="tab" href="?tab=drafts" hx-get="?tab=drafts" hx-target="#profile-tabs" '
        'hx-swap="outerHTML" hx-push-url="true" aria-current="page">Drafts</a>'
    ) in html
    assert 'href="?tab=posts" hx-get="?tab=posts"' in html


def test_switching_tabs_with_htmx_returns_only_the_tabs(alice_client, alices_work):
    response = alice_client.get("/soho/alice?tab=drafts", headers=HTMX)

    html = response.content.decode()
    assert "HX-Request" in response["Vary"]
    assert "<html" not in html
    assert html.strip().startswith('<section id="profile-tabs"')
    assert shown(html, alices_work) == {"draft", "pending", "processing", "failed"}


def test_a_history_restore_gets_the_whole_page(alice_client, alices_work):
    response = alice_client.get(
        "/soho/alice?tab=drafts", headers={**HTMX, "HX-History-Restore-Request": "true"}
    )

    assert "<html" in response.content.decode()


def test_drafts_are_newest_first_and_load_more_fetches_the_rest(alice_client, alice, make_creation):
    drafts = [
        make_creation(owner=alice, status="draft", prompt=f"draft number {n}")
        for n in range(DRAFTS_PAGE_SIZE + 3)
    ]
    newest_first = list(reversed(drafts))

    first = alice_client.get("/soho/alice?tab=drafts").content.decode()
    cursor = first.split("&amp;cursor=")[1].split('"')[0]
    more = alice_client.get(
        "/soho/alice", {"tab": "drafts", "cursor": cursor}, headers=HTMX
    ).content.decode()

    first_positions = [first.index(f"creation-{d.id}") for d in newest_first[:DRAFTS_PAGE_SIZE]]
    assert first_positions == sorted(first_positions)
    assert not any(f"creation-{d.id}" in first for d in newest_first[DRAFTS_PAGE_SIZE:])
    assert "Load more" in first
    assert "<html" not in more
    more_positions = [more.index(f"creation-{d.id}") for d in newest_first[DRAFTS_PAGE_SIZE:]]
    assert more_positions == sorted(more_positions)
    assert "Load more" not in more


def test_a_new_draft_does_not_shift_the_next_page(alice_client, alice, make_creation):
    drafts = [make_creation(owner=alice, status="draft") for _ in range(DRAFTS_PAGE_SIZE + 1)]
    first = alice_client.get("/soho/alice?tab=drafts").content.decode()
    cursor = first.split("&amp;cursor=")[1].split('"')[0]
    make_creation(owner=alice, status="pending")

    more = alice_client.get(
        "/soho/alice", {"tab": "drafts", "cursor": cursor}, headers=HTMX
    ).content.decode()

    assert more.count('class="card ') == 1
    assert f"creation-{drafts[0].id}" in more


def test_empty_tabs_say_what_to_do(alice_client):
    assert "No drafts yet." in alice_client.get("/soho/alice?tab=drafts").content.decode()
    assert "Nothing published yet." in alice_client.get("/soho/alice").content.decode()
    anonymous = Client()
    assert "alice has not posted anything yet." in anonymous.get("/soho/alice").content.decode()


def test_prompts_and_captions_are_escaped_on_the_profile(alice_client, alice, make_creation):
    make_creation(owner=alice, status="draft", prompt="<script>alert('p')</script>")
    make_creation(owner=alice, status="published", caption="<script>alert('c')</script>")

    drafts = alice_client.get("/soho/alice?tab=drafts").content.decode()
    posts = alice_client.get("/soho/alice").content.decode()

    assert "<script>alert(" not in drafts + posts
    assert "&lt;script&gt;alert(&#x27;p&#x27;)&lt;/script&gt;" in drafts
    assert "&lt;script&gt;alert(&#x27;c&#x27;)&lt;/script&gt;" in posts


def make_mixed_drafts(make_creation, owner, count: int) -> None:
    statuses = ["pending", "processing", "draft", "failed"]
    for n in range(count):
        status = statuses[n % len(statuses)]
        make_creation(owner=owner, status=status, kind="video" if n % 3 else "image")


def drafts_tab_queries(client, **headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/soho/alice?tab=drafts", headers=headers)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_the_drafts_tab_costs_the_same_queries_for_3_and_30_drafts(
    alice_client, alice, make_creation, headers
):
    account_grant(user=alice, amount=1000, reason="enough for thirty drafts")
    make_mixed_drafts(make_creation, alice, 3)
    drafts_tab_queries(alice_client, **headers)  # the typical runs, read once in 30 s
    few = drafts_tab_queries(alice_client, **headers)
    make_mixed_drafts(make_creation, alice, 27)
    many = drafts_tab_queries(alice_client, **headers)

    assert few == many
    # session, user, drafts page, boards, and the figures with the balance and the bell's
    # count, or the balance alone for HTMX (the typical runs behind the waits come from the
    # cache).
    assert many <= 5


def test_ones_own_drafts_tab_reads_the_user_once_and_costs_four_queries(
    alice_client, alice, make_creation
):
    make_mixed_drafts(make_creation, alice, 3)
    drafts_tab_queries(alice_client)  # the typical runs, read once in 30 s
    with CaptureQueriesContext(connection) as queries:
        response = alice_client.get("/soho/alice?tab=drafts")

    assert response.status_code == 200
    # The session (from the database here: the tests' sessions have no cache)...
    statements = [query["sql"] for query in queries if "django_session" not in query["sql"]]
    # ...then the signed-in user (the page's creator is the same row: not read again), the
    # drafts page, the boards, and one statement for the figures, the balance and the bell's
    # count.
    assert len(statements) == 4
    assert sum('FROM "auth_user"' in sql for sql in statements) == 1
    assert sum("notifications_notification" in sql for sql in statements) == 1
    assert sum("tokens_tokenaccount" in sql for sql in statements) == 1


def test_the_posts_tab_costs_the_same_queries_for_few_and_many_posts(client, alice, make_creation):
    make_creation(owner=alice, status="published")
    with CaptureQueriesContext(connection) as few:
        client.get("/soho/alice")
    for _ in range(20):
        make_creation(owner=alice, status="published")
    with CaptureQueriesContext(connection) as many:
        client.get("/soho/alice")

    # The page's rows, and the creator's figures in one statement (community).
    assert len(few) == len(many) <= 3


def test_the_owners_page_is_never_cached_and_a_visitors_may_be(alice_client, alices_work):
    own = alice_client.get("/soho/alice", {"tab": "drafts"})
    public = Client().get("/soho/alice")

    assert "no-store" in own["Cache-Control"] and "private" in own["Cache-Control"]
    assert "Cache-Control" not in public


def test_the_feed_leaves_out_posts_of_deactivated_creators(client, alice, bob, make_creation):
    make_creation(owner=alice, status="published", caption="alice's post")
    make_creation(owner=bob, status="published", caption="bob's post")
    bob.is_active = False
    bob.save(update_fields=["is_active"])

    html = client.get("/").content.decode()

    assert "alice&#x27;s post" in html
    assert "bob&#x27;s post" not in html


def test_a_null_character_in_a_username_is_404(client, db):
    assert client.get("/soho/al%00ice").status_code == 404


def test_the_trash_tab_costs_the_same_queries_for_few_and_many_items(
    alice_client, alice, make_creation
):
    def trash_tab_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert alice_client.get("/soho/alice?tab=trash").status_code == 200
        return len(queries)

    def trash(count: int) -> None:
        for _ in range(count):
            services.creation_trash(creation=make_creation(owner=alice, status="draft"))

    trash(2)
    few = trash_tab_queries()
    trash(10)
    many = trash_tab_queries()

    # session, user, creator, trash page, nav balance, the bell's unread count, and the
    # creator's figures (community).
    assert few == many <= 7


def test_the_owners_posts_tab_has_the_post_actions_and_a_visitors_has_none(
    alice_client, alice, make_creation
):
    post = make_creation(owner=alice, status="published", caption="mine")

    own = alice_client.get("/soho/alice").content.decode()
    visitor = Client().get("/soho/alice").content.decode()

    for action in ("caption", "unpublish", "delete"):
        assert f'action="/creations/{post.id}/{action}"' in own
        assert f"/creations/{post.id}/{action}" not in visitor
    assert f'href="/p/{post.id}"' in own and f'href="/p/{post.id}"' in visitor
