"""Appeals: the person a decision is about appeals it once, within PHOENIX_APPEAL_DAYS;
another moderator upholds or reverses it; a reversed take-down publishes the post again as
it was (through the state table), and its creator is told either way."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from creations import services as creations
from creations.models import Creation
from moderation import services
from moderation.models import Action, Appeal
from moderation.services import ModerationRefused
from notifications.models import Notification

from .conftest import client_for, post_json


def appeal_url(action) -> str:
    return f"/api/moderation-actions/{action.pk}/appeal"


@pytest.fixture
def taken_down(post, bob, moderator):
    """alice's post, reported by bob and taken down by mona."""
    report = services.report_file(
        reporter=bob, target="post", item_id=post.id, category="spam", note=""
    )
    return services.case_decide(
        case_id=report.case_id, staff=moderator, kind="take_down", reason="Spam links."
    )


def test_take_down_then_appeal_then_reversal_restores_the_post(
    alice, post, taken_down, second_moderator, django_capture_on_commit_callbacks
):
    before = Creation.objects.get(pk=post.pk)
    creator = client_for(alice)
    # Told, with the reason and the way to appeal.
    told = creator.get("/api/notifications").json()["notifications"]
    decision = next(n for n in told if n["kind"] == "moderation_decision")
    assert "Spam links." in decision["text"]
    page = creator.get(f"/moderation/decisions/{taken_down.pk}").content.decode()
    assert "Spam links." in page and "Send appeal" in page

    response = post_json(creator, appeal_url(taken_down), {"text": "It is my own shop."})

    assert response.status_code == 201
    assert response.json() == {"action_id": str(taken_down.pk), "status": "open"}
    appeals = client_for(second_moderator).get("/staff/appeals").content.decode()
    assert "It is my own shop." in appeals

    with django_capture_on_commit_callbacks(execute=True):
        reply = client_for(second_moderator).post(
            f"/staff/appeals/{taken_down.pk}/decide", {"outcome": "reverse", "note": ""}
        )

    assert reply.status_code == 302
    after = Creation.objects.get(pk=post.pk)
    assert after.status == Creation.Status.PUBLISHED
    assert (after.caption, after.first_published_at, after.published_at) == (
        before.caption,
        before.first_published_at,
        before.published_at,
    )
    assert (after.takedown_reason, after.taken_down_by, after.taken_down_at) == ("", None, None)
    assert Creation.objects.public().filter(pk=post.pk).exists()
    assert post.pk in [c.pk for c in client_for().get("/").context["page"].items]
    assert client_for().get(f"/p/{post.pk}").status_code == 200
    taken_down.refresh_from_db()
    assert taken_down.reversed_at is not None
    appeal = Appeal.objects.get()
    assert (appeal.status, appeal.decided_by) == ("reversed", second_moderator)
    result = Notification.objects.get(recipient=alice, kind="appeal_decided")
    words = creator.get("/api/notifications").json()["notifications"]
    assert any(n["id"] == str(result.pk) and "published again" in n["text"] for n in words)


def test_an_appeal_is_taken_once_per_decision(alice, taken_down):
    creator = client_for(alice)
    assert post_json(creator, appeal_url(taken_down), {"text": "Wrong."}).status_code == 201

    again = post_json(creator, appeal_url(taken_down), {"text": "Still wrong."})

    assert again.status_code == 409
    assert again.json()["error"] == "already_appealed"
    assert Appeal.objects.count() == 1


def test_the_database_holds_one_appeal_per_decision(taken_down):
    Appeal.objects.create(action=taken_down, text="one")
    with pytest.raises(IntegrityError), transaction.atomic():
        Appeal.objects.bulk_create([Appeal(action=taken_down, text="two")])


def test_an_appeal_after_the_window_is_refused(alice, taken_down, settings):
    Action.objects.filter(pk=taken_down.pk).update(
        created_at=timezone.now() - timedelta(days=settings.PHOENIX_APPEAL_DAYS + 1)
    )
    response = post_json(client_for(alice), appeal_url(taken_down), {"text": "Late."})
    assert response.status_code == 409
    assert response.json()["error"] == "appeal_too_late"
    assert not Appeal.objects.exists()
    page = client_for(alice).get(f"/moderation/decisions/{taken_down.pk}").content.decode()
    assert "The time to appeal ended" in page


def test_a_day_before_the_window_ends_it_is_taken(alice, taken_down, settings):
    Action.objects.filter(pk=taken_down.pk).update(
        created_at=timezone.now() - timedelta(days=settings.PHOENIX_APPEAL_DAYS - 1)
    )
    assert post_json(client_for(alice), appeal_url(taken_down), {"text": "x"}).status_code == 201


