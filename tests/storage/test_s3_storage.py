"""Media on S3 (R2 in production) through the real job path, against a local S3 server."""

import io
import json
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client
from PIL import Image

from creations.models import Creation
from tests.conftest import run_worker_burst
from tests.storage.conftest import PosterUploadFailsS3Storage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("s3")]

UNGUESSABLE_KEY = re.compile(r"^creations/[0-9a-f]{32}\.(png|mp4|jpg)$")


def create(client, **fields) -> Creation:
    response = client.post(
        "/api/generate/creation", data=json.dumps(fields), content_type="application/json"
    )
    assert response.status_code == 202, response.content
    return Creation.objects.get(pk=response.json()["creation_id"])


def refunds(creation: Creation) -> int:
    return creation.ledger_entries.filter(kind="refund").count()


def balance(user) -> int:
    user.token_account.refresh_from_db()
    return user.token_account.balance


def media_url(creation: Creation, which: str = "media") -> str:
    return f"/media/creations/{creation.id}/{which}"


def object_bytes(local_s3, bucket: str, key: str) -> bytes:
    return local_s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.fixture
def image_draft(alice_client, use_s3) -> Creation:
    creation = create(
        alice_client, type="image", prompt="secret birthday surprise", aspect_ratio="4:3"
    )
    run_worker_burst()
    creation.refresh_from_db()
    assert creation.status == "draft", creation.error_code
    return creation


def test_production_settings_use_presigned_urls_without_a_custom_domain(use_s3):
    config = use_s3()
    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    options = config["OPTIONS"]
    assert options["querystring_auth"] is True
    assert options["custom_domain"] is None
    assert options["querystring_expire"] == 300
    assert options["file_overwrite"] is False


def test_an_image_lands_in_the_bucket_under_an_unguessable_key(local_s3, bucket, image_draft):
    key = image_draft.media.name
    assert local_s3.keys(bucket) == {key}
    assert UNGUESSABLE_KEY.match(key)
    assert not {"secret", "birthday", "surprise"} & set(re.split(r"\W", key))
    image = Image.open(io.BytesIO(object_bytes(local_s3, bucket, key)))
    assert (image.format, image.size) == ("PNG", (1024, 768))


def test_a_video_and_its_poster_land_in_the_bucket(local_s3, bucket, alice_client, use_s3):
    creation = create(alice_client, type="video", prompt="waves at night", orientation="portrait")
    run_worker_burst()

    creation.refresh_from_db()
    assert creation.status == "draft", creation.error_code
    assert local_s3.keys(bucket) == {creation.media.name, creation.poster.name}
    assert all(UNGUESSABLE_KEY.match(key) for key in local_s3.keys(bucket))
    poster = Image.open(io.BytesIO(object_bytes(local_s3, bucket, creation.poster.name)))
    assert (poster.format, poster.size) == ("JPEG", (720, 1280))


def test_the_owner_is_sent_to_a_presigned_url_that_downloads_the_file(
    local_s3, bucket, alice_client, image_draft
):
    response = alice_client.get(media_url(image_draft))

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    # No custom domain: the URL points at the bucket's endpoint and carries its signature.
    assert f"{location.scheme}://{location.netloc}" == local_s3.endpoint_url
    assert location.path == f"/{bucket}/{image_draft.media.name}"
    query = parse_qs(location.query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["X-Amz-Signature"]
    download = httpx.get(response["Location"])
    assert download.status_code == 200
    assert download.content == object_bytes(local_s3, bucket, image_draft.media.name)


def test_a_tampered_presigned_url_is_refused(alice_client, image_draft):
    # The server checks signatures, so the download above proves ours are right.
    location = alice_client.get(media_url(image_draft))["Location"]
    stretched = location.replace("X-Amz-Expires=300", "X-Amz-Expires=604800")
    response = httpx.get(stretched)
    assert response.status_code == 403
    assert "SignatureDoesNotMatch" in response.text


def test_someone_else_and_anonymous_visitors_get_404(bob, image_draft):
    anonymous = Client()
    assert anonymous.get(media_url(image_draft)).status_code == 404
    someone_else = Client()
    someone_else.force_login(bob)
    assert someone_else.get(media_url(image_draft)).status_code == 404
    assert someone_else.get(media_url(image_draft, "poster")).status_code == 404


def test_a_presigned_url_is_refused_once_it_expires(alice_client, use_s3, image_draft):
    use_s3(PHOENIX_S3_URL_EXPIRY="1")
    location = alice_client.get(media_url(image_draft))["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == ["1"]
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    expired_after = signed_at + timedelta(seconds=1)
    time.sleep(max(0.0, (expired_after - datetime.now(UTC)).total_seconds()) + 1.0)

    response = httpx.get(location)

    assert response.status_code == 403
    assert "Request has expired" in response.text


def test_an_upload_to_a_missing_bucket_fails_with_one_refund(
    local_s3, bucket, alice, alice_client, use_s3
):
    missing = f"{bucket}-missing"
    use_s3(bucket_name=missing)
    creation = create(alice_client, type="image", prompt="a red fox", aspect_ratio="1:1")

    run_worker_burst()

    creation.refresh_from_db()
    assert (creation.status, creation.error_code) == ("failed", "storage_failed")
    assert refunds(creation) == 1
    assert balance(alice) == 100
    assert missing not in {b["Name"] for b in local_s3.client().list_buckets()["Buckets"]}
    assert local_s3.keys(bucket) == set()


def test_a_failed_poster_upload_removes_the_video_already_uploaded(
    local_s3, bucket, alice, alice_client, use_s3
):
    use_s3(backend="tests.storage.conftest.PosterUploadFailsS3Storage")
    PosterUploadFailsS3Storage.uploaded.clear()
    creation = create(alice_client, type="video", prompt="waves", orientation="landscape")

    run_worker_burst()

    creation.refresh_from_db()
    assert (creation.status, creation.error_code) == ("failed", "storage_failed")
    assert refunds(creation) == 1
    assert balance(alice) == 100
    (video,) = PosterUploadFailsS3Storage.uploaded
    assert video.endswith(".mp4")
    assert local_s3.keys(bucket) == set()  # the video went up, then was deleted again
