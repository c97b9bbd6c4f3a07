"""The media view: ranges for video seeking, staff preview, and nobody else's drafts."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage
from django.utils import timezone


@pytest.fixture
def draft_video(make_creation, alice):
    creation = make_creation(owner=alice, kind="video", status="draft")
    # 1,000 bytes that start like an MP4, so ranges have something to cut.
    with open(default_storage.path(creation.media.name), "wb") as handle:
        handle.write(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 3 + b"x" * 220)
    return creation


def media_of(creation) -> str:
    return f"/media/creations/{creation.id}/media"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_owner_gets_the_whole_file_with_accept_ranges(alice_client, draft_video):
    response = alice_client.get(media_of(draft_video))
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    content = body(response)
    assert int(response["Content-Length"]) == len(content) == 1000
    assert content[4:8] == b"ftyp"
    # A draft's file is kept by no cache, not even the browser's.
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=0-99", 0, 99), ("bytes=100-", 100, None), ("bytes=-50", None, None)],
)
def test_a_range_request_gets_206_with_exactly_those_bytes(
    alice_client, draft_video, header, first, last
):
    whole = body(alice_client.get(media_of(draft_video)))
    response = alice_client.get(media_of(draft_video), headers={"Range": header})
    assert response.status_code == 206
    expected = whole[-50:] if first is None else whole[first : (last + 1 if last else None)]
    assert body(response) == expected
    start = len(whole) - 50 if first is None else first
    assert response["Content-Range"] == f"bytes {start}-{start + len(expected) - 1}/{len(whole)}"


def test_a_range_past_the_end_is_416(alice_client, draft_video):
    response = alice_client.get(media_of(draft_video), headers={"Range": "bytes=99999999-"})
    assert response.status_code == 416


def test_staff_with_the_view_permission_may_preview_a_draft(client, draft_video, django_user_model):
    staff = django_user_model.objects.create_user("sam", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get(media_of(draft_video)).status_code == 404

    staff.user_permissions.add(Permission.objects.get(codename="view_creation"))
    staff = django_user_model.objects.get(pk=staff.pk)  # fresh permission cache
    client.force_login(staff)
    assert client.get(media_of(draft_video)).status_code == 200


def test_a_creator_is_warned_about_a_draft_that_expires_soon(
    alice_client, alice, draft_video, settings
):
    from creations.models import Creation

    old = timezone.now() - timedelta(days=settings.PHOENIX_DRAFT_TTL_DAYS - 1)
    Creation.objects.filter(pk=draft_video.pk).update(draft_at=old, created_at=old)
    response = alice_client.get(f"/creations/{draft_video.id}/card")
    assert b"publish it to keep it" in response.content
