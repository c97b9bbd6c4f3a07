"""The site's error pages (404, 403, 500, 429): the site's navigation, what happened in
words and a way back. Under /api/ a program reads a JSON error like the API's own
instead (an id that is not a UUID, a misspelt endpoint)."""

import logging
import math
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils import timezone

log = logging.getLogger(__name__)

API_PREFIX = "/api/"


def _api_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": code, "message": message}, status=status)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _api_error(404, "not_found", "Nothing here: no such endpoint or object.")
    # No "log in and come back here" link: there is nothing here to come back to, and a
    # 404 page must not echo the address (an id) it was asked for.
    return render(request, "404.html", {"no_next": True}, status=404)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _api_error(403, "forbidden", "You may not do this.")
    message = str(exception) if exception and str(exception) else ""
    return render(request, "403.html", {"exception_message": message}, status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent from a page open too long (its session ended) or from elsewhere."""
    if request.path.startswith(API_PREFIX):
        return _api_error(403, "csrf_failed", "The request's CSRF check failed.")
    message = (
        "This form was sent from a page that has been open too long, or you logged out "
        "in another tab. Go back, reload the page and send it again."
    )
    context = {"exception_message": message, "title": "This form has expired", "form_expired": True}
    return render(request, "403.html", context, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _api_error(500, "server_error", "Something went wrong on our side; try again.")
    # Without the request's context processors: the database or the session may be what
    # failed, and the page must still render.
    try:
        body = loader.get_template("500.html").render(
            {"support_email": settings.PHOENIX_SUPPORT_EMAIL}
        )
    except Exception:  # the page of last resort must not fail in turn
        log.exception("The 500 page could not be rendered")
        body = "Something went wrong on our side. Try again in a minute."
        return HttpResponse(body, status=500, content_type="text/plain; charset=utf-8")
    return HttpResponse(body, status=500)


def wait_in_words(seconds: int) -> str:
    """ "in 40 seconds", "in 3 minutes" — rounded up, never sooner than it is."""
    if seconds <= 60:
        return f"in {max(seconds, 1)} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return f"in {minutes} minutes"
    return f"in {math.ceil(minutes / 60)} hours"


def too_many_requests(
    request: HttpRequest,
    *,
    retry_after: int,
    reason: str = "",
    back_url: str = "",
    back_label: str = "",
) -> HttpResponse:
    """A page (or the API's JSON) saying that a limit was reached and when to try again,
    with Retry-After set for programs and browsers alike."""
    retry_after = max(int(retry_after), 1)
    if request.path.startswith(API_PREFIX):
        response = _api_error(429, "too_many_requests", reason or "Too many requests.")
    else:
        context = {
            "reason": reason,
            "retry_words": wait_in_words(retry_after),
            "retry_at": timezone.now() + timedelta(seconds=retry_after),
            "back_url": back_url,
            "back_label": back_label,
        }
        response = render(request, "429.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response
