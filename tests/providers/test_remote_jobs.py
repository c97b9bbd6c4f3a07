"""Remote providers chosen by settings, through the real job path: the create endpoint, Redis,
an in-process RQ worker, PostgreSQL and the default storage."""

import base64
import io
import json
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from PIL import Image

from creations import queues
from creations.jobs import entrypoints, remote
from creations.models import Creation
from tests.conftest import run_worker_burst
from tests.providers.conftest import OPENAI_KEY, RUNWAY_KEY, png_bytes

pytestmark = pytest.mark.django_db(transaction=True)

PROVIDER_TEXT = "Your prompt was flagged: internal classifier sexual/minors score 0.98"


def create(client, **fields) -> Creation:
    response = client.post(
        "/api/generate/creation", data=json.dumps(fields), content_type="application/json"
    )
    assert response.status_code == 202, response.content
    return Creation.objects.get(pk=response.json()["creation_id"])


def status_json(client, creation: Creation) -> str:
    response = client.get(f"/api/creations/{creation.id}")
    assert response.status_code == 200
    return response.content.decode()


def refunds(creation: Creation) -> int:
    return creation.ledger_entries.filter(kind="refund").count()


def stored(name: str) -> Path:
    return Path(django_settings.MEDIA_ROOT) / name


def test_an_openai_image_becomes_a_draft(alice, alice_client, openai_api, settings):
    settings.PHOENIX_IMAGE_PROVIDER = "openai"
    openai_api.expect_request("/v1/images/generations").respond_with_json(
        {"created": 1, "data": [{"b64_json": base64.b64encode(png_bytes(1536, 1024)).decode()}]}
    )
    creation = create(alice_client, type="image", prompt="a lighthouse", aspect_ratio="16:9")

    run_worker_burst()

    creation.refresh_from_db()
    assert creation.status == "draft"
    assert (creation.width, creation.height) == (1536, 1024)
    assert Image.open(stored(creation.media.name)).size == (1536, 1024)
    assert "lighthouse" not in creation.media.name
    assert refunds(creation) == 0


def test_an_openai_moderation_block_fails_with_one_refund_and_no_provider_text(
    alice, alice_client, openai_api, settings
):
    settings.PHOENIX_IMAGE_PROVIDER = "openai"
    openai_api.expect_request("/v1/images/generations").respond_with_json(
        {
            "error": {
                "message": f"{PROVIDER_TEXT} (key {OPENAI_KEY})",
                "type": "image_generation_user_error",
                "param": None,
                "code": "moderation_blocked",
            }
        },
        status=400,
    )
    creation = create(alice_client, type="image", prompt="something flagged", aspect_ratio="1:1")

    run_worker_burst()

    creation.refresh_from_db()
    assert (creation.status, creation.error_code) == ("failed", "safety_filter")
    assert refunds(creation) == 1
    assert len(openai_api.log) == 1  # a safety block is never retried
    alice.token_account.refresh_from_db()
    assert alice.token_account.balance == 100
    shown = status_json(alice_client, creation)
    assert "safety filter" in shown
    assert PROVIDER_TEXT not in shown and OPENAI_KEY not in shown


def check_remote_tasks() -> dict:
    """One run of the periodic check, as rqcron sends it (a job on the light queue), an
    interval after the last one."""
    connection = queues.get_queue("light").connection
    connection.delete(remote.CHECK_LAST)  # the interval since the last has passed
    job = queues.get_queue("light").enqueue(entrypoints.check_remote_tasks)
    run_worker_burst()
    return job.return_value()


