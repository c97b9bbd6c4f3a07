"""Canceling a Runway creation reaches Runway: the job records the task's id as soon as
Runway gives it, and the cancel sends DELETE /v1/tasks/<id> (Runway bills running tasks)."""

import json
import threading

import pytest
from django.db import connection
from werkzeug import Response

from creations import generation, services
from creations.models import Creation
from tests.conftest import wait_for
from tests.providers.conftest import RUNWAY_KEY

pytestmark = pytest.mark.django_db(transaction=True)

TASK_ID = "0b9f6a52-2f43-4a3c-8a3e-5f1d1c7e9d10"
TASK = f"/v1/tasks/{TASK_ID}"


def deletes(server) -> list:
    return [request for request, _ in server.log if request.method == "DELETE"]


@pytest.fixture
def runway_task(runway_api, settings):
    """A Runway task that runs until it is deleted, then reads CANCELLED, as Runway's does."""
    settings.PHOENIX_VIDEO_PROVIDER = "runway"
    runway_api.expect_request("/v1/text_to_video", method="POST").respond_with_json({"id": TASK_ID})

    def task(request):
        if deletes(runway_api):
            body = {"id": TASK_ID, "status": "CANCELLED"}
        else:
            body = {"id": TASK_ID, "status": "RUNNING", "progress": 0.1}
        return Response(json.dumps(body), status=200, content_type="application/json")

    runway_api.expect_request(TASK, method="GET").respond_with_handler(task)
    runway_api.expect_request(TASK, method="DELETE").respond_with_data("", status=204)
    return runway_api


def test_canceling_a_generating_runway_video_deletes_its_task_and_the_job_ends_discarded(
    alice, make_creation, runway_task
):
    creation = make_creation(owner=alice, status="pending", kind="video")
    outcome = []

    def run_the_job() -> None:
        try:
            outcome.append(generation.creation_generate(creation_id=creation.id))
        finally:
            connection.close()

    job = threading.Thread(target=run_the_job)
    job.start()
    try:
        wait_for(
            lambda: Creation.objects.get(pk=creation.pk).provider_task_id == TASK_ID,
            timeout=10,
            what="the job to record Runway's task id",
        )
        assert deletes(runway_task) == []

        canceled = services.creation_cancel(creation=Creation.objects.get(pk=creation.pk))
    finally:
        job.join(timeout=20)

    assert not job.is_alive()
    assert outcome == ["discarded"]
    (delete,) = deletes(runway_task)
    assert delete.path == TASK
    assert delete.headers["Authorization"] == f"Bearer {RUNWAY_KEY}"
    assert (canceled.refunded, canceled.balance) == (10, 100)
    creation.refresh_from_db()
    assert (creation.status, creation.error_code, creation.media.name) == ("canceled", "", "")
    assert creation.ledger_entries.filter(kind="refund").count() == 1


def test_canceling_a_pending_runway_video_calls_no_one(alice, make_creation, runway_task):
    creation = make_creation(owner=alice, status="pending", kind="video")

    services.creation_cancel(creation=creation)

    assert runway_task.log == []
    assert generation.creation_generate(creation_id=creation.id) == "not_claimed"
    assert runway_task.log == []
