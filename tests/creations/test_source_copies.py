"""The copies of a still a video starts from: cleaned up when storing fails, dropped by
housekeeping from failed and canceled videos after PHOENIX_SOURCE_COPY_DAYS, not used once
the image they were copied from is taken down; Animate records its image as the parent."""

import json
import re
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from creations import image_input, services
from creations.jobs import housekeeping
from creations.models import Creation
from tests.conftest import files_in
from tests.creations.test_rerun import money_snapshot, rerun

URL = "/api/generate/creation"
HTMX = {"HX-Request": "true"}


def animate(client, image, capture, **more):
    body = {"type": "video", "prompt": "move", "orientation": "landscape"}
    body.update(image_creation_id=str(image.id), **more)
    with capture(execute=True):
        return client.post(URL, json.dumps(body), "application/json")


def test_animate_records_the_image_as_the_videos_parent(
    alice_client, alice, make_creation, private_media, django_capture_on_commit_callbacks
):
    image = make_creation(owner=alice, status="draft", kind="image")
    response = animate(alice_client, image, django_capture_on_commit_callbacks)
    assert response.status_code == 202
    assert response.json()["parent_id"] == str(image.id)
    video = Creation.objects.get(pk=response.json()["creation_id"])
    assert (video.parent_id, video.source_creation_id) == (image.id, image.id)


def test_a_storage_failure_on_a_later_copy_leaves_no_copy_and_no_debit(
    alice_client, alice, make_creation, private_media, monkeypatch
):
    image = make_creation(owner=alice, status="draft", kind="image")
    real_store = image_input.store_source_image
    calls = []

    def store_then_fail(content):
        calls.append(1)
        if len(calls) > 1:
            raise OSError("disk full")
        return real_store(content)

    monkeypatch.setattr(image_input, "store_source_image", store_then_fail)
    before = money_snapshot(alice)
    files_before = set(files_in(private_media))

    body = {"type": "video", "prompt": "move", "orientation": "landscape", "count": 2}
    body["image_creation_id"] = str(image.id)
    response = alice_client.post(URL, json.dumps(body), "application/json")

    assert response.status_code == 503
    assert response.json()["error"] == "storage_unavailable"
    assert "nothing was charged" in response.json()["message"]
    assert money_snapshot(alice) == before
    assert set(files_in(private_media)) == files_before


def failed_video_from(client, image, capture) -> Creation:
    response = animate(client, image, capture)
    assert response.status_code == 202
    video = Creation.objects.get(pk=response.json()["creation_id"])
    services.creation_fail(creation=video, code="generation_failed")
    video.refresh_from_db()
    assert video.status == "failed" and video.source_image.name
    return video


def test_a_video_whose_image_was_taken_down_cannot_be_run_again_from_its_copy(
    alice_client,
    alice,
    make_creation,
    admin_user,
    private_media,
    django_capture_on_commit_callbacks,
):
    image = make_creation(owner=alice, status="published", kind="image")
    video = failed_video_from(alice_client, image, django_capture_on_commit_callbacks)
    # A rerun of the video keeps where its still came from.
    with django_capture_on_commit_callbacks(execute=True):
        child = rerun(alice_client, video, mode="new_seed")
    assert child.status_code == 202
    rerun_child = Creation.objects.get(pk=child.json()["creation_id"])
    assert rerun_child.source_creation_id == image.id
    services.creation_fail(creation=rerun_child, code="generation_failed")

    services.creation_take_down(creation=image, staff=admin_user, reason="judged")
    before = money_snapshot(alice)

    for source in (video, rerun_child):
        response = rerun(alice_client, source, mode="same_seed")
        assert (response.status_code, response.json()["error"]) == (409, "source_taken_down")
        assert "taken down" in response.json()["message"]
    assert money_snapshot(alice) == before


