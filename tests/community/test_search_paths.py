"""Public search gives the same posts, in the same order and pages, whichever way it finds
them (creations.search.public_posts_matching): by reading the newest posts in order, or,
when those hold too few matches, through the word indexes of public posts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from creations import search
from creations.models import Creation
from profiles.services import creator_signup

from .conftest import client_for

WORDS = ["fox", "owl", "lighthouse", "heron", "maple"]


def post_row(owner, n: int, *, prompt: str, caption: str = "", **fields) -> Creation:
    # Three posts share each moment: the id decides between them, as in the feed.
    moment = timezone.now() - timezone.timedelta(minutes=n // 3)
    return Creation(
        owner=owner,
        kind="image",
        prompt=prompt,
        caption=caption,
        cost=1,
        media=f"creations/search-{owner.pk}-{n}.png",
        width=64,
        height=64,
        **{
            "status": Creation.Status.PUBLISHED,
            "published_at": moment,
            "first_published_at": moment,
            **fields,
        },
    )


@pytest.fixture
def posts(alice):
    carol = creator_signup(username="carol", password="carol-password-123")
    rows = []
    for n in range(60):
        words = " ".join(WORDS[k] for k in range(len(WORDS)) if n % (k + 2) == 0)
        rows.append(
            post_row(
                alice,
                n,
                prompt=f"scene {n} {words}" + (" zeppelin" if n == 41 else ""),
                caption="Snowy" if n % 7 == 0 else "",
            )
        )
        if n % 4 == 0:
            # Beside them, the same words where nobody may see them: a draft, a post in the
            # trash, a post taken down, and posts of an account that was closed.
            rows.append(post_row(alice, n, prompt=f"draft {words}", status="draft"))
            rows.append(post_row(alice, n, prompt=f"gone {words}", trashed_at=timezone.now()))
            rows.append(
                post_row(alice, n, prompt=f"down {words}", status="taken_down", takedown_reason="x")
            )
            rows.append(post_row(carol, n, prompt=f"closed {words} zeppelin"))
    Creation.objects.bulk_create(rows)
    carol.is_active = False
    carol.save(update_fields=["is_active"])


def every_page(q: str) -> list[list[str]]:
    client, pages, cursor = client_for(), [], None
    while True:
        params = {"q": q} if cursor is None else {"q": q, "cursor": cursor}
        body = client.get("/api/posts", params).json()
        pages.append([post["id"] for post in body["results"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def expected_pages(q: str) -> list[list[str]]:
    """What search means, as the plain query of public posts that match, newest first."""
    ordered = search.matching(Creation.objects.public(), q).order_by("-first_published_at", "-pk")
    ids = [str(pk) for pk in ordered.values_list("pk", flat=True)]
    return [ids[start : start + 12] for start in range(0, len(ids), 12)] or [[]]


QUERIES = ["fox", "owl", "lighthouse fox", "ighthou", "snowy", "fox -snowy", "zeppelin", "qwxzvk"]


@pytest.mark.parametrize("walk", [1, 5, 2000])
@pytest.mark.parametrize("q", QUERIES)
def test_every_page_is_the_same_by_either_path(posts, monkeypatch, walk, q):
    monkeypatch.setattr(search, "ORDERED_WALK", walk)

    assert every_page(q) == expected_pages(q)


def test_a_frequent_word_is_read_in_order_and_a_rare_one_from_the_indexes(posts):
    def used_the_indexes(q: str) -> bool:
        with CaptureQueriesContext(connection) as queries:
            assert client_for().get("/api/posts", {"q": q}).status_code == 200
        return any("MATERIALIZED" in query["sql"] for query in queries)

    # fox is in every second post: the page is among the newest posts. Sixty posts are
    # fewer than the walk reads: all of them read in order, nothing else is needed.
    assert not used_the_indexes("fox")
    assert not used_the_indexes("zeppelin")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "ORDERED_WALK", 40)
        assert not used_the_indexes("fox")
        # One post in sixty, an old one: not among the newest forty, so the indexes find it.
        assert used_the_indexes("zeppelin")
