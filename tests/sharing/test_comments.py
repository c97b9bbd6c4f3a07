"""Comments on a shared draft: who may write and delete them, their length as the browser
counts it, escaping, the per-person rate limit, and the thread the page polls."""

import pytest

from sharing import services
from sharing.models import Comment
from tests.conftest import run_light_jobs
from tests.security.test_escaping import PAYLOAD, RAW_MARKERS

from .conftest import client_for

HTMX = {"HX-Request": "true"}


def comments_url(draft) -> str:
    return f"/creations/{draft.id}/comments"


def test_the_owner_and_the_person_it_is_shared_with_talk(shared_with_bob, draft, alice, bob):
    viewer, owner = client_for(bob), client_for(alice)

    posted = viewer.post(comments_url(draft), {"text": "Love the light!"}, headers=HTMX)
    reply = owner.post(comments_url(draft), {"text": "Thanks, bob."}, headers=HTMX)

    assert posted.status_code == reply.status_code == 201
    thread = owner.get(comments_url(draft), headers=HTMX).content.decode()
    # Newest first (a long thread is paged: tests/sharing/test_comment_pages.py).
    assert thread.index("Thanks, bob.") < thread.index("Love the light!")
    assert 'id="thread"' in thread and 'hx-trigger="every 3s"' in thread
    # The answer to a post is the thread and an empty form (out of band).
    body = posted.content.decode()
    assert 'id="comment-form"' in body and 'hx-swap-oob="true"' in body
    assert [c.author for c in Comment.objects.order_by("created_at")] == [bob, alice]


def test_without_javascript_a_comment_posts_and_returns_to_the_page(shared_with_bob, draft, bob):
    response = client_for(bob).post(comments_url(draft), {"text": "Plain form"})
    assert response.status_code == 302
    assert response["Location"] == f"/creations/{draft.id}/shared#comments"
    assert Comment.objects.get().text == "Plain form"


def test_nobody_else_reads_or_writes_the_thread(shared_with_bob, draft, alice, carol):
    services.comment_post(creation=draft, author=alice, text="only for bob")
    for client in (client_for(carol), client_for()):
        assert client.get(comments_url(draft)).status_code == 404
        assert client.post(comments_url(draft), {"text": "let me in"}).status_code == 404
        assert client.get(f"/creations/{draft.id}/shared").status_code in (302, 404)
    assert Comment.objects.count() == 1


def test_comments_are_escaped_and_links_are_not_made_clickable(shared_with_bob, draft, bob, alice):
    viewer = client_for(bob)
    viewer.post(comments_url(draft), {"text": PAYLOAD}, headers=HTMX)
    viewer.post(comments_url(draft), {"text": "see https://example.com/x?a=1&b=2"}, headers=HTMX)
    for client, url in (
        (client_for(alice), f"/creations/{draft.id}/shared"),
        (viewer, comments_url(draft)),
    ):
        page = client.get(url).content.decode()
        for marker in RAW_MARKERS:
            assert marker not in page
        assert "&lt;script&gt;alert(" in page
        assert "https://example.com/x?a=1&amp;b=2" in page
        assert 'href="https://example.com' not in page
    api = viewer.get(f"/api/creations/{draft.id}/comments").json()
    assert api["comments"][0]["text"] == PAYLOAD.strip()


LENGTHS = {
    "1000 letters": ("x" * 1000, True),
    "1001 letters": ("x" * 1001, False),
    # A browser's textarea counts a line break once; a form sends it as CRLF (1499 raw).
    "1000 with 499 CRLF": ("a\r\n" * 499 + "aa", True),
    "1001 with 499 CRLF": ("a\r\n" * 499 + "aaa", False),
    # ... and a character outside the BMP as two (UTF-16 code units), as maxlength does.
    "500 emoji": ("\U0001f600" * 500, True),
    "500 emoji and a letter": ("\U0001f600" * 500 + "x", False),
    "empty": ("", False),
    "blank": ("   \r\n  ", False),
}


@pytest.mark.parametrize(("text", "ok"), LENGTHS.values(), ids=LENGTHS.keys())
def test_a_comment_is_1_to_1000_characters_as_the_browser_counts(
    text, ok, shared_with_bob, draft, bob
):
    response = client_for(bob).post(comments_url(draft), {"text": text}, headers=HTMX)
    if ok:
        assert response.status_code == 201
        assert "\r" not in Comment.objects.get().text
    else:
        assert response.status_code == 422
        assert "form-error" in response.content.decode()
        assert not Comment.objects.exists()


def test_an_invalid_comment_keeps_the_words_typed(shared_with_bob, draft, bob):
    response = client_for(bob).post(comments_url(draft), {"text": "y" * 1001}, headers=HTMX)
    body = response.content.decode()
    assert "The comment is 1001 characters; the limit is 1000." in body
    assert "y" * 1001 in body


