"""A suspended creator still reads the decision and appeals it: suspension stops creating,
publishing, commenting and the rest, not appealing. They sign in again (the sessions from
before the suspension ended with it) into a session that opens their decisions, the appeal
and their notices only; a reversal on appeal makes the account active again."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from community import services as community
from community.membership import member_deactivate
from creations.models import Creation
from moderation import services
from moderation.models import Action, Appeal
from tests.accounts.conftest import code_at, enable_two_factor

from .conftest import client_for, post_json

User = get_user_model()
PASSWORD = "alice-password-123"


@pytest.fixture
def suspension(alice, bob, post, moderator) -> Action:
    """alice's post reported by bob; mona suspends alice, who had liked bob's post."""
    report = services.report_file(
        reporter=bob, target="post", item_id=post.id, category="spam", note=""
    )
    return services.case_decide(
        case_id=report.case_id, staff=moderator, kind="suspend", reason="Repeated spam."
    )


def signed_in(username: str = "alice", password: str = PASSWORD) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()[:3000]
    return client


def test_a_suspended_creator_signs_in_reads_the_decision_and_appeals_it(suspension):
    client = signed_in()
    decision = f"/moderation/decisions/{suspension.pk}"

    landing = client.get("/")
    assert landing.status_code == 302 and landing["Location"] == decision
    page = client.get(decision).content.decode()
    assert "Repeated spam." in page and "Your account is suspended." in page
    assert "Send appeal" in page
    assert "Open it" not in page  # the post is hidden while its creator is suspended
    notices = client.get("/api/notifications").json()["notifications"]
    assert any("Your account was suspended" in n["text"] for n in notices)

    response = post_json(
        client, f"/api/moderation-actions/{suspension.pk}/appeal", {"text": "Not spam."}
    )

    assert response.status_code == 201
    assert Appeal.objects.get().action == suspension
    assert "Waiting for a decision" in client.get(decision).content.decode()


def test_the_appeal_page_takes_it_without_javascript(suspension):
    client = signed_in()
    response = client.post(f"/moderation/decisions/{suspension.pk}", {"text": "Not spam."})
    assert response.status_code == 302
    assert Appeal.objects.get().text == "Not spam."


def test_by_e_mail_address_and_with_two_factor_too(alice, suspension):
    User.objects.filter(pk=alice.pk).update(email="alice@example.com")
    enable_two_factor(User.objects.get(pk=alice.pk))
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "alice@example.com", "password": PASSWORD}
    )
    assert response["Location"] == "/accounts/login/code"
    assert client.post("/accounts/login/code", {"code": code_at()}).status_code == 302
    assert client.get(f"/moderation/decisions/{suspension.pk}").status_code == 200


def test_a_suspended_session_opens_nothing_else(alice, bob, suspension, make_creation):
    client = signed_in()
    decision = f"/moderation/decisions/{suspension.pk}"
    bobs = make_creation(owner=bob, status="published")
    creations_before = Creation.objects.filter(owner=alice).count()

    for page in ("/create", "/tokens", "/soho/alice", f"/p/{bobs.id}", "/settings/security"):
        response = client.get(page)
        assert (response.status_code, response["Location"]) == (302, decision), page
    htmx = client.get("/explore", headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == decision
    api = [
        ("/api/creations", {"type": "image", "prompt": "a cat"}),
        (f"/api/posts/{bobs.id}/like", {}),
        (f"/api/posts/{bobs.id}/comments", {"text": "hello"}),
        ("/api/users/bob/follow", {}),
        (f"/api/posts/{bobs.id}/reports", {"category": "spam"}),
    ]
    for url, body in api:
        response = client.post(url, json.dumps(body), content_type="application/json")
        assert response.status_code == 403, url
        assert response.json()["error"] == "account_suspended", url
    assert client.get("/api/creations").status_code == 403
    assert client.post(f"/p/{bobs.id}/like", {"like": "1"}).status_code == 403

    assert Creation.objects.filter(owner=alice).count() == creations_before
    bobs.refresh_from_db()
    assert (bobs.like_count, bobs.comment_count) == (0, 0)
    # Its notices and signing out stay open.
    assert client.get("/notifications").status_code == 200
    assert client.get("/notifications/bell").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get(decision).status_code == 302  # to the log-in now


def test_the_wrong_password_still_fails(suspension):
    client = Client()
    response = client.post("/accounts/login/", {"username": "alice", "password": "wrong-one"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_an_account_made_inactive_some_other_way_still_cannot_sign_in(alice, bob):
    member_deactivate(user_id=bob.pk)  # staff, in the admin
    response = Client().post(
        "/accounts/login/", {"username": "bob", "password": "bob-password-123"}
    )
    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_a_reversed_suspension_makes_the_account_active_again(
    alice, post, suspension, second_moderator
):
    client = signed_in()
    services.appeal_file(user=alice, action_id=suspension.pk, text="Not spam.")

    decided = services.appeal_decide(
        action_id=suspension.pk, staff=second_moderator, reverse=True, note=""
    )

    assert decided.reactivated
    alice.refresh_from_db()
    assert alice.is_active
    assert Creation.objects.public().filter(pk=post.pk).exists()
    assert client.get("/create").status_code == 200  # the same session, the whole site
    words = client.get("/api/notifications").json()["notifications"]
    assert any("your account is active again" in n["text"] for n in words)


def test_the_suspension_and_likes_leave_and_come_back_with_the_account(
    alice, bob, second_moderator, moderator, make_creation
):
    bobs = make_creation(owner=bob, status="published")
    alices = make_creation(owner=alice, status="published")
    community.post_like(user=alice, post_id=bobs.id)
    report = services.report_file(
        reporter=bob, target="post", item_id=alices.id, category="spam", note=""
    )
    action = services.case_decide(
        case_id=report.case_id, staff=moderator, kind="suspend", reason="Spam."
    )
    assert Creation.objects.get(pk=bobs.pk).like_count == 0
    services.appeal_file(user=alice, action_id=action.pk, text="No.")
    services.appeal_decide(action_id=action.pk, staff=second_moderator, reverse=True, note="")
    assert Creation.objects.get(pk=bobs.pk).like_count == 1


def test_upholding_keeps_the_account_suspended(alice, suspension, second_moderator):
    services.appeal_file(user=alice, action_id=suspension.pk, text="Not spam.")
    decided = services.appeal_decide(
        action_id=suspension.pk, staff=second_moderator, reverse=False, note="It was spam."
    )
    assert not decided.reactivated
    alice.refresh_from_db()
    assert not alice.is_active
    page = signed_in().get(f"/moderation/decisions/{suspension.pk}").content.decode()
    assert "Decision upheld" in page and "It was spam." in page


def test_a_session_from_before_the_suspension_ends_with_it(alice, bob, post, moderator):
    before = client_for(alice)
    report = services.report_file(
        reporter=bob, target="post", item_id=post.id, category="spam", note=""
    )
    action = services.case_decide(
        case_id=report.case_id, staff=moderator, kind="suspend", reason="Spam."
    )
    response = post_json(before, f"/api/moderation-actions/{action.pk}/appeal", {"text": "x"})
    assert response.status_code == 401
    assert not Appeal.objects.exists()
