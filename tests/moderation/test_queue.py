"""The moderation queue: moderators only (a permission, not is_staff), open cases by most
reports then oldest, assign, notes, and each decision — through the existing services,
logged, told to the author (with the reason and the way to appeal) and to the reporters."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from creations.models import Creation
from moderation import services
from moderation.models import Action, Case, CaseNote, Report
from moderation.services import ModerationRefused
from notifications.models import Notification
from profiles.models import ConfirmedEmail
from sharing.models import Comment
from tests.conftest import run_worker_burst

from .conftest import client_for, make_staff

QUEUE = "/staff/moderation"


def report(user, item, *, category="spam", target="post"):
    return services.report_file(
        reporter=user, target=target, item_id=item.id, category=category, note="see this"
    )


def with_address(user, address):
    user.email = address
    user.save(update_fields=["email"])
    ConfirmedEmail.objects.create(user=user, address=address)


def test_signed_out_people_are_sent_to_log_in(db):
    for url in (QUEUE, "/staff/appeals"):
        response = Client().get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_staff_without_the_permission_and_creators_are_refused(plain_staff, alice):
    for user in (plain_staff, alice):
        for url in (QUEUE, "/staff/appeals"):
            assert client_for(user).get(url).status_code == 403


def test_staff_without_the_permission_cannot_decide_either(plain_staff, post, bob):
    case = report(bob, post).case
    response = client_for(plain_staff).post(
        f"/staff/moderation/cases/{case.id}/decide", {"kind": "take_down", "reason": "No."}
    )
    assert response.status_code == 403
    post.refresh_from_db()
    assert post.status == "published" and not Action.objects.exists()


def test_the_permission_without_staff_status_is_not_enough(alice):
    alice.user_permissions.add(Permission.objects.get(codename="moderate"))
    assert client_for(alice).get(QUEUE).status_code == 403


def test_with_staff_two_factor_required_a_moderator_without_it_is_sent_to_set_it_up(
    settings, moderator
):
    settings.PHOENIX_STAFF_REQUIRE_2FA = True
    for url in (QUEUE, "/staff/appeals"):
        response = client_for(moderator).get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/settings/security?next=")


def test_the_queue_lists_the_most_reported_first_then_the_oldest(
    moderator, alice, bob, zed, make_creation
):
    old, new, busy = (make_creation(owner=alice, status="published") for _ in range(3))
    report(bob, old)
    Report.objects.update(created_at=timezone.now() - timedelta(hours=2))
    report(bob, new)
    report(bob, busy)
    report(zed, busy)

    page = client_for(moderator).get(QUEUE)

    assert page.status_code == 200
    cases = [case.post_id for case in page.context["cases"]]
    assert cases == [busy.id, old.id, new.id]
    html = page.content.decode()
    assert "2 reports" in html and "zedreporter" in html  # staff see the reporters


def test_the_queue_costs_the_same_queries_for_two_cases_and_ten(
    moderator, alice, bob, make_creation
):
    client = client_for(moderator)

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(QUEUE).status_code == 200
        return len(queries)

    for _ in range(2):
        report(bob, make_creation(owner=alice, status="published"))
    two = cost()
    for _ in range(8):
        report(bob, make_creation(owner=alice, status="published"))
    assert cost() == two


def test_a_moderator_assigns_a_case_to_themselves_and_adds_a_note(moderator, post, bob):
    case = report(bob, post).case
    client = client_for(moderator)

    client.post(f"/staff/moderation/cases/{case.id}/assign")
    client.post(f"/staff/moderation/cases/{case.id}/notes", {"text": "Looks like spam."})

    case.refresh_from_db()
    assert case.assignee == moderator
    assert CaseNote.objects.get(case=case).text == "Looks like spam."
    mine = client.get(f"{QUEUE}?assigned=me")
    assert [c.pk for c in mine.context["cases"]] == [case.pk]
    client.post(f"/staff/moderation/cases/{case.id}/assign", {"unassign": "1"})
    case.refresh_from_db()
    assert case.assignee is None


def decide(moderator, case, kind, reason="Against the rules on spam."):
    return client_for(moderator).post(
        f"/staff/moderation/cases/{case.id}/decide", {"kind": kind, "reason": reason}
    )


@pytest.mark.django_db(transaction=True)
def test_a_take_down_goes_through_the_existing_take_down_and_tells_everyone(
    moderator, alice, bob, zed, make_creation
):
    post = make_creation(owner=alice, status="published", caption="My fox")
    with_address(alice, "alice@example.com")
    case = report(bob, post).case
    report(zed, post)

    response = decide(moderator, case, "take_down", "Spam: links to a shop.")

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == Creation.Status.TAKEN_DOWN
    assert (post.takedown_reason, post.taken_down_by) == ("Spam: links to a shop.", moderator)
    assert not Creation.objects.public().filter(pk=post.pk).exists()
    action = Action.objects.get()
    assert (action.kind, action.actor, action.subject, action.reason, action.post) == (
        "take_down",
        moderator,
        alice,
        "Spam: links to a shop.",
        post,
    )
    case.refresh_from_db()
    assert case.status == "closed"
    assert set(Report.objects.values_list("status", flat=True)) == {"closed"}

    told = Notification.objects.get(recipient=alice, kind="moderation_decision")
    assert told.object_key == str(action.pk)
    text = client_for(alice).get("/api/notifications").json()["notifications"][0]["text"]
    assert "taken down" in text and "Spam: links to a shop." in text and "appeal" in text
    outcomes = Notification.objects.filter(kind="report_outcome")
    assert set(outcomes.values_list("recipient", flat=True)) == {bob.pk, zed.pk}
    bob_text = client_for(bob).get("/api/notifications").json()["notifications"][0]["text"]
    assert bob_text == "Thank you for your report of a post: we took it down"

    run_worker_burst()  # the e-mail goes by its job, after COMMIT
    [email] = mail.outbox
    assert email.to == ["alice@example.com"]
    assert "Spam: links to a shop." in email.body
    opened = client_for(alice).get(f"/notifications/{told.pk}/open")
    assert opened["Location"] == f"/moderation/decisions/{action.pk}"
    assert (
        f"The decision, and how to appeal it: http://testserver/notifications/{told.pk}/open"
        in (email.body)
    )


def test_dismissing_tells_the_reporters_and_not_the_author(moderator, post, alice, bob):
    case = report(bob, post).case

    decide(moderator, case, "dismiss", "Not spam.")

    post.refresh_from_db()
    assert post.status == "published"
    assert not Notification.objects.filter(recipient=alice).exists()
    text = client_for(bob).get("/api/notifications").json()["notifications"][0]["text"]
    assert "it stays up" in text
    assert Action.objects.get().subject is None


def test_removing_a_comment_uses_the_staff_removal(moderator, shared_comment, alice, bob):
    case = report(bob, shared_comment, target="comment").case

    decide(moderator, case, "remove_comment", "Spam.")

    comment = Comment.objects.get(pk=shared_comment.pk)
    assert comment.is_deleted and comment.text == "" and comment.deleted_by == moderator
    decision = Notification.objects.get(recipient=alice)
    assert decision.kind == "moderation_decision"
    text = client_for(alice).get("/notifications").content.decode()
    assert "Your comment was removed" in text and "Spam." in text


def test_a_warning_changes_nothing_but_tells_the_author(moderator, post, alice, bob):
    case = report(bob, post).case
    decide(moderator, case, "warn", "Please label your ads.")
    post.refresh_from_db()
    assert post.status == "published"
    text = client_for(alice).get("/api/notifications").json()["notifications"][0]["text"]
    assert text.startswith("You received a warning about your post. Reason: Please label")


def test_suspending_ends_the_account_s_sessions_and_hides_its_posts(moderator, post, alice, bob):
    session = client_for(alice)
    case = report(bob, post).case

    decide(moderator, case, "suspend", "Repeated spam.")

    alice.refresh_from_db()
    assert not alice.is_active
    assert session.get("/tokens").status_code == 302  # signed out
    assert client_for(bob).get(f"/p/{post.id}").status_code == 404
    assert Action.objects.get().kind == "suspend"


def test_a_decision_that_does_not_fit_the_item_is_refused_and_changes_nothing(
    moderator, shared_comment, post, bob
):
    comment_case = report(bob, shared_comment, target="comment").case
    post_case = report(bob, post).case
    for case, kind in [(comment_case, "take_down"), (post_case, "remove_comment")]:
        with pytest.raises(ModerationRefused) as refused:
            services.case_decide(case_id=case.id, staff=moderator, kind=kind, reason="x")
        assert refused.value.code == "not_applicable"
    with pytest.raises(ModerationRefused) as refused:
        services.case_decide(case_id=post_case.id, staff=moderator, kind="ban", reason="x")
    assert refused.value.code == "unknown_action"
    with pytest.raises(ModerationRefused) as refused:
        services.case_decide(case_id=post_case.id, staff=moderator, kind="warn", reason="  ")
    assert refused.value.code == "reason_required"
    assert not Action.objects.exists()
    assert Case.objects.filter(status="open").count() == 2


def test_a_decided_case_cannot_be_decided_again(moderator, post, bob):
    case = report(bob, post).case
    decide(moderator, case, "dismiss", "Fine.")
    response = decide(moderator, case, "take_down", "Changed my mind.")
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == "published"
    assert Action.objects.count() == 1


def test_the_action_log_shows_who_when_what_why(moderator, post, bob):
    case = report(bob, post).case
    decide(moderator, case, "warn", "Label your ads.")
    html = client_for(moderator).get(QUEUE).content.decode()
    assert 'id="action-log"' in html
    assert "mona" in html and "Warning" in html and "Label your ads." in html


def test_another_moderator_sees_the_assignee(moderator, second_moderator, post, bob):
    case = report(bob, post).case
    services.case_assign(case_id=case.id, staff=moderator)
    html = client_for(second_moderator).get(QUEUE).content.decode()
    assert "Assigned to <strong>mona</strong>" in html


def test_make_staff_gives_the_permission(db):
    assert make_staff("pat").has_perm("moderation.moderate")


def test_the_admin_index_links_moderators_to_the_queue(moderator, plain_staff):
    assert 'href="/staff/moderation"' in client_for(moderator).get("/admin/").content.decode()
    assert 'href="/staff/moderation"' not in client_for(plain_staff).get("/admin/").content.decode()


def test_a_decision_notice_whose_decision_is_gone_still_says_what_it_was(moderator, post, bob):
    case = report(bob, post).case
    decide(moderator, case, "warn", "Label your ads.")
    notice = Notification.objects.get(kind="moderation_decision")
    Notification.objects.filter(pk=notice.pk).update(object_key="not-a-decision")
    text = client_for(post.owner).get("/api/notifications").json()["notifications"][0]["text"]
    assert text == "Moderation decision"