def test_housekeeping_drops_old_copies_of_failed_and_canceled_videos_then_rerun_says_so(
    alice_client,
    alice,
    make_creation,
    private_media,
    settings,
    django_capture_on_commit_callbacks,
):
    image = make_creation(owner=alice, status="draft", kind="image")
    old = failed_video_from(alice_client, image, django_capture_on_commit_callbacks)
    recent = failed_video_from(alice_client, image, django_capture_on_commit_callbacks)
    now = timezone.now()
    long_ago = now - timedelta(days=settings.PHOENIX_SOURCE_COPY_DAYS, hours=1)
    Creation.objects.filter(pk=old.pk).update(failed_at=long_ago)
    old_copy = old.source_image.name

    with django_capture_on_commit_callbacks(execute=True):
        assert housekeeping.source_copies_drop(now=now) == 1
    assert housekeeping.source_copies_drop(now=now) == 0  # twice is harmless

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.source_image.name == "" and old.source_image_dropped_at is not None
    assert not default_storage.exists(old_copy)
    assert default_storage.exists(recent.source_image.name)
    before = money_snapshot(alice)
    response = rerun(alice_client, old, mode="same_seed")
    assert (response.status_code, response.json()["error"]) == (409, "source_image_gone")
    assert money_snapshot(alice) == before
    with django_capture_on_commit_callbacks(execute=True):
        assert rerun(alice_client, recent, mode="same_seed").status_code == 202


def test_housekeeping_keeps_the_copy_of_a_video_with_media(
    alice_client,
    alice,
    make_creation,
    private_media,
    settings,
    django_capture_on_commit_callbacks,
):
    image = make_creation(owner=alice, status="draft", kind="image")
    response = animate(alice_client, image, django_capture_on_commit_callbacks)
    video = Creation.objects.get(pk=response.json()["creation_id"])
    later = timezone.now() + timedelta(days=settings.PHOENIX_SOURCE_COPY_DAYS + 1)
    assert housekeeping.source_copies_drop(now=later) == 0
    video.refresh_from_db()
    assert video.source_image.name and default_storage.exists(video.source_image.name)


@pytest.mark.django_db
def test_dropping_copies_is_scheduled_daily_on_housekeeping():
    from tests.test_schedule import scheduled_jobs

    job = scheduled_jobs()["creations.jobs.entrypoints.drop_source_copies_job"]
    assert job.queue_name == "housekeeping" and job.cron


def try_again_form(html: str) -> tuple[str, dict[str, str]]:
    """Where the card's Try again posts (its hx-post) and its hidden fields."""
    form = html[: html.index("Try again ·")]
    form = form[form.rindex("<form") :]
    action = re.search(r'hx-post="([^"]+)"', form).group(1)
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    return action, {name: value for name, value in fields if name != "csrfmiddlewaretoken"}


def test_try_again_on_a_failed_video_started_from_a_still_starts_from_that_still(
    alice_client, alice, make_creation, private_media, django_capture_on_commit_callbacks
):
    """Before: Try again posted only the type, prompt and orientation: 10 tokens for a
    video from nothing, the still forgotten."""
    image = make_creation(owner=alice, status="draft", kind="image")
    video = failed_video_from(alice_client, image, django_capture_on_commit_callbacks)
    html = alice_client.get(f"/creations/{video.id}/card", headers=HTMX).content.decode()
    action, fields = try_again_form(html)

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(action, fields, headers=HTMX)

    assert response.status_code == 202
    again = Creation.objects.get(pk=response.json()["creation_id"])
    assert (again.kind, again.prompt, again.source_creation_id) == ("video", "move", image.id)
    assert again.source_image.name not in ("", video.source_image.name)
    assert image_input.read_stored(again.source_image.name) == image_input.read_stored(
        video.source_image.name
    )


def test_a_failed_video_whose_still_was_dropped_offers_no_try_again(
    alice_client, alice, make_creation, private_media, settings, django_capture_on_commit_callbacks
):
    image = make_creation(owner=alice, status="draft", kind="image")
    video = failed_video_from(alice_client, image, django_capture_on_commit_callbacks)
    later = timezone.now() + timedelta(days=settings.PHOENIX_SOURCE_COPY_DAYS + 1)
    assert housekeeping.source_copies_drop(now=later) == 1

    html = alice_client.get(f"/creations/{video.id}/card", headers=HTMX).content.decode()

    assert "Try again" not in html
    assert "Run again" not in html
