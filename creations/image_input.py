"""A still a video starts from: an upload checked before any debit, or one of the
creator's own images; either way stored as our own private re-encoded copy."""

import base64
import hashlib
import io
import uuid
import warnings

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, UnidentifiedImageError

from .models import Creation
from .validation import CreationRequest, RequestProblem

UPLOAD_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_MAX_SIDE = 4096
# Decided by content, never by the file's name or the browser's content type.
UPLOAD_FORMATS = {"PNG", "JPEG", "WEBP"}


def _refuse(code: str, message: str) -> RequestProblem:
    return RequestProblem(code, message, "image")


def reencoded_upload(upload) -> bytes:
    """The upload as a clean PNG (no metadata: EXIF, GPS, text chunks and ICC are not
    carried over), or RequestProblem saying what is wrong with it. Reads at most
    UPLOAD_MAX_BYTES + 1 bytes and decodes only once the header's size is known to be
    within bounds, so neither a huge file nor a decompression bomb costs memory."""
    if getattr(upload, "size", 0) > UPLOAD_MAX_BYTES:
        raise _refuse("image_too_large", "The image is larger than 10 MB.")
    data = upload.read(UPLOAD_MAX_BYTES + 1)
    if len(data) > UPLOAD_MAX_BYTES:
        raise _refuse("image_too_large", "The image is larger than 10 MB.")
    unreadable = _refuse(
        "invalid_image", "The image could not be read: send a PNG, JPEG or WebP file."
    )
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that: refuse it too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in UPLOAD_FORMATS:
                raise unreadable
            width, height = image.size
            if width > UPLOAD_MAX_SIDE or height > UPLOAD_MAX_SIDE:
                raise _refuse(
                    "image_too_big",
                    f"The image is {width}×{height} pixels; at most {UPLOAD_MAX_SIDE} a side.",
                )
            if width < 1 or height < 1:
                raise unreadable
            image.load()  # a truncated file fails here
            clean = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    except RequestProblem:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(
            "image_too_big", f"The image has too many pixels; at most {UPLOAD_MAX_SIDE} a side."
        ) from None
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
    ):
        raise unreadable from None
    buffer = io.BytesIO()
    clean.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


def store_source_image(content: bytes) -> str:
    """Saved under an unguessable key, served by no URL of ours: private like a draft."""
    return default_storage.save(f"inputs/{uuid.uuid4().hex}.png", ContentFile(content))


def shared_url(name: str) -> str:
    """An address a remote provider can read the still from for a few minutes: a
    presigned URL on S3/R2 (PHOENIX_INPUT_URL_SECONDS), else the bytes as a data URI
    (local files are not reachable from outside)."""
    seconds = settings.PHOENIX_INPUT_URL_SECONDS
    try:
        return default_storage.url(name, expire=seconds)
    except TypeError:  # FileSystemStorage.url takes no expiry
        encoded = base64.b64encode(read_stored(name)).decode()
        return f"data:image/png;base64,{encoded}"


def read_stored(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def delete_stored(names) -> None:
    for name in names:
        if name:
            try:
                default_storage.delete(name)
            except Exception:  # nosec B110 # best effort: an orphan costs only space
                pass


class SourceNotFound(Exception):
    """The image to start from is not one of the creator's own images with media: answered
    exactly as an unknown id."""


def source_identity(*, request: CreationRequest, upload) -> tuple[bytes | None, str]:
    """What identifies the still a video request starts from, for the request's
    fingerprint, without reading any stored file: an upload (checked and re-encoded: its
    content, returned too) or one of the owner's images (by id); (None, "") when it starts
    from nothing. RequestProblem for a bad upload or field: nothing stored, nothing
    debited."""
    if upload is not None:
        if request.kind != Creation.Kind.VIDEO:
            raise _refuse("field_not_allowed", "Only a video starts from an image.")
        if request.image_creation_id is not None:
            raise _refuse("field_not_allowed", "Send an image or an image_creation_id, not both.")
        content = reencoded_upload(upload)
        return content, "upload:" + hashlib.sha256(content).hexdigest()
    if request.image_creation_id is None:
        return None, ""
    return None, f"creation:{request.image_creation_id}"


def own_image(*, owner, creation_id) -> Creation:
    """The owner's image a video starts from (Animate), with media now; SourceNotFound
    otherwise (someone else's, none, still generating, in the trash, taken down)."""
    source = Creation.objects.filter(pk=creation_id, owner=owner).first()
    if source is None or not source.can_animate or not source.media:
        raise SourceNotFound()
    return source


class StorageUnavailable(Exception):
    """The copies of a still could not be stored (none is left behind)."""


def store_copies(content: bytes | None, count: int) -> list[str] | None:
    """One stored copy per creation (each is deleted with its own creation's files). When
    storing one fails, those already stored are deleted and StorageUnavailable raised."""
    if content is None:
        return None
    stored: list[str] = []
    try:
        for _ in range(count):
            stored.append(store_source_image(content))
    except Exception as failure:
        delete_stored(stored)
        raise StorageUnavailable() from failure
    return stored
