"""A long thread is paged (newest first, 20 at a time, "Show older" for the rest), and a
poll that brings the version it shows is answered 204 without rendering the thread."""

import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sharing.models import Comment
from sharing.selectors import THREAD_PAGE_SIZE

from .conftest import client_for

HTMX = {"HX-Request": "true"}


def comments_url(draft) -> str:
    return f"/creations/{draft.id}/comments"


def write(draft, author, count: int, *, start: int = 0) -> None:
    base = timezone.now() - timedelta(hours=1)
    Comment.objects.bulk_create(
        Comment(
            creation=draft,
            author=author,
            text=f"comment number {n:03d}.",
            created_at=base + timedelta(seconds=n),
        )
        for n in range(start, start + count)
    )


def numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"comment number (\d{3})\.", html)]


def poll_url(html: str) -> str:
    return re.search(r'id="thread"[^>]*hx-get="([^"]+)"', html, re.S)[1].replace("&amp;", "&")


def test_the_page_shows_the_newest_20_and_older_ones_on_request(shared_with_bob, draft, bob):
    write(draft, bob, 45)
    viewer = client_for(bob)

    page = viewer.get(f"/creations/{draft.id}/shared").content.decode()

    assert numbers(page) == list(range(44, 24, -1))
    older_url = re.search(r'href="([^"]*before=[^"]+)"', page)[1].replace("&amp;", "&")
    second = viewer.get(older_url, headers=HTMX).content.decode()
    assert numbers(second) == list(range(24, 4, -1))
    third_url = re.search(r'href="([^"]*before=[^"]+)"', second)[1].replace("&amp;", "&")
    third = viewer.get(third_url, headers=HTMX).content.decode()
    assert numbers(third) == [4, 3, 2, 1, 0]
    assert "Show older comments" not in third


def test_a_poll_with_nothing_new_renders_nothing(shared_with_bob, draft, bob, alice):
    write(draft, bob, 3)
    viewer = client_for(bob)
    page = viewer.get(f"/creations/{draft.id}/shared").content.decode()
    url = poll_url(page)

    unchanged = viewer.get(url, headers=HTMX)

    assert unchanged.status_code == 204
    assert unchanged.content == b""
    # A new comment (or a deletion) changes the version: the thread comes back.
    client_for(alice).post(comments_url(draft), {"text": "comment number 099."}, headers=HTMX)
    changed = viewer.get(url, headers=HTMX)
    assert changed.status_code == 200
    assert numbers(changed.content.decode()) == [99, 2, 1, 0]
    Comment.objects.filter(text="comment number 001.").update(text="", deleted_at=timezone.now())
    after_delete = viewer.get(poll_url(changed.content.decode()), headers=HTMX)
    assert after_delete.status_code == 200
    assert numbers(after_delete.content.decode()) == [99, 2, 0]


def test_new_comments_never_push_a_shown_one_out_of_the_polled_thread(
    shared_with_bob, draft, bob, alice
):
    write(draft, bob, THREAD_PAGE_SIZE)
    viewer = client_for(bob)
    url = poll_url(viewer.get(f"/creations/{draft.id}/shared").content.decode())

    write(draft, alice, 5, start=100)
    polled = numbers(viewer.get(url, headers=HTMX).content.decode())

    assert polled == [104, 103, 102, 101, 100, *range(THREAD_PAGE_SIZE - 1, -1, -1)]


def poll_queries(draft, viewer) -> int:
    url = poll_url(viewer.get(f"/creations/{draft.id}/shared").content.decode())
    with CaptureQueriesContext(connection) as queries:
        assert viewer.get(url, headers=HTMX).status_code == 204
    return len(queries)


def test_an_unchanged_poll_costs_the_same_for_3_and_300_comments(shared_with_bob, draft, bob):
    viewer = client_for(bob)
    write(draft, bob, 3)
    short = poll_queries(draft, viewer)
    write(draft, bob, 297, start=3)

    assert poll_queries(draft, viewer) == short