def test_the_author_deletes_their_own_and_the_owner_any(shared_with_bob, draft, alice, bob, carol):
    services.share_with_person(creation=draft, owner=alice, username="carol")
    mine = services.comment_post(creation=draft, author=bob, text="bob's first")
    owners = services.comment_post(creation=draft, author=alice, text="alice's note")
    carols = services.comment_post(creation=draft, author=carol, text="carol's idea")
    viewer = client_for(bob)

    # bob may not delete alice's or carol's: the same 404 as an unknown comment.
    for other in (owners, carols):
        response = viewer.post(f"{comments_url(draft)}/{other.id}/delete", headers=HTMX)
        assert response.status_code == 404
    assert viewer.post(f"{comments_url(draft)}/{mine.id}/delete", headers=HTMX).status_code == 200
    assert client_for(alice).post(f"{comments_url(draft)}/{carols.id}/delete").status_code == 302

    for comment in (mine, owners, carols):
        comment.refresh_from_db()
    assert (mine.is_deleted, owners.is_deleted, carols.is_deleted) == (True, False, True)
    assert mine.text == carols.text == ""
    assert mine.deleted_by == bob and carols.deleted_by == alice
    thread = viewer.get(comments_url(draft)).content.decode()
    assert thread.count("Comment deleted.") == 2
    assert "bob's first" not in thread and "carol&#x27;s idea" not in thread


def test_the_rate_limit_stops_an_eleventh_comment_in_a_minute(
    shared_with_bob, draft, bob, alice, settings
):
    settings.PHOENIX_COMMENTS_PER_MINUTE = 10
    viewer = client_for(bob)
    answers = [
        viewer.post(comments_url(draft), {"text": f"comment {n}"}, headers=HTMX).status_code
        for n in range(10)
    ]
    assert answers == [201] * 10

    refused = viewer.post(comments_url(draft), {"text": "one more"}, headers=HTMX)
    api = viewer.post(
        f"/api/creations/{draft.id}/comments",
        {"text": "and by API"},
        content_type="application/json",
    )
    page = viewer.post(comments_url(draft), {"text": "without JavaScript"})

    assert refused.status_code == api.status_code == page.status_code == 429
    assert refused.json()["error"] == "too_many_comments"
    assert "You can post 10 comments a minute" in refused.json()["message"]
    assert int(refused["Retry-After"]) > 0
    assert "You can post 10 comments a minute" in page.content.decode()
    assert Comment.objects.count() == 10
    # It is per person: alice still may.
    assert client_for(alice).post(comments_url(draft), {"text": "hi"}).status_code == 302


def test_an_invalid_comment_does_not_count_against_the_limit(shared_with_bob, draft, bob, settings):
    settings.PHOENIX_COMMENTS_PER_MINUTE = 2
    viewer = client_for(bob)
    for _ in range(5):
        assert viewer.post(comments_url(draft), {"text": ""}, headers=HTMX).status_code == 422
    assert viewer.post(comments_url(draft), {"text": "ok"}, headers=HTMX).status_code == 201


def test_a_comment_sent_after_the_draft_was_trashed_is_refused(shared_with_bob, draft, bob):
    from creations import services as creation_services
    from sharing import selectors

    # Bob's page saw the draft; the owner trashes it (ending the share) before he posts.
    seen = selectors.viewable_draft(user=bob, creation_id=draft.pk)
    creation_services.creation_trash(creation=draft)

    with pytest.raises(services.NotFound):
        services.comment_post(creation=seen, author=bob, text="too late")
    assert not Comment.objects.filter(author=bob).exists()


# Transactional: the comment's job closes its database connection after it, as on worker-light.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("ended_by", ["revoke", "publish_and_unpublish"])
def test_sharing_a_draft_again_starts_an_empty_thread_for_the_new_people(
    shared_with_bob, draft, alice, bob, carol, ended_by, django_capture_on_commit_callbacks
):
    """The old thread was written for the old audience: sharing the draft anew (after its
    last share was revoked, or after it was published and brought back) never shows it to
    the new people, nor tells its authors of new comments."""
    from creations import services as creations
    from notifications.models import Notification

    first = client_for(bob).post(
        comments_url(draft), {"text": "only for the first two"}, headers=HTMX
    )
    assert first.status_code == 201
    if ended_by == "revoke":
        services.share_revoke(share=shared_with_bob)
    else:
        creations.creation_publish(creation=draft)
        creations.creation_unpublish(creation=draft)
    services.share_with_person(creation=draft, owner=alice, username="carol")

    thread = client_for(carol).get(comments_url(draft), headers=HTMX).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client_for(carol).post(comments_url(draft), {"text": "hello from carol"}, headers=HTMX)
    run_light_jobs()  # the comment's notifications

    assert "only for the first two" not in thread
    owner_view = client_for(alice).get(comments_url(draft), headers=HTMX).content.decode()
    assert "hello from carol" in owner_view
    assert "only for the first two" not in owner_view
    assert not Notification.objects.filter(recipient=bob, kind="comment").exists()
    assert Notification.objects.filter(recipient=alice, kind="comment").count() == 1


def test_a_share_revoked_while_another_stands_keeps_the_thread(
    shared_with_bob, draft, alice, bob, carol
):
    carols = services.share_with_person(creation=draft, owner=alice, username="carol")
    client_for(bob).post(comments_url(draft), {"text": "still here"}, headers=HTMX)

    services.share_revoke(share=carols)

    assert "still here" in client_for(bob).get(comments_url(draft), headers=HTMX).content.decode()
