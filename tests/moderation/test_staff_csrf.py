"""Every POST of the moderation pages needs the CSRF token (the staff pages are left out
of tests/security's URL walk, which covers everyone's pages)."""

import pytest
from django.test import Client

from creations.models import Creation
from moderation import services
from moderation.models import Action, Appeal, Case, CaseNote

from .conftest import make_staff


@pytest.fixture
def appealed(alice, bob, post, moderator):
    report = services.report_file(
        reporter=bob, target="post", item_id=post.id, category="spam", note=""
    )
    action = services.case_decide(
        case_id=report.case_id, staff=moderator, kind="warn", reason="Mind it."
    )
    services.appeal_file(user=alice, action_id=action.pk, text="No.")
    other = services.report_file(
        reporter=bob, target="post", item_id=post.id, category="hate", note=""
    )
    return action, other.case


def test_moderation_posts_without_the_token_are_refused(appealed):
    action, case = appealed
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("otto"))
    urls = {
        f"/staff/moderation/cases/{case.pk}/assign": {},
        f"/staff/moderation/cases/{case.pk}/notes": {"text": "x"},
        f"/staff/moderation/cases/{case.pk}/decide": {"kind": "take_down", "reason": "x"},
        f"/staff/appeals/{action.pk}/decide": {"outcome": "reverse"},
    }
    for url, data in urls.items():
        assert client.post(url, data).status_code == 403, url
    case.refresh_from_db()
    assert case.assignee is None and case.is_open
    assert not CaseNote.objects.exists()
    assert Action.objects.count() == 1
    assert Appeal.objects.get().status == "open"
    assert Creation.objects.get().status == "published"
    assert Case.objects.filter(status="open").count() == 1
