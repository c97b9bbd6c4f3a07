"""A local HTTP server speaking the providers' documented shapes, and real media to serve."""

import io
import re
import time

import pytest
from PIL import Image

from creations import services
from creations.models import Creation
from creations.validation import CreationRequest
from tests.providers.fake_runway import FakeRunway, make_mp4

OPENAI_KEY = "sk-test-openai-key-must-never-be-shown"
RUNWAY_KEY = "key_test-runway-key-must-never-be-shown"
# The fake video is deliberately not the size Runway is asked for: the provider must read
# width, height and duration back from the file.
FAKE_VIDEO_SIZE = (256, 144)
FAKE_VIDEO_SECONDS = 1


def png_bytes(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="session")
def fake_mp4() -> bytes:
    return make_mp4(*FAKE_VIDEO_SIZE, FAKE_VIDEO_SECONDS)


@pytest.fixture
def openai_api(httpserver, settings):
    """Point the OpenAI provider at the local server; returns the server."""
    settings.OPENAI_API_KEY = OPENAI_KEY
    settings.OPENAI_BASE_URL = httpserver.url_for("/v1")
    settings.PHOENIX_OPENAI_IMAGE_MODEL = "gpt-image-test"
    settings.PHOENIX_OPENAI_TIMEOUT = 5
    return httpserver


@pytest.fixture
def runway_api(httpserver, settings):
    """Point the Runway provider at the local server, polling fast; returns the server."""
    settings.RUNWAY_API_KEY = RUNWAY_KEY
    settings.RUNWAY_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.PHOENIX_RUNWAY_MODEL = "gen4.5"
    settings.PHOENIX_RUNWAY_VIDEO_SECONDS = 5
    settings.PHOENIX_RUNWAY_POLL_INTERVAL = 0.01
    settings.PHOENIX_RUNWAY_REQUEST_TIMEOUT = 5
    return httpserver


@pytest.fixture
def fake_runway(runway_api, settings, fake_mp4) -> FakeRunway:
    """The video provider is Runway, answered by a fake that runs tasks (instantly unless
    its `duration` is set; `failure_code` and `forget` make them fail or vanish)."""
    settings.PHOENIX_VIDEO_PROVIDER = "runway"
    fake = FakeRunway(video=fake_mp4, base_url=settings.RUNWAY_BASE_URL)
    runway_api.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    return fake


def runway_worker_env(settings) -> dict[str, str]:
    """What a real worker subprocess needs to talk to the fake Runway."""
    return {
        "PHOENIX_VIDEO_PROVIDER": "runway",
        "RUNWAY_API_KEY": settings.RUNWAY_API_KEY,
        "RUNWAY_BASE_URL": settings.RUNWAY_BASE_URL,
        "PHOENIX_RUNWAY_REQUEST_TIMEOUT": "5",
    }


def wait_until_answered(server, requests: int = 1) -> None:
    """After a client timeout the single-threaded server is still busy with the slow
    request; wait for it, so its late answer does not land in the next test's log."""
    deadline = time.monotonic() + 10
    while len(server.log) < requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(server.log) >= requests


# Shared by the remote-task tests.
def submit_video(user) -> Creation:
    request = CreationRequest("video", "waves at night", "", "landscape")
    creation, _ = services.creation_submit(user=user, request=request)
    return creation


def fresh(creation: Creation) -> Creation:
    return Creation.objects.get(pk=creation.pk)


def refunds(creation: Creation) -> int:
    return creation.ledger_entries.filter(kind="refund").count()
