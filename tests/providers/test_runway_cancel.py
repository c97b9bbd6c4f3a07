"""Canceling a Runway creation reaches Runway: the job records the task's id as soon as
Runway gives it, and the cancel sends DELETE /v1/tasks/<id> once (Runway bills running
tasks)."""

import json

import pytest
from werkzeug import Response

from creations import services
from creations.jobs import generation, remote
from creations.models import Creation
from tests.conftest import run_worker_burst
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


def test_canceling_a_generating_runway_video_deletes_its_task_once_and_nothing_follows(
    alice, make_creation, runway_task
):
    creation = make_creation(owner=alice, status="pending", kind="video")
    assert generation.creation_generate(creation_id=creation.id) == "submitted"
    assert Creation.objects.get(pk=creation.pk).provider_task_id == TASK_ID
    assert deletes(runway_task) == []

    canceled = services.creation_cancel(creation=Creation.objects.get(pk=creation.pk))
    # The cancel answered without waiting for Runway: a job of its own calls it.
    assert deletes(runway_task) == []
    # The periodic check no longer looks at it, and a fetch sent before the cancel
    # finds it unwanted.
    assert remote.remote_tasks_check()["running"] == 0
    assert remote.remote_result_fetch(creation_id=creation.id, output_url="http://x/") == (
        "not_wanted"
    )
    run_worker_burst()

    (delete,) = deletes(runway_task)
    assert delete.path == TASK
    assert delete.headers["Authorization"] == f"Bearer {RUNWAY_KEY}"
    assert (canceled.refunded, canceled.balance) == (10, 100)
    creation.refresh_from_db()
    assert (creation.status, creation.error_code, creation.media.name) == ("canceled", "", "")
    assert creation.ledger_entries.filter(kind="refund").count() == 1


def test_a_cancel_between_submit_and_record_still_deletes_the_task(
    alice, make_creation, runway_task, monkeypatch
):
    """The cancel cannot know a task whose id is not recorded yet: the job, finding the
    creation canceled when it records the id, deletes the task itself."""
    creation = make_creation(owner=alice, status="pending", kind="video")
    real_record = services.submission_record_task

    def cancel_first(*, creation, submission, task_id):
        services.creation_cancel(creation=Creation.objects.get(pk=creation.pk))
        return real_record(creation=creation, submission=submission, task_id=task_id)

    monkeypatch.setattr(services, "submission_record_task", cancel_first)
    assert generation.creation_generate(creation_id=creation.id) == "discarded"

    assert [d.path for d in deletes(runway_task)] == [TASK]
    creation.refresh_from_db()
    assert (creation.status, creation.provider_task_id) == ("canceled", "")
    assert creation.ledger_entries.filter(kind="refund").count() == 1


def test_canceling_a_pending_runway_video_calls_no_one(alice, make_creation, runway_task):
    creation = make_creation(owner=alice, status="pending", kind="video")

    services.creation_cancel(creation=creation)

    assert runway_task.log == []
    assert generation.creation_generate(creation_id=creation.id) == "not_claimed"
    assert runway_task.log == []


def test_with_redis_refusing_the_job_the_cancel_calls_runway_itself(
    alice, make_creation, runway_task, settings
):
    creation = make_creation(owner=alice, status="pending", kind="video")
    assert generation.creation_generate(creation_id=creation.id) == "submitted"
    from creations import queues

    settings.RQ_QUEUES = {
        name: {**config, "URL": "redis://127.0.0.1:1/0"}
        for name, config in settings.RQ_QUEUES.items()
    }
    queues.reset()

    canceled = services.creation_cancel(creation=Creation.objects.get(pk=creation.pk))

    (delete,) = deletes(runway_task)
    assert delete.path == TASK
    assert canceled.refunded == 10
