"""A local S3-compatible server for the storage tests: moto, behind a check of presigned URLs.

moto serves the S3 API (buckets, objects, header-signed requests) but accepts any presigned
URL as it is: it checks neither the query signature nor `X-Amz-Expires`. Real S3 and R2
refuse a URL whose signature does not match or whose time is up, with 403. The check below
does what AWS documents for SigV4 query authentication ("Authenticating Requests: Using
Query Parameters"), so that a test of our presigned URLs can fail.
"""

import hashlib
import hmac
import runpy
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from threading import Thread
from urllib.parse import parse_qsl, quote, urlsplit

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from storages.backends.s3 import S3Storage
from werkzeug.serving import make_server

ACCESS_KEY = "phoenix-test-access-key"
SECRET_KEY = "phoenix-test-secret-key"
SETTINGS_FILE = Path(__file__).resolve().parents[2] / "phoenix" / "settings.py"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def presigned_url_problem(environ: dict, query: dict[str, str], now: datetime) -> str | None:
    """Why S3 would refuse this presigned request, or None if it is good."""
    try:
        key_id, day, region, service, terminator = query["X-Amz-Credential"].split("/")
        signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        expires = int(query["X-Amz-Expires"])
        signed_headers = query["X-Amz-SignedHeaders"]
        signature = query["X-Amz-Signature"]
    except (KeyError, ValueError):
        return "AuthorizationQueryParametersError"
    if key_id != ACCESS_KEY:
        return "InvalidAccessKeyId"
    canonical_query = "&".join(
        f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}"
        for name, value in sorted(query.items())
        if name != "X-Amz-Signature"
    )
    headers = "".join(
        f"{name}:{environ.get('HTTP_' + name.upper().replace('-', '_'), '').strip()}\n"
        for name in signed_headers.split(";")
    )
    canonical_request = "\n".join(
        [
            environ["REQUEST_METHOD"],
            urlsplit(environ["RAW_URI"]).path,
            canonical_query,
            headers,
            signed_headers,
            "UNSIGNED-PAYLOAD",
        ]
    )
    scope = f"{day}/{region}/{service}/{terminator}"
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            query["X-Amz-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = ("AWS4" + SECRET_KEY).encode()
    for part in (day, region, service, terminator):
        key = _hmac(key, part)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "SignatureDoesNotMatch"
    if now > signed_at + timedelta(seconds=expires):
        return "Request has expired"
    return None


class PresignedUrlCheck:
    """WSGI middleware: presigned requests must be signed right and still valid."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        if "X-Amz-Signature" in query:
            problem = presigned_url_problem(environ, query, datetime.now(UTC))
            if problem:
                body = (
                    "<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code>"
                    f"<Message>{problem}</Message></Error>"
                ).encode()
                start_response(
                    "403 Forbidden",
                    [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
                )
                return [body]
        return self.app(environ, start_response)


class LocalS3:
    def __init__(self) -> None:
        app = PresignedUrlCheck(DomainDispatcherApplication(create_backend_app))
        self.server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler
        )
        self.thread = Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )

    def keys(self, bucket: str) -> set[str]:
        listing = self.client().list_objects_v2(Bucket=bucket)
        return {item["Key"] for item in listing.get("Contents", [])}


@pytest.fixture(scope="module")
def local_s3():
    s3 = LocalS3()
    s3.thread.start()
    yield s3
    s3.server.shutdown()
    s3.thread.join(timeout=10)


@pytest.fixture
def bucket(local_s3) -> str:
    """A fresh, empty bucket for each test, so 'no orphan object' means an empty listing."""
    name = f"phoenix-media-{uuid.uuid4().hex[:12]}"
    local_s3.client().create_bucket(Bucket=name)
    return name


def production_storage_config(monkeypatch, *, bucket: str, endpoint_url: str, **env) -> dict:
    """STORAGES["default"] exactly as phoenix/settings.py builds it from the environment."""
    monkeypatch.setenv("PHOENIX_S3_BUCKET", bucket)
    monkeypatch.setenv("PHOENIX_S3_ENDPOINT_URL", endpoint_url)
    monkeypatch.setenv("PHOENIX_S3_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("PHOENIX_S3_SECRET_ACCESS_KEY", SECRET_KEY)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))["STORAGES"]["default"]


@pytest.fixture
def use_s3(settings, monkeypatch, local_s3, bucket):
    """Switch the default storage to the local S3 server the way production configures it.
    Returns a function to switch again with other environment values or another backend."""

    def switch(*, backend: str | None = None, bucket_name: str = bucket, **env) -> dict:
        config = production_storage_config(
            monkeypatch, bucket=bucket_name, endpoint_url=local_s3.endpoint_url, **env
        )
        if backend:
            config = {**config, "BACKEND": backend}
        settings.STORAGES = {**settings.STORAGES, "default": config}
        return config

    switch()
    return switch


class PosterUploadFailsS3Storage(S3Storage):
    """S3 that takes the video, then loses the connection when the poster comes."""

    uploaded: list[str] = []

    def _save(self, name, content):
        if name.endswith(".jpg"):
            raise EndpointConnectionError(endpoint_url=self.endpoint_url)
        saved = super()._save(name, content)
        PosterUploadFailsS3Storage.uploaded.append(saved)
        return saved
