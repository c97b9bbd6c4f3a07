from django.conf import settings
from django.http import HttpRequest, HttpResponse

from . import throttle


class KnownDeviceMiddleware:
    """Marks a signed-in browser as known to its account (throttle.remember_device) when it
    does not carry the mark yet: a creator who logged in before the mark existed, or whose
    mark expired, would otherwise be held to the per-account lock a stranger can fill the
    next time they log in from here. Only the log-in path used to set it.

    Cheap: it reads the signed cookie, and looks at the user only when the view already
    loaded the session (every page that shows who is signed in does), so it costs no query
    of its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.SESSION_COOKIE_NAME in request.COOKIES
            and request.session.accessed
            and throttle.DEVICE_COOKIE not in response.cookies  # a log-in has just set it
            and request.user.is_authenticated
        ):
            known = throttle.known_device(request)
            if known is None or request.user.pk not in known.user_ids:
                throttle.remember_device(request, response, request.user)
        return response