def test_only_the_person_the_decision_is_about_may_appeal(bob, moderator, taken_down):
    for user in (bob, moderator):
        response = post_json(client_for(user), appeal_url(taken_down), {"text": "Hm."})
        assert response.status_code == 404
        assert client_for(user).get(f"/moderation/decisions/{taken_down.pk}").status_code == 404
    assert post_json(client_for(), appeal_url(taken_down), {"text": "Hm."}).status_code == 401
    assert not Appeal.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "text_required"),
        ({"text": "  "}, "text_required"),
        ({"text": "x" * 2001}, "text_too_long"),
    ],
)
def test_an_appeal_needs_its_words(alice, taken_down, body, code):
    response = post_json(client_for(alice), appeal_url(taken_down), body)
    assert response.status_code == 400
    assert response.json()["error"] == code
    assert not Appeal.objects.exists()


def test_the_moderator_who_acted_cannot_decide_the_appeal(alice, moderator, post, taken_down):
    services.appeal_file(user=alice, action_id=taken_down.pk, text="Please.")
    page = client_for(moderator).get("/staff/appeals").content.decode()
    assert "You took this decision" in page

    client_for(moderator).post(f"/staff/appeals/{taken_down.pk}/decide", {"outcome": "reverse"})

    with pytest.raises(ModerationRefused) as refused:
        services.appeal_decide(action_id=taken_down.pk, staff=moderator, reverse=True, note="")
    assert refused.value.code == "own_decision"
    post.refresh_from_db()
    assert post.status == Creation.Status.TAKEN_DOWN
    assert Appeal.objects.get().status == "open"


def test_upholding_keeps_the_post_down_and_tells_the_creator_why(
    alice, post, taken_down, second_moderator
):
    services.appeal_file(user=alice, action_id=taken_down.pk, text="Please.")
    with pytest.raises(ModerationRefused) as refused:
        services.appeal_decide(
            action_id=taken_down.pk, staff=second_moderator, reverse=False, note=""
        )
    assert refused.value.code == "note_required"

    client_for(second_moderator).post(
        f"/staff/appeals/{taken_down.pk}/decide",
        {"outcome": "uphold", "note": "The links are to a spam shop."},
    )

    post.refresh_from_db()
    assert post.status == Creation.Status.TAKEN_DOWN
    assert Appeal.objects.get().status == "upheld"
    words = client_for(alice).get("/api/notifications").json()["notifications"]
    assert any(
        n["kind"] == "appeal_decided" and "turned down: The links are to a spam shop." in n["text"]
        for n in words
    )
    again = client_for(second_moderator).post(
        f"/staff/appeals/{taken_down.pk}/decide", {"outcome": "reverse"}
    )
    assert again.status_code == 302
    post.refresh_from_db()
    assert post.status == Creation.Status.TAKEN_DOWN


def test_staff_without_the_permission_cannot_decide_an_appeal(alice, plain_staff, taken_down):
    services.appeal_file(user=alice, action_id=taken_down.pk, text="Please.")
    response = client_for(plain_staff).post(
        f"/staff/appeals/{taken_down.pk}/decide", {"outcome": "reverse"}
    )
    assert response.status_code == 403
    assert Appeal.objects.get().status == "open"


def test_a_post_deleted_forever_since_cannot_be_reinstated(
    alice, post, taken_down, second_moderator
):
    services.appeal_file(user=alice, action_id=taken_down.pk, text="Please.")
    creations.creation_trash(creation=post)
    creations.creation_purge(creation=post)
    with pytest.raises(ModerationRefused) as refused:
        services.appeal_decide(
            action_id=taken_down.pk, staff=second_moderator, reverse=True, note=""
        )
    assert refused.value.code == "not_taken_down"
    assert Appeal.objects.get().status == "open"


def test_a_dismissal_cannot_be_appealed(alice, bob, post, moderator):
    report = services.report_file(
        reporter=bob, target="post", item_id=post.id, category="spam", note=""
    )
    services.case_decide(case_id=report.case_id, staff=moderator, kind="dismiss", reason="Ok.")
    action = Action.objects.get()
    assert post_json(client_for(alice), appeal_url(action), {"text": "x"}).status_code == 404


def test_the_appeal_page_files_an_appeal_without_javascript(alice, taken_down):
    client = client_for(alice)
    response = client.post(f"/moderation/decisions/{taken_down.pk}", {"text": "My own shop."})
    assert response.status_code == 302
    page = client.get(f"/moderation/decisions/{taken_down.pk}").content.decode()
    assert "Waiting for a decision" in page and "Send appeal" not in page
