"""Serving stored media: local files with byte ranges (browsers seek and Safari plays MP4
only with them), S3/R2 objects through short-lived presigned URLs."""

import os
import re

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotModified,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.utils.http import http_date, parse_http_date_safe

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# A byte position of more digits than this is past any file (10**18 bytes is an exabyte).
RANGE_DIGITS = 18


def _local_path(name: str) -> str | None:
    try:
        return default_storage.path(name)
    except NotImplementedError:
        return None


def cache_control(*, public: bool) -> str:
    """A draft's (or any private) file is stored by no cache at all. A post's may be kept
    by any cache, for at most PHOENIX_PUBLIC_MEDIA_MAX_AGE seconds without asking again:
    the bound within which an unpublish, a trash or a take-down reaches every viewer
    (Phoenix itself refuses at once). 0, the default: asked again on every use (a cheap
    304 while the post stands), so the bound is none at all."""
    if not public:
        return "private, no-store"
    max_age = settings.PHOENIX_PUBLIC_MEDIA_MAX_AGE
    return f"public, max-age={max_age}" if max_age > 0 else "public, no-cache"


def serve_stored_file(request: HttpRequest, name: str, *, public: bool) -> HttpResponse:
    path = _local_path(name)
    if path is None:
        response = HttpResponseRedirect(default_storage.url(name))
        # The Location is a credential that expires in minutes: nobody may cache it.
        response["Cache-Control"] = "private, no-store"
        return response
    try:
        size = os.path.getsize(path)
        modified = int(os.path.getmtime(path))
    except FileNotFoundError:
        raise Http404("No such media.") from None
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    if since is not None and modified <= since:
        # The file is unchanged: the cached copy may be used (the access check above ran).
        response = HttpResponseNotModified()
        response["Last-Modified"] = http_date(modified)
        response["Cache-Control"] = cache_control(public=public)
        return response
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise Http404("No such media.") from None

    start, end = 0, size - 1
    match = RANGE.match(request.headers.get("Range", ""))
    partial = bool(match) and any(match.groups())
    if partial and max(len(group) for group in match.groups()) > RANGE_DIGITS:
        # No file is that large; and int() refuses a number of more than 4,300 digits.
        handle.close()
        return HttpResponseBadRequest("The Range header asks for a position past any file.")
    if partial:
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        else:
            start = max(0, size - int(last))
        if start > end or start >= size:
            handle.close()
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        handle.seek(start)

    response = StreamingHttpResponse(
        _limited(handle, end - start + 1), status=206 if partial else 200
    )
    response["Content-Type"] = _content_type(name)
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["Last-Modified"] = http_date(modified)
    response["Cache-Control"] = cache_control(public=public)
    if partial:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


def _content_type(name: str) -> str:
    return {
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "mp4": "video/mp4",
        "webp": "image/webp",
    }.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def _limited(handle, length: int, chunk: int = 64 * 1024):
    try:
        while length > 0:
            data = handle.read(min(chunk, length))
            if not data:
                break
            length -= len(data)
            yield data
    finally:
        handle.close()
