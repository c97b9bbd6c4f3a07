"""Images from the OpenAI Images API (`POST /v1/images/generations`) through the openai SDK.

Shapes, as the installed SDK (openai 3.x) describes them:
- request: `model`, `prompt`, `n`, `size` ("1024x1024", "1536x1024", "1024x1536" are the
  sizes every GPT image model accepts), `output_format` ("png"). GPT image models always
  answer base64; `response_format` is for retired models and is not sent. There is no
  seed parameter, so the seed is not used.
- response: `{"created": ..., "data": [{"b64_json": "..."}], "size": "1536x1024", ...}`.
- errors: `{"error": {"message", "type", "param", "code"}}` with the HTTP status; the SDK
  raises `APIStatusError` subclasses carrying `status_code` and `code`. Moderation blocks
  come as 400 with `code == "moderation_blocked"`.

The taxonomy: moderation → SafetyFilterError, other policy codes → PolicyViolationError,
timeouts / connection errors / 408 / 409 / 429 / 5xx → TransientProviderError (the job
retries with back-off, which is why the client's own retries are off), anything else →
ProviderError. Exception messages go to the log only, never to the user, and never carry
the API key.
"""

import base64
import binascii
import io

import openai
from django.conf import settings
from openai.types import ImagesResponse
from PIL import Image, UnidentifiedImageError

from . import (
    GeneratedMedia,
    PolicyViolationError,
    ProviderError,
    SafetyFilterError,
    TransientProviderError,
)

# Our aspect ratios onto the sizes the API accepts for every GPT image model.
OPENAI_SIZES = {
    "1:1": "1024x1024",
    "16:9": "1536x1024",
    "4:3": "1536x1024",
    "9:16": "1024x1536",
    "3:4": "1024x1536",
}
SAFETY_CODES = frozenset(
    {"moderation_blocked", "content_policy_violation", "image_content_policy_violation"}
)
TRANSIENT_STATUSES = frozenset({408, 409, 429})


def classify_status_error(error: openai.APIStatusError) -> ProviderError:
    code = (error.code or "").lower()
    detail = f"OpenAI answered {error.status_code} (code={error.code!r}, type={error.type!r})"
    if code in SAFETY_CODES:
        return SafetyFilterError(detail)
    if "policy" in code:
        return PolicyViolationError(detail)
    if error.status_code in TRANSIENT_STATUSES or error.status_code >= 500:
        return TransientProviderError(detail)
    return ProviderError(detail)


def png_from_response(response: object) -> tuple[bytes, int, int]:
    """The first image of the response as PNG bytes and its real pixel size."""
    if not isinstance(response, ImagesResponse):
        raise ProviderError(f"Unexpected response type {type(response).__name__}")
    try:
        encoded = response.data[0].b64_json
        content = base64.b64decode(encoded, validate=True)
    except (TypeError, IndexError, AttributeError, binascii.Error, ValueError) as error:
        raise ProviderError("The response holds no decodable image") from error
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.load()
            width, height = image.size
            if image.format != "PNG":
                buffer = io.BytesIO()
                image.save(buffer, format="PNG")
                content = buffer.getvalue()
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise ProviderError("The response image is not a readable picture") from error
    return content, width, height


class OpenAIImageProvider:
    def __init__(self, client: openai.OpenAI | None = None) -> None:
        self._client = client

    @property
    def client(self) -> openai.OpenAI:
        if self._client is None:
            if not settings.OPENAI_API_KEY:
                raise ProviderError("OPENAI_API_KEY is not set")
            self._client = openai.OpenAI(
                api_key=settings.OPENAI_API_KEY,
                base_url=settings.OPENAI_BASE_URL,
                # The job retries transient errors itself, with its own back-off.
                max_retries=0,
                timeout=settings.PHOENIX_OPENAI_TIMEOUT,
            )
        return self._client

    def generate_image(self, *, prompt: str, aspect_ratio: str, seed: int) -> GeneratedMedia:
        try:
            response = self.client.images.generate(
                model=settings.PHOENIX_OPENAI_IMAGE_MODEL,
                prompt=prompt,
                n=1,
                size=OPENAI_SIZES[aspect_ratio],
                output_format="png",
            )
        except openai.APIConnectionError as error:  # APITimeoutError included
            raise TransientProviderError(f"OpenAI unreachable: {type(error).__name__}") from error
        except openai.APIStatusError as error:
            raise classify_status_error(error) from error
        except openai.OpenAIError as error:
            raise ProviderError(f"OpenAI client error: {type(error).__name__}") from error
        content, width, height = png_from_response(response)
        return GeneratedMedia(content, "png", "image/png", width, height)
