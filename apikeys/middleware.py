"""Bearer API keys on /api/ (and on a creation's media, to download what a key made): the
key's owner is the request's user, with no CSRF check (a browser never sends a key by
itself), within the key's own request window.

A request without `Authorization: Bearer` is not looked at beyond that header: the
session path costs no query here."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from phoenix import ratelimit
from phoenix.bearer import bearer_token
from phoenix.jsonapi import ScopeMissing, scope_missing

from . import services

RATE_SCOPE = "apikey"
API = "/api/"
# Media goes through its access-checking view, not the API: a key needs `read` for it.
MEDIA = "/media/creations/"


def refused(refusal: services.KeyRefused) -> JsonResponse:
    response = JsonResponse(
        {"error": "invalid_api_key", "message": refusal.message, "reason": refusal.reason},
        status=401,
    )
    response["WWW-Authenticate"] = (
        f'Bearer realm="phoenix", error="invalid_token", error_description="{refusal.message}"'
    )
    return response


class ApiKeyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if not (path.startswith(API) or path.startswith(MEDIA)):
            return self.get_response(request)
        token = bearer_token(request)
        if token is None:
            return self.get_response(request)
        try:
            key = services.key_authenticate(token)
        except services.KeyRefused as refusal:
            return refused(refusal)
        request.user = key.user
        request.api_key = key
        # Django's CSRF check guards cookies a browser sends by itself; a key is not one.
        request._dont_enforce_csrf_checks = True
        limit = settings.PHOENIX_API_KEY_REQUESTS
        window = settings.PHOENIX_API_KEY_WINDOW
        used = ratelimit.take(RATE_SCOPE, str(key.pk), window=window)
        reset = ratelimit.seconds_left(window)
        if used > limit:
            response = JsonResponse(
                {
                    "error": "rate_limited",
                    "message": f"This key may make {limit} requests in {window} seconds.",
                    "limit": limit,
                },
                status=429,
            )
            response["Retry-After"] = str(reset)
        elif path.startswith(MEDIA) and "read" not in key.scopes:
            response = scope_missing(ScopeMissing("read"))
        else:
            response = self.get_response(request)
        response["x-ratelimit-limit"] = str(limit)
        response["x-ratelimit-remaining"] = str(max(limit - used, 0))
        response["x-ratelimit-reset"] = str(reset)
        return response
