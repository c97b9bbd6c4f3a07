"""The alert on create -> cancel loops: an account whose cancels after provider submission
(a task id recorded: the provider bills, the creator is refunded) reach
PHOENIX_ALERT_CANCELS_AFTER_SUBMIT in the alert window fires `cancels_after_submit`,
naming the account; read with one grouped query, however many creations there are."""

from datetime import timedelta

import pytest
from django.utils import timezone

from creations import services
from creations.models import Creation, ProviderSubmission
from ops import alerting, figures
from ops.models import Incident
from tests.conftest import creator_signup

from .conftest import creation_in_state

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def threshold(settings):
    settings.PHOENIX_ALERT_CANCELS_AFTER_SUBMIT = 3
    settings.PHOENIX_ALERT_WINDOW = "1h"
    settings.PHOENIX_ALERT_EMAILS = []
    settings.PHOENIX_ALERT_WEBHOOK_URL = ""
    return settings


def cancel_after_submit(owner, *, task: bool = True, ago: timedelta | None = None) -> Creation:
    creation = creation_in_state(owner=owner, kind="video", status="processing")
    if task:
        Creation.objects.filter(pk=creation.pk).update(provider_task_id=f"task-{creation.pk.hex}")
        creation.refresh_from_db()
    services.creation_cancel(creation=creation)
    if ago is not None:
        Creation.objects.filter(pk=creation.pk).update(canceled_at=timezone.now() - ago)
    return creation


def check(snapshot) -> figures.Check:
    return next(c for c in snapshot.checks if c.name == "cancels_after_submit")


def test_an_account_canceling_after_submission_fires_the_alert_naming_it(threshold, alice, bob):
    mallory = creator_signup(username="mallory", password="mallory-password-123")
    for _ in range(3):
        cancel_after_submit(mallory)
    for _ in range(2):
        cancel_after_submit(alice)  # under the threshold
    for _ in range(4):
        cancel_after_submit(bob, task=False)  # canceled before reaching the provider
    cancel_after_submit(alice, ago=timedelta(hours=2))  # outside the window

    result = check(figures.collect(window="1h"))

    assert result.firing
    assert result.detail == "mallory: 3 canceled after submission"
    assert "alice" not in result.detail and "bob" not in result.detail
    assert alerting.alerts_run()["firing"] == ["cancels_after_submit"]
    assert Incident.objects.get().detail == "mallory: 3 canceled after submission"


def test_under_the_threshold_or_off_it_does_not_fire(threshold, alice):
    for _ in range(2):
        cancel_after_submit(alice)
    assert not check(figures.collect(window="1h")).firing

    cancel_after_submit(alice)
    threshold.PHOENIX_ALERT_CANCELS_AFTER_SUBMIT = 0
    assert not check(figures.collect(window="1h")).firing


def test_the_figure_is_one_query_for_3_or_30_cancels(threshold, alice, django_assert_num_queries):
    since = timezone.now() - timedelta(hours=1)
    for _ in range(3):
        cancel_after_submit(alice)
    with django_assert_num_queries(1):
        assert figures.heavy_cancelers(since=since, threshold=3) == [("alice", 3)]
    for _ in range(27):
        cancel_after_submit(alice)
    with django_assert_num_queries(1):
        assert figures.heavy_cancelers(since=since, threshold=3) == [("alice", 30)]


def test_staff_see_possibly_submitted_tasks_in_the_admin(alice, staff_user, client):
    creation = creation_in_state(owner=alice, kind="video", status="processing")
    orphan = ProviderSubmission.objects.create(
        creation=creation, state=ProviderSubmission.State.POSSIBLY_SUBMITTED
    )
    ProviderSubmission.objects.create(creation=creation, task_id="task-seen")
    client.force_login(staff_user("creations.view_providersubmission"))

    response = client.get("/admin/creations/providersubmission/", {"state": "possibly_submitted"})

    assert response.status_code == 200
    html = response.content.decode()
    assert f"/admin/creations/providersubmission/{orphan.pk}/change/" in html
    assert "task-seen" not in html
