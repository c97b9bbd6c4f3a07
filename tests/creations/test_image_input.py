"""A video that starts from a still: an upload (checked by content before any debit,
re-encoded without metadata, stored privately) or one of the creator's own images."""

import io
import json

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from creations import image_input
from creations.models import Creation
from profiles.services import creator_signup
from tests.conftest import queued_job_ids, run_worker_burst
from tokens.models import LedgerEntry

URL = "/api/generate/creation"
VIDEO = {"type": "video", "prompt": "the sea starts to move", "orientation": "landscape"}


def encoded(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def money_snapshot(user) -> tuple:
    user.token_account.refresh_from_db()
    return (
        user.token_account.balance,
        LedgerEntry.objects.count(),
        Creation.objects.count(),
        tuple(queued_job_ids()),
    )


def a_text_file_named_png() -> SimpleUploadedFile:
    return upload("photo.png", b"just some words, not a picture\n" * 10)


def a_20000_px_png() -> SimpleUploadedFile:
    # 1-bit, so it is small to make and to send; 400 million pixels once decoded.
    return upload("huge.png", encoded(Image.new("1", (20_000, 20_000))))


def a_wide_20000_px_png() -> SimpleUploadedFile:
    return upload("wide.png", encoded(Image.new("RGB", (20_000, 2))))


def a_file_over_10_mb(megabytes: float = 10.5) -> SimpleUploadedFile:
    head = encoded(Image.new("RGB", (8, 8), (10, 20, 30)))
    return upload("big.png", head + b"\0" * int(megabytes * 1024 * 1024))


def a_12_mb_file() -> SimpleUploadedFile:
    return a_file_over_10_mb(12)


def a_truncated_jpeg() -> SimpleUploadedFile:
    whole = encoded(Image.effect_noise((256, 256), 64).convert("RGB"), "JPEG", quality=90)
    return upload("cut.jpg", whole[: len(whole) // 2], "image/jpeg")


def a_gif() -> SimpleUploadedFile:
    return upload("anim.png", encoded(Image.new("RGB", (8, 8)), "GIF"))


@pytest.mark.parametrize(
    "make,code",
    [
        (a_text_file_named_png, "invalid_image"),
        (a_20000_px_png, "image_too_big"),
        (a_wide_20000_px_png, "image_too_big"),
        (a_file_over_10_mb, "image_too_large"),
        (a_truncated_jpeg, "invalid_image"),
        (a_gif, "invalid_image"),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_a_bad_upload_is_refused_with_400_and_nothing_is_debited(
    alice_client, alice, make, code, private_media
):
    before = money_snapshot(alice)
    response = alice_client.post(URL, {**VIDEO, "image": make()})
    assert response.status_code == 400, response.content
    assert (response.json()["error"], response.json()["field"]) == (code, "image")
    assert response.json()["message"]
    assert money_snapshot(alice) == before
    assert not list(private_media.rglob("*.png"))  # nothing stored either


def test_a_12_mb_upload_is_refused_before_anything_reads_it_and_nothing_is_debited(
    alice_client, alice, private_media
):
    """Above PHOENIX_MAX_REQUEST_BYTES (11 MB: a 10 MB image with its form) the request cap
    answers first, 413, before the body is read; a file between 10 and 11 MB is this
    check's own 400 (above)."""
    before = money_snapshot(alice)
    response = alice_client.post(URL, {**VIDEO, "image": a_12_mb_file()})
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert money_snapshot(alice) == before
    assert not list(private_media.rglob("*.png"))


def test_an_image_does_not_start_from_an_image(alice_client, alice):
    before = money_snapshot(alice)
    still = upload("a.png", encoded(Image.new("RGB", (8, 8))))
    response = alice_client.post(URL, {"type": "image", "prompt": "x", "image": still})
    assert (response.status_code, response.json()["error"]) == (400, "field_not_allowed")
    assert money_snapshot(alice) == before


def test_an_upload_is_re_encoded_without_its_metadata_and_stored_privately(
    alice_client, django_capture_on_commit_callbacks, private_media
):
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    photo = encoded(Image.new("RGB", (64, 48), (200, 30, 30)), "JPEG", exif=exif.tobytes())
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(URL, {**VIDEO, "image": upload("me.jpg", photo)})
    assert response.status_code == 202

    creation = Creation.objects.get(pk=response.json()["creation_id"])
    assert creation.source_image.name.startswith("inputs/")
    stored = image_input.read_stored(creation.source_image.name)
    assert b"SecretCam" not in stored
    kept = Image.open(io.BytesIO(stored))
    assert (kept.format, kept.size) == ("PNG", (64, 48))
    assert not kept.getexif()
    # No URL of ours serves it: only the finished media and poster are served.
    assert alice_client.get(f"/media/creations/{creation.id}/source_image").status_code == 404


def test_another_creators_image_cannot_be_animated(
    client, alice, bob, make_creation, private_media
):
    bobs = make_creation(owner=bob, status="draft", kind="image")
    client.force_login(alice)
    before = money_snapshot(alice)
    response = client.post(
        URL, json.dumps({**VIDEO, "image_creation_id": str(bobs.id)}), "application/json"
    )
    assert (response.status_code, response.json()["error"]) == (404, "not_found")
    assert money_snapshot(alice) == before


@pytest.mark.parametrize("status", ["pending", "failed"])
def test_an_image_without_media_cannot_be_animated(
    alice_client, alice, make_creation, status, private_media
):
    source = make_creation(owner=alice, status=status, kind="image")
    before = money_snapshot(alice)
    response = alice_client.post(
        URL, json.dumps({**VIDEO, "image_creation_id": str(source.id)}), "application/json"
    )
    assert response.status_code == 404
    assert money_snapshot(alice) == before


def test_an_image_creation_id_on_an_image_request_is_400(alice_client, alice, make_creation):
    source = make_creation(owner=alice, status="draft", kind="image")
    body = {"type": "image", "prompt": "x", "image_creation_id": str(source.id)}
    response = alice_client.post(URL, json.dumps(body), "application/json")
    assert (response.status_code, response.json()["field"]) == (400, "image_creation_id")


def a_picture() -> Image.Image:
    """Left half orange, right half blue: recognisable in a frame, whatever the codec does."""
    picture = Image.new("RGB", (640, 360), (240, 140, 20))
    picture.paste((20, 60, 220), (320, 0, 640, 360))
    return picture


def mean_colour(image: Image.Image, box) -> tuple[float, ...]:
    region = image.convert("RGB").crop(box)
    return region.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))


def close(a, b, tolerance=30) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


@pytest.mark.django_db(transaction=True)
def test_an_image_draft_is_animated_into_a_video_that_starts_with_it(client, private_media):
    alice = creator_signup(username="alice", password="alice-password-123")
    client.force_login(alice)
    still = upload("still.png", encoded(a_picture()))
    image = client.post(URL, {"type": "image", "prompt": "a picture"})
    assert image.status_code == 202
    run_worker_burst()
    image_draft = Creation.objects.get(pk=image.json()["creation_id"])
    assert image_draft.status == "draft"

    from_upload = client.post(URL, {**VIDEO, "image": still})
    from_draft = client.post(
        URL,
        json.dumps({**VIDEO, "image_creation_id": str(image_draft.id)}),
        "application/json",
    )
    assert (from_upload.status_code, from_draft.status_code) == (202, 202)
    run_worker_burst()

    video = Creation.objects.get(pk=from_upload.json()["creation_id"])
    assert (video.status, video.kind) == ("draft", "video"), video.error_message
    with default_storage.open(video.poster.name, "rb") as handle:
        first_frame = Image.open(io.BytesIO(handle.read()))
    width, height = first_frame.size
    # The still covers the 16:9 frame: orange on the left, blue on the right.
    assert close(mean_colour(first_frame, (0, 0, width // 4, height)), (240, 140, 20))
    assert close(mean_colour(first_frame, (3 * width // 4, 0, width, height)), (20, 60, 220))

    animated = Creation.objects.get(pk=from_draft.json()["creation_id"])
    assert animated.status == "draft", animated.error_message
    with default_storage.open(image_draft.media.name, "rb") as handle:
        source = Image.open(io.BytesIO(handle.read())).convert("RGB").resize((64, 36))
    with default_storage.open(animated.poster.name, "rb") as handle:
        poster = Image.open(io.BytesIO(handle.read())).convert("RGB").resize((64, 36))
    # The image is square, the video 16:9: the middle band of the one is the other.
    assert close(mean_colour(poster, (0, 0, 64, 36)), mean_colour(source, (0, 0, 64, 36)), 40)

    # Its own copy: purging the video deletes its copy, not the image's media.
    assert animated.source_image.name != image_draft.media.name
    assert default_storage.exists(image_draft.media.name)


def test_a_remote_provider_reads_a_local_still_as_a_data_uri(private_media):
    name = image_input.store_source_image(encoded(Image.new("RGB", (4, 4))))
    url = image_input.shared_url(name)
    assert url.startswith("data:image/png;base64,")
