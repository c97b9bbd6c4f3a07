"""The OpenAI image provider against a local server that answers like the Images API."""

import base64
import io
import json
import time

import pytest
from PIL import Image
from werkzeug import Response

from creations.providers import (
    PolicyViolationError,
    ProviderError,
    SafetyFilterError,
    TransientProviderError,
)
from creations.providers.openai_images import OpenAIImageProvider
from tests.providers.conftest import OPENAI_KEY, png_bytes, wait_until_answered

GENERATIONS = "/v1/images/generations"


def image_response(content: bytes) -> dict:
    # The documented ImagesResponse: GPT image models always answer base64.
    return {
        "created": 1767225600,
        "data": [{"b64_json": base64.b64encode(content).decode()}],
        "output_format": "png",
        "size": "1536x1024",
    }


def error_body(code: str | None, message: str = "Your request was rejected.") -> dict:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    }


def generate(aspect_ratio: str = "1:1", prompt: str = "a lighthouse at dusk"):
    return OpenAIImageProvider().generate_image(prompt=prompt, aspect_ratio=aspect_ratio, seed=7)


def test_it_asks_for_the_model_and_size_and_keeps_the_png_it_gets(openai_api):
    openai_api.expect_request(
        GENERATIONS, method="POST", headers={"Authorization": f"Bearer {OPENAI_KEY}"}
    ).respond_with_json(image_response(png_bytes(1536, 1024)))

    media = generate("16:9")

    (request, _), *others = openai_api.log
    assert others == []
    sent = json.loads(request.get_data())
    assert sent["model"] == "gpt-image-test"
    assert sent["size"] == "1536x1024"
    assert sent["n"] == 1
    assert sent["output_format"] == "png"
    assert "response_format" not in sent  # unsupported by GPT image models
    assert (media.extension, media.content_type) == ("png", "image/png")
    assert (media.width, media.height) == (1536, 1024)
    assert Image.open(io.BytesIO(media.content)).format == "PNG"


@pytest.mark.parametrize(
    ("aspect_ratio", "size"),
    [("1:1", "1024x1024"), ("4:3", "1536x1024"), ("9:16", "1024x1536"), ("3:4", "1024x1536")],
)
def test_each_aspect_ratio_asks_for_a_size_the_api_accepts(openai_api, aspect_ratio, size):
    openai_api.expect_request(GENERATIONS).respond_with_json(image_response(png_bytes(8, 8)))
    generate(aspect_ratio)
    request, _ = openai_api.log[0]
    assert json.loads(request.get_data())["size"] == size


def test_it_records_the_size_of_the_image_it_got_not_the_one_it_asked_for(openai_api):
    openai_api.expect_request(GENERATIONS).respond_with_json(image_response(png_bytes(64, 48)))
    media = generate("1:1")
    assert (media.width, media.height) == (64, 48)


def test_a_jpeg_answer_is_stored_as_png(openai_api):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(buffer, format="JPEG")
    openai_api.expect_request(GENERATIONS).respond_with_json(image_response(buffer.getvalue()))
    media = generate()
    assert Image.open(io.BytesIO(media.content)).format == "PNG"
    assert (media.width, media.height) == (40, 30)


@pytest.mark.parametrize(
    "code", ["moderation_blocked", "content_policy_violation", "image_content_policy_violation"]
)
def test_a_moderation_block_is_a_safety_error(openai_api, code):
    openai_api.expect_request(GENERATIONS).respond_with_json(error_body(code), status=400)
    with pytest.raises(SafetyFilterError):
        generate()


@pytest.mark.parametrize("code", ["bio_policy", "misalignment_policy_violation"])
def test_another_policy_code_is_a_policy_violation(openai_api, code):
    openai_api.expect_request(GENERATIONS).respond_with_json(error_body(code), status=400)
    with pytest.raises(PolicyViolationError):
        generate()


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_rate_limits_and_server_errors_are_transient(openai_api, status):
    openai_api.expect_request(GENERATIONS).respond_with_json(error_body(None), status=status)
    with pytest.raises(TransientProviderError):
        generate()


def test_a_timeout_is_transient(openai_api, settings):
    settings.PHOENIX_OPENAI_TIMEOUT = 0.2

    def too_slow(request):
        time.sleep(0.6)
        return Response("{}", content_type="application/json")

    openai_api.expect_request(GENERATIONS).respond_with_handler(too_slow)
    with pytest.raises(TransientProviderError):
        generate()
    wait_until_answered(openai_api)


def test_an_unreachable_api_is_transient(openai_api, settings):
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"  # discard port: nothing listens
    with pytest.raises(TransientProviderError):
        generate()


@pytest.mark.parametrize(
    ("status", "code"), [(400, "invalid_value"), (401, "invalid_api_key"), (404, None)]
)
def test_other_client_errors_are_generic_and_never_carry_the_key(openai_api, status, code):
    openai_api.expect_request(GENERATIONS).respond_with_json(
        error_body(code, message=f"Incorrect API key provided: {OPENAI_KEY}"), status=status
    )
    with pytest.raises(ProviderError) as raised:
        generate()
    assert type(raised.value) is ProviderError
    assert OPENAI_KEY not in str(raised.value)


@pytest.mark.parametrize(
    "body",
    [
        {"created": 1, "data": []},
        {"created": 1},
        {"created": 1, "data": [{"b64_json": None}]},
        {"created": 1, "data": [{"b64_json": "this is not base64!"}]},
        {"created": 1, "data": [{"b64_json": base64.b64encode(b"not an image").decode()}]},
        {"created": 1, "data": [{"url": "https://example.invalid/image.png"}]},
    ],
    ids=["no-images", "no-data", "null-image", "bad-base64", "not-an-image", "url-only"],
)
def test_a_malformed_answer_is_a_generic_error(openai_api, body):
    openai_api.expect_request(GENERATIONS).respond_with_json(body)
    with pytest.raises(ProviderError) as raised:
        generate()
    assert type(raised.value) is ProviderError


def test_a_non_json_answer_is_a_generic_error(openai_api):
    openai_api.expect_request(GENERATIONS).respond_with_data(
        "<html>gateway says hi</html>", content_type="text/html"
    )
    with pytest.raises(ProviderError) as raised:
        generate()
    assert type(raised.value) is ProviderError


def test_without_an_api_key_it_fails_before_calling_out(openai_api, settings):
    settings.OPENAI_API_KEY = ""
    with pytest.raises(ProviderError):
        generate()
    assert openai_api.log == []
