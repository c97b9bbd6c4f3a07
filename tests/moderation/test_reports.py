"""Reporting a post or a comment: 201 with its id, one open report per reporter per item
(refused with 409, and by the database), only what the reporter may see and did not write,
and at most PHOENIX_REPORTS_PER_HOUR an hour (429 with Retry-After); a refused report
writes nothing."""

import pytest
from django.db import IntegrityError, transaction

from moderation import services
from moderation.models import Case, Report

from .conftest import client_for, post_json, report_url


def test_a_signed_in_creator_reports_a_post(post, bob):
    response = post_json(client_for(bob), report_url(post), {"category": "spam", "note": "ads"})

    assert response.status_code == 201
    report = Report.objects.get()
    assert response.json() == {"id": str(report.pk)}
    assert (report.reporter, report.post, report.target, report.category, report.note) == (
        bob,
        post,
        "post",
        "spam",
        "ads",
    )
    assert report.case.is_open and report.case.post == post


def test_a_second_report_of_the_same_post_by_the_same_person_is_refused(post, bob):
    client = client_for(bob)
    post_json(client, report_url(post), {"category": "spam"})

    response = post_json(client, report_url(post), {"category": "hate", "note": "again"})

    assert response.status_code == 409
    assert response.json()["error"] == "already_reported"
    assert "already reported" in response.json()["message"]
    assert Report.objects.count() == 1


def test_the_database_refuses_a_second_open_report_even_past_the_service(post, bob):
    first = services.report_file(
        reporter=bob, target="post", item_id=post.id, category="spam", note=""
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Report.objects.create(
            case=first.case, reporter=bob, target="post", post=post, category="hate"
        )


def test_reports_of_one_item_by_several_people_form_one_case(post, bob, zed):
    post_json(client_for(bob), report_url(post), {"category": "spam"})
    post_json(client_for(zed), report_url(post), {"category": "hate"})

    case = Case.objects.get()
    assert case.reports.count() == 2


def test_once_decided_the_same_person_may_report_the_item_again(post, bob, moderator):
    report = services.report_file(
        reporter=bob, target="post", item_id=post.id, category="spam", note=""
    )
    services.case_decide(case_id=report.case_id, staff=moderator, kind="dismiss", reason="Fine.")

    response = post_json(client_for(bob), report_url(post), {"category": "spam"})

    assert response.status_code == 201
    assert Case.objects.filter(status="open").count() == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"category": "rude"}, 400, "invalid_category"),
        ({}, 400, "category_required"),
        ({"category": "spam", "note": "x" * 1001}, 400, "note_too_long"),
        ({"category": "spam", "note": 5}, 400, "invalid_note"),
        ({"category": "spam", "colour": "red"}, 400, "unknown_field"),
        ([], 400, "malformed_request"),
    ],
)
def test_a_malformed_report_is_refused_and_writes_nothing(post, bob, body, status, code):
    response = post_json(client_for(bob), report_url(post), body)

    assert response.status_code == status
    assert response.json()["error"] == code
    assert response.json()["message"]
    assert not Report.objects.exists() and not Case.objects.exists()


def test_only_a_post_the_reporter_can_see_and_did_not_make_can_be_reported(
    alice, bob, post, make_creation
):
    draft = make_creation(owner=alice, status="draft")
    taken_down = make_creation(owner=alice, status="taken_down")
    for url, who in [
        (report_url(post), alice),  # her own
        (report_url(draft), bob),  # not public
        (report_url(taken_down), bob),
        ("/api/posts/00000000-0000-0000-0000-000000000000/reports", bob),
    ]:
        response = post_json(client_for(who), url, {"category": "spam"})
        assert response.status_code == 404, url
        assert response.json()["error"] == "not_found"
    assert not Report.objects.exists()


def test_signed_out_gets_401(post):
    response = post_json(client_for(), report_url(post), {"category": "spam"})
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_required"


def test_a_get_is_not_allowed(post, bob):
    assert client_for(bob).get(report_url(post)).status_code == 405


def test_reports_are_limited_per_hour_with_retry_after(settings, alice, bob, make_creation):
    settings.PHOENIX_REPORTS_PER_HOUR = 2
    posts = [make_creation(owner=alice, status="published") for _ in range(3)]
    client = client_for(bob)
    assert [
        post_json(client, report_url(p), {"category": "spam"}).status_code for p in posts[:2]
    ] == [201, 201]

    response = post_json(client, report_url(posts[2]), {"category": "spam"})

    assert response.status_code == 429
    assert response.json()["error"] == "too_many_reports"
    assert 0 < int(response["Retry-After"]) <= 3600
    assert Report.objects.count() == 2


def test_a_refused_report_does_not_use_up_the_allowance(settings, post, bob):
    settings.PHOENIX_REPORTS_PER_HOUR = 1
    client = client_for(bob)
    assert post_json(client, report_url(post), {"category": "nope"}).status_code == 400
    assert post_json(client, report_url(post), {"category": "spam"}).status_code == 201


def test_a_limit_of_zero_turns_it_off(settings, alice, bob, make_creation):
    settings.PHOENIX_REPORTS_PER_HOUR = 0
    client = client_for(bob)
    for _ in range(3):
        target = make_creation(owner=alice, status="published")
        assert post_json(client, report_url(target), {"category": "spam"}).status_code == 201


def test_someone_a_draft_is_shared_with_reports_a_comment_on_it(shared_comment, bob, zed):
    url = f"/api/comments/{shared_comment.id}/reports"

    assert post_json(client_for(zed), url, {"category": "spam"}).status_code == 404
    response = post_json(client_for(bob), url, {"category": "spam"})

    assert response.status_code == 201
    report = Report.objects.get()
    assert (report.target, report.comment, report.post) == ("comment", shared_comment, None)
    again = post_json(client_for(bob), url, {"category": "spam"})
    assert again.status_code == 409


def test_nobody_reports_their_own_comment(shared_comment, alice):
    url = f"/api/comments/{shared_comment.id}/reports"
    assert post_json(client_for(alice), url, {"category": "spam"}).status_code == 404


def test_the_report_page_files_a_report_without_javascript(post, bob):
    client = client_for(bob)
    page = client.get(f"/report/post/{post.id}")
    assert page.status_code == 200
    assert "What is wrong with it?" in page.content.decode()

    response = client.post(
        f"/report/post/{post.id}", {"category": "violence", "note": "", "next": "/"}
    )

    assert response.status_code == 302 and response["Location"] == "/"
    assert Report.objects.get().category == "violence"
    again = client.post(f"/report/post/{post.id}", {"category": "violence"})
    assert again.status_code == 409
    assert "already reported" in again.content.decode()


def test_the_report_page_does_not_send_the_reporter_elsewhere(post, bob):
    response = client_for(bob).post(
        f"/report/post/{post.id}", {"category": "spam", "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/p/{post.id}"


def test_the_report_button_is_on_posts_for_others_only(post, alice, bob):
    others = client_for(bob).get(f"/p/{post.id}").content.decode()
    assert f'data-report-api="/api/posts/{post.id}/reports"' in others
    assert 'id="report-dialog"' in others
    own = client_for(alice).get(f"/p/{post.id}").content.decode()
    assert "data-report-api" not in own
    feed = client_for(bob).get("/").content.decode()
    assert f'data-report-api="/api/posts/{post.id}/reports"' in feed
    anonymous = client_for().get("/").content.decode()
    assert "data-report-api" not in anonymous and "report-dialog" not in anonymous
