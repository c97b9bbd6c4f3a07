"""The site's 404 page, except under /api/: a program asking the JSON API for a URL that
no route matches (an id that is not a UUID, a misspelt endpoint) reads a JSON error like
the API's own, not an HTML page."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": "not_found", "message": "Nothing here: no such endpoint or object."},
            status=404,
        )
    return defaults.page_not_found(request, exception)
