"""Comments on public posts (community's) are reported, decided and appealed like comments
on shared drafts (sharing's): through the same URL, POST /api/comments/<id>/reports, whose
id names one comment for everyone (the last but one test says the rule).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community import services as community
from community.models import PostComment
from creations import services as creations
from creations.models import Creation
from moderation import services
from moderation.models import Action, Appeal, Case, Report
from profiles.services import creator_signup

from .conftest import client_for, post_json

QUEUE = "/staff/moderation"
SPAM = {"category": "spam", "note": "a shop link"}


def report_url(comment) -> str:
    return f"/api/comments/{comment.id}/reports"


@pytest.fixture
def bobs_comment(post, bob):
    """bob's comment on alice's public post."""
    return community.comment_post(author=bob, post_id=post.id, text="Buy cheap pills here")


@pytest.fixture
def carol(db):
    return creator_signup(username="carol", password="carol-password-123")


def comments_on(post) -> int:
    return Creation.objects.get(pk=post.pk).comment_count


def test_a_comment_on_a_post_is_reported_through_the_comments_url(bobs_comment, zed):
    response = post_json(client_for(zed), report_url(bobs_comment), SPAM)

    assert response.status_code == 201
    report = Report.objects.get(pk=response.json()["id"])
    assert (report.target, report.post_comment, report.comment) == (
        "post_comment",
        bobs_comment,
        None,
    )
    assert (report.reporter, report.category, report.case.post_comment) == (
        zed,
        "spam",
        bobs_comment,
    )

    again = post_json(client_for(zed), report_url(bobs_comment), SPAM)
    assert again.status_code == 409
    assert again.json()["error"] == "already_reported"
    assert "this comment" in again.json()["message"]
    assert Report.objects.count() == 1


def test_a_second_reporter_joins_the_same_case(bobs_comment, zed, carol):
    first = post_json(client_for(zed), report_url(bobs_comment), SPAM).json()["id"]
    second = post_json(client_for(carol), report_url(bobs_comment), SPAM).json()["id"]
    assert Report.objects.get(pk=first).case_id == Report.objects.get(pk=second).case_id
    assert Case.objects.count() == 1


def test_a_comment_one_may_not_report_answers_404_and_files_nothing(
    post, bob, zed, bobs_comment, make_creation
):
    own = post_json(client_for(bob), report_url(bobs_comment), SPAM)
    assert own.status_code == 404
    assert post_json(client_for(), report_url(bobs_comment), SPAM).status_code == 401
    unknown = "/api/comments/00000000-0000-4000-8000-000000000000/reports"
    assert post_json(client_for(zed), unknown, SPAM).status_code == 404

    deleted = community.comment_post(author=bob, post_id=post.id, text="gone soon")
    community.comment_delete(user=bob, comment=deleted)
    assert post_json(client_for(zed), report_url(deleted), SPAM).status_code == 404

    creations.creation_unpublish(creation=post)
    assert post_json(client_for(zed), report_url(bobs_comment), SPAM).status_code == 404
    assert client_for(zed).get(f"/report/comment/{bobs_comment.id}").status_code == 404
    assert not Report.objects.exists()


def test_the_post_page_offers_report_on_other_peoples_comments(post, bobs_comment, bob, zed):
    control = f'data-report-api="/api/comments/{bobs_comment.id}/reports"'
    assert control in client_for(zed).get(f"/p/{post.id}").content.decode()
    assert control in client_for(post.owner).get(f"/p/{post.id}").content.decode()
    assert control not in client_for(bob).get(f"/p/{post.id}").content.decode()  # their own
    assert control not in client_for().get(f"/p/{post.id}").content.decode()  # signed out


def test_the_report_page_files_a_report_without_javascript(post, bobs_comment, zed):
    client = client_for(zed)
    page = client.get(f"/report/comment/{bobs_comment.id}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Report a comment" in html and "Buy cheap pills here" in html

    response = client.post(f"/report/comment/{bobs_comment.id}", {"category": "spam"})

    assert response.status_code == 302
    assert response["Location"] == f"/p/{post.id}#comment-{bobs_comment.id}"
    assert Report.objects.get().post_comment == bobs_comment


def report(user, comment) -> Report:
    return services.report_file(
        reporter=user, target="post_comment", item_id=comment.id, category="spam", note=""
    )


def test_the_queue_shows_the_comment_and_a_moderator_removes_it(
    moderator, post, bob, zed, bobs_comment, django_capture_on_commit_callbacks
):
    case = report(zed, bobs_comment).case
    assert comments_on(post) == 1
    queue = client_for(moderator).get(QUEUE).content.decode()
    assert "Comment by bob" in queue and "Buy cheap pills here" in queue
    assert "On a post by alice" in queue
    assert 'value="remove_comment"' in queue and 'value="take_down"' not in queue

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(moderator).post(
            f"/staff/moderation/cases/{case.id}/decide",
            {"kind": "remove_comment", "reason": "Spam links."},
        )

    assert response.status_code == 302
    comment = PostComment.objects.get(pk=bobs_comment.pk)
    assert comment.is_deleted and comment.text == ""
    assert comments_on(post) == 0
    assert "Buy cheap pills" not in client_for().get(f"/p/{post.id}").content.decode()
    action = Action.objects.get()
    assert (action.kind, action.target, action.post_comment, action.subject, action.actor) == (
        "remove_comment",
        "post_comment",
        comment,
        bob,
        moderator,
    )
    case.refresh_from_db()
    assert case.status == "closed" and Report.objects.get().status == "closed"
    bobs = client_for(bob).get("/api/notifications").json()["notifications"]
    told = next(n for n in bobs if n["kind"] == "moderation_decision")
    assert "Your comment was removed" in told["text"] and "Spam links." in told["text"]
    assert "appeal" in told["text"]
    zeds = client_for(zed).get("/api/notifications").json()["notifications"]
    assert [n["text"] for n in zeds if n["kind"] == "report_outcome"] == [
        "Thank you for your report of a comment: we removed it"
    ]
    assert "we removed it" in client_for(zed).get("/moderation/reports").content.decode()
    log = client_for(moderator).get(QUEUE).content.decode()
    assert "Comment on a post by bob" in log and "Spam links." in log


def test_a_post_comment_case_takes_only_what_applies_to_a_comment(
    moderator, bobs_comment, zed, post
):
    case = report(zed, bobs_comment).case
    with pytest.raises(services.ModerationRefused) as refused:
        services.case_decide(case_id=case.id, staff=moderator, kind="take_down", reason="x")
    assert refused.value.code == "not_applicable"
    assert "does not apply to a comment" in refused.value.message
    post.refresh_from_db()
    assert post.status == "published" and comments_on(post) == 1


def test_a_comment_its_author_deleted_meanwhile_is_already_removed(
    moderator, bobs_comment, bob, zed
):
    case = report(zed, bobs_comment).case
    community.comment_delete(user=bob, comment=bobs_comment)
    with pytest.raises(services.ModerationRefused) as refused:
        services.case_decide(
            case_id=case.id, staff=moderator, kind="remove_comment", reason="Spam."
        )
    assert refused.value.code == "already_removed"
    assert not Action.objects.exists()


def test_the_author_appeals_the_removal_and_another_moderator_reverses_it(
    moderator, second_moderator, post, bob, zed, bobs_comment
):
    case = report(zed, bobs_comment).case
    action = services.case_decide(
        case_id=case.id, staff=moderator, kind="remove_comment", reason="Spam links."
    )
    author = client_for(bob)
    page = author.get(f"/moderation/decisions/{action.pk}").content.decode()
    assert "Your comment on a post by alice" in page and "Spam links." in page
    assert "Send appeal" in page

    response = post_json(
        author, f"/api/moderation-actions/{action.pk}/appeal", {"text": "It was a joke."}
    )

    assert response.status_code == 201
    appeals = client_for(second_moderator).get("/staff/appeals").content.decode()
    assert "It was a joke." in appeals and "A comment on a post (removed)" in appeals
    decided = services.appeal_decide(
        action_id=action.pk, staff=second_moderator, reverse=True, note=""
    )
    assert decided.appeal.status == Appeal.Status.REVERSED
    action.refresh_from_db()
    assert action.reversed_at is not None
    words = author.get("/api/notifications").json()["notifications"]
    assert any(
        n["kind"] == "appeal_decided" and "the decision was reversed" in n["text"] for n in words
    )
    # As for a comment on a shared draft: its words were erased, it stays removed.
    assert PostComment.objects.get(pk=bobs_comment.pk).is_deleted


def test_an_id_held_by_both_kinds_names_the_shared_draft_comment(
    shared_comment, post, alice, bob, zed
):
    """The rule for /api/comments/<id>/reports when a comment on a shared draft and a
    comment on a post have the same id (uuid4 on both sides: only rows written by hand get
    there): the id names the comment on the shared draft, for everyone, whatever they may
    see of it."""
    twin = PostComment.objects.create(id=shared_comment.id, post=post, author=bob, text="Hi")

    # zed sees the post comment but not the shared draft: the id names what zed cannot see.
    assert post_json(client_for(zed), report_url(twin), SPAM).status_code == 404
    assert client_for(zed).get(f"/report/comment/{twin.id}").status_code == 404
    # bob, who may see the shared draft, reports its comment (alice's), never his own twin.
    response = post_json(client_for(bob), report_url(twin), SPAM)
    assert response.status_code == 201
    report = Report.objects.get()
    assert (report.target, report.comment_id, report.post_comment_id) == (
        "comment",
        shared_comment.id,
        None,
    )


def test_the_queue_costs_the_same_queries_with_more_post_comment_cases(moderator, post, bob, zed):
    client = client_for(moderator)

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(QUEUE).status_code == 200
        return len(queries)

    def reported_comment():
        comment = community.comment_post(author=bob, post_id=post.id, text="spam")
        report(zed, comment)

    for _ in range(2):
        reported_comment()
    two = cost()
    for _ in range(8):
        reported_comment()
    assert cost() == two
