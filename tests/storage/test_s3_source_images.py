"""A video's input still on S3 (R2 in production): stored privately, read by a remote
provider through a presigned URL that expires in minutes, deleted with the creation."""

import io
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from creations import image_input, services
from creations.models import Creation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("s3")]


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 18), (10, 200, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_still_on_s3_is_shared_by_a_short_presigned_url_and_purged_with_its_creation(
    alice, client, use_s3, local_s3, bucket, settings, django_capture_on_commit_callbacks
):
    settings.PHOENIX_INPUT_URL_SECONDS = 120
    client.force_login(alice)
    body = {"type": "video", "prompt": "waves", "orientation": "landscape"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/generate/creation", {**body, "image": SimpleUploadedFile("s.png", png())}
        )
    assert response.status_code == 202
    creation = Creation.objects.get(pk=response.json()["creation_id"])
    key = creation.source_image.name
    assert key.startswith("inputs/") and key in local_s3.keys(bucket)

    url = urlparse(image_input.shared_url(key))
    query = parse_qs(url.query)
    assert url.path.endswith(key)
    assert query["X-Amz-Expires"] == ["120"]
    assert "X-Amz-Signature" in query

    services.creation_cancel(creation=creation)
    services.creation_trash(creation=creation)
    with django_capture_on_commit_callbacks(execute=True):
        services.creation_purge(creation=creation)
    assert key not in local_s3.keys(bucket)