def test_a_runway_video_becomes_a_draft_with_poster_and_duration(
    alice, alice_client, runway_api, settings, fake_mp4
):
    settings.PHOENIX_VIDEO_PROVIDER = "runway"
    task = "/v1/tasks/task-1"
    runway_api.expect_request("/v1/text_to_video", method="POST").respond_with_json(
        {"id": "task-1"}
    )
    runway_api.expect_oneshot_request(task).respond_with_json(
        {"id": "task-1", "status": "RUNNING", "progress": 0.5}
    )
    runway_api.expect_request(task).respond_with_json(
        {"id": "task-1", "status": "SUCCEEDED", "output": [runway_api.url_for("/out/v.mp4")]}
    )
    runway_api.expect_request("/out/v.mp4").respond_with_data(fake_mp4, content_type="video/mp4")
    creation = create(alice_client, type="video", prompt="waves", orientation="landscape")

    run_worker_burst()  # the job submits and returns
    creation.refresh_from_db()
    assert (creation.status, creation.provider_task_id, creation.progress) == (
        "processing",
        "task-1",
        2,
    )
    assert check_remote_tasks()["running"] == 1
    creation.refresh_from_db()
    assert creation.progress == 2 + 88 // 2  # reaches the card
    assert check_remote_tasks()["succeeded"] == 1  # and sends the fetch, run by this burst

    creation.refresh_from_db()
    assert creation.status == "draft"
    assert stored(creation.media.name).read_bytes() == fake_mp4
    poster = Image.open(io.BytesIO(stored(creation.poster.name).read_bytes()))
    assert poster.format == "JPEG"
    assert (creation.width, creation.height) == poster.size == (256, 144)
    assert creation.duration_seconds == pytest.approx(1.0, abs=0.1)
    assert (creation.progress, refunds(creation)) == (100, 0)
    assert [r.path for r, _ in runway_api.log].count("/out/v.mp4") == 1


def test_a_runway_safety_failure_fails_with_one_refund_and_no_provider_text(
    alice, alice_client, runway_api, settings
):
    settings.PHOENIX_VIDEO_PROVIDER = "runway"
    runway_api.expect_request("/v1/text_to_video", method="POST").respond_with_json(
        {"id": "task-2"}
    )
    runway_api.expect_request("/v1/tasks/task-2").respond_with_json(
        {
            "id": "task-2",
            "status": "FAILED",
            "failure": f"{PROVIDER_TEXT} {RUNWAY_KEY}",
            "failureCode": "SAFETY.INPUT.TEXT",
        }
    )
    creation = create(
        alice_client, type="video", prompt="something flagged", orientation="portrait"
    )

    run_worker_burst()
    check_remote_tasks()
    check_remote_tasks()

    creation.refresh_from_db()
    assert (creation.status, creation.error_code) == ("failed", "safety_filter")
    assert refunds(creation) == 1
    alice.token_account.refresh_from_db()
    assert alice.token_account.balance == 100
    shown = status_json(alice_client, creation)
    assert PROVIDER_TEXT not in shown and RUNWAY_KEY not in shown


def test_a_runway_video_from_an_upload_sends_the_still_and_the_seed(
    alice, alice_client, runway_api, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.PHOENIX_VIDEO_PROVIDER = "runway"
    runway_api.expect_request("/v1/image_to_video", method="POST").respond_with_json(
        {"id": "task-2"}
    )
    still = SimpleUploadedFile("still.png", png_bytes(64, 36), content_type="image/png")
    response = alice_client.post(
        "/api/generate/creation",
        {
            "type": "video",
            "prompt": "waves",
            "orientation": "landscape",
            "seed": "99",
            "image": still,
        },
    )
    assert response.status_code == 202, response.content
    creation = Creation.objects.get(pk=response.json()["creation_id"])

    run_worker_burst()  # the job submits and returns

    creation.refresh_from_db()
    assert (creation.status, creation.provider_task_id) == ("processing", "task-2")
    (submit,) = [r for r, _ in runway_api.log if r.path == "/v1/image_to_video"]
    sent = json.loads(submit.get_data())
    assert (sent["model"], sent["seed"], sent["promptText"]) == ("gen4_turbo", 99, "waves")
    prefix = "data:image/png;base64,"
    assert sent["promptImage"].startswith(prefix)
    image = base64.b64decode(sent["promptImage"].removeprefix(prefix))
    assert image == stored(creation.source_image.name).read_bytes()
    assert Image.open(io.BytesIO(image)).size == (64, 36)
    assert not [r for r, _ in runway_api.log if r.path == "/v1/text_to_video"]
