"""No request body larger than the largest legitimate one (PHOENIX_MAX_REQUEST_BYTES: an
image upload of up to 10 MB with its form), refused before anything reads it.

Django caps what it holds in memory (DATA_UPLOAD_MAX_MEMORY_SIZE) but streams file uploads
of any size to disk; gunicorn caps neither. Django reads exactly CONTENT_LENGTH bytes of a
body (a body sent without a length, chunked, is read as empty), so the length is what is
checked.
"""

from django.conf import settings
from django.http import HttpResponse, JsonResponse


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if (
            length.isascii()
            and length.isdigit()
            and int(length) > settings.PHOENIX_MAX_REQUEST_BYTES
        ):
            return too_large(request)
        return self.get_response(request)


def too_large(request) -> HttpResponse:
    limit = settings.PHOENIX_MAX_REQUEST_BYTES // (1024 * 1024)
    message = f"The request is larger than {limit} MB, the most Phoenix takes."
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "too_large", "message": message}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
