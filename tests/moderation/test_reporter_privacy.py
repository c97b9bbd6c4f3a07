"""A report by a stranger never reveals the reporter to the person reported: not in the
API's answers, the notifications (bell, page, e-mail), the pages, nor their data export —
whatever was decided."""

import json

import pytest
from django.core import mail

from accounts.services import export_data
from moderation import services
from moderation.models import Report
from profiles.models import ConfirmedEmail
from tests.conftest import run_worker_burst

from .conftest import client_for, post_json

NAME = "zedreporter"


def everything_alice_can_read(alice, post, action) -> str:
    creator = client_for(alice)
    urls = [
        "/api/notifications",
        "/notifications",
        f"/p/{post.pk}",
        f"/api/creations/{post.pk}",
        "/soho/alice",
        "/moderation/reports",
    ]
    if action is not None:
        urls.append(f"/moderation/decisions/{action.pk}")
    parts = []
    for url in urls:
        response = creator.get(url)
        assert response.status_code == 200, url
        parts.append(response.content.decode())
    parts.append(json.dumps(export_data(alice), default=str))
    parts.extend(f"{m.subject}\n{m.body}" for m in mail.outbox)
    return "\n".join(parts)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["take_down", "warn", "dismiss"])
def test_the_reported_creator_never_learns_who_reported(alice, zed, moderator, make_creation, kind):
    alice.email = "alice@example.com"
    alice.save(update_fields=["email"])
    ConfirmedEmail.objects.create(user=alice, address="alice@example.com")
    post = make_creation(owner=alice, status="published", caption="My fox")
    response = post_json(
        client_for(zed), f"/api/posts/{post.id}/reports", {"category": "hate", "note": "zed says"}
    )
    assert response.status_code == 201
    assert NAME not in everything_alice_can_read(alice, post, None)

    action = services.case_decide(
        case_id=Report.objects.get().case_id,
        staff=moderator,
        kind=kind,
        reason="Decided.",
    )
    run_worker_burst()

    seen = everything_alice_can_read(alice, post, action if kind != "dismiss" else None)
    assert NAME not in seen and "zed says" not in seen
    if kind != "dismiss":
        assert "Decided." in seen  # the reason reaches her; the reporter does not
        assert mail.outbox, "the decision is e-mailed"


def test_the_reported_commenter_reads_the_decision_not_the_report(
    alice, bob, shared_comment, moderator
):
    report = services.report_file(
        reporter=bob,
        target="comment",
        item_id=shared_comment.id,
        category="spam",
        note="a note only staff read",
    )
    action = services.case_decide(
        case_id=report.case_id, staff=moderator, kind="warn", reason="Mind the spam."
    )
    creator = client_for(alice)
    decision = creator.get(f"/moderation/decisions/{action.pk}").content.decode()
    told = creator.get("/api/notifications").content.decode()
    assert "Mind the spam." in decision and "Mind the spam." in told
    for seen in (decision, told):
        assert "a note only staff read" not in seen
        assert "bob" not in seen and "mona" not in seen  # neither reporter nor moderator
