"""Comments on posts: plain text, who may delete them, and the owner told by a job."""

import pytest

from community import services
from community.models import PostComment
from notifications.models import Notification
from notifications.presenters import present_one
from tests.conftest import run_worker_burst
from tests.security.test_escaping import PAYLOAD, RAW_MARKERS

from .conftest import client_for, post_json

HTMX = {"HX-Request": "true"}


def test_a_comment_is_posted_listed_and_counted(post, bob):
    created = post_json(client_for(bob), f"/api/posts/{post.id}/comments", {"text": " Lovely! "})
    assert created.status_code == 201
    assert created.json()["text"] == "Lovely!" and created.json()["author"] == "bob"
    listed = client_for().get(f"/api/posts/{post.id}/comments").json()
    assert [c["text"] for c in listed["results"]] == ["Lovely!"]
    assert listed["comment_count"] == 1
    assert client_for().get(f"/api/posts/{post.id}").json()["comment_count"] == 1


@pytest.mark.parametrize(
    ("text", "status", "code"),
    [
        ("", 422, "empty_comment"),
        ("   ", 422, "empty_comment"),
        ("x" * 1001, 422, "comment_too_long"),
        (5, 400, "invalid_comment"),
        (None, 400, "invalid_comment"),
        ("a\x00b", 400, "invalid_comment"),
    ],
)
def test_a_bad_comment_is_refused_and_changes_nothing(post, bob, text, status, code):
    response = post_json(client_for(bob), f"/api/posts/{post.id}/comments", {"text": text})
    assert response.status_code == status and response.json()["error"] == code
    assert PostComment.objects.count() == 0
    post.refresh_from_db()
    assert post.comment_count == 0


def test_its_author_and_the_posts_owner_may_delete_it_nobody_else(post, alice, bob, carol):
    first = services.comment_post(author=bob, post_id=post.id, text="one")
    second = services.comment_post(author=bob, post_id=post.id, text="two")
    url = f"/api/posts/{post.id}/comments"
    assert client_for(carol).delete(f"{url}/{first.id}").status_code == 403
    assert client_for(bob).delete(f"{url}/{first.id}").status_code == 204
    assert client_for(alice).delete(f"{url}/{second.id}").status_code == 204
    assert client_for(alice).delete(f"{url}/{second.id}").status_code == 404
    post.refresh_from_db()
    assert post.comment_count == 0
    assert client_for().get(url).json()["results"] == []


def test_comments_are_plain_text_on_the_page(post, bob):
    services.comment_post(author=bob, post_id=post.id, text=PAYLOAD)
    page = client_for().get(f"/p/{post.id}").content.decode()
    for marker in RAW_MARKERS:
        assert marker not in page


def test_the_page_posts_and_deletes_a_comment(post, bob):
    client = client_for(bob)
    answer = client.post(f"/p/{post.id}/comments", {"text": "From the page"}, headers=HTMX)
    assert answer.status_code == 200
    assert "From the page" in answer.content.decode() and "1 comment" in answer.content.decode()
    comment = PostComment.objects.get()
    gone = client.post(f"/p/{post.id}/comments/{comment.id}/delete", headers=HTMX)
    assert "From the page" not in gone.content.decode() and "0 comments" in gone.content.decode()
    plain = client.post(f"/p/{post.id}/comments", {"text": "No JavaScript"})
    assert plain.status_code == 302 and plain["Location"] == f"/p/{post.id}#comments"


@pytest.mark.django_db(transaction=True)
def test_the_owner_is_told_by_a_job_not_the_request(alice, bob, make_creation):
    post = make_creation(owner=alice, status="published")
    comment = services.comment_post(author=bob, post_id=post.id, text="What a view")
    # Committed, and queued: nothing written by the request itself.
    assert not Notification.objects.filter(kind="post_comment").exists()
    run_worker_burst()
    notification = Notification.objects.get(kind="post_comment")
    assert notification.recipient == alice and notification.comment_id == comment.id
    assert present_one(notification, reader=alice) == "bob commented on your post: “What a view”"
    # The owner's own comment tells nobody.
    services.comment_post(author=alice, post_id=post.id, text="Thanks")
    run_worker_burst()
    assert Notification.objects.filter(kind="post_comment").count() == 1
