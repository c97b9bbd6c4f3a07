"""Polls that find nothing new, answered before Django: the WSGI application's first step.

Most requests a busy Phoenix serves are the polls of open cards, drafts tabs and bells,
and most of those find nothing new (creations.polling): their answer is a 204 that needs
one Redis read and no session, user or database. Through Django's handler and its
thirteen middleware that 204 still cost about twice a bare view (make bench, issue 19);
here it costs the Redis read and little else.

Each app declares its polls in PHOENIX_FAST_POLLS: the dotted path of a list of
(compiled path pattern, check), where `check(match, environ)` is True only when the
poll's signed fingerprint is still current (it may leave what it read in the environ, for
the view to use when it is not). Everything else goes to Django exactly as
before — another method or path, a Host Django would refuse, a plain-HTTP request Django
would redirect, a check that says no or fails — and Django answers the same poll the same
way (each view keeps its own fast path, for the development server and the test client).
The 204 carries the headers Django's middleware would add to it (a test compares them).
"""

import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.module_loading import import_string

from phoenix.middleware import build_policy

log = logging.getLogger(__name__)

Check = Callable[[re.Match, dict], bool]


def nothing_new_headers(*, secure: bool) -> list[tuple[str, str]]:
    """What Django's answer of the same 204 carries (creations.polling.nothing_new through
    SecurityMiddleware, the CSP middleware and XFrameOptionsMiddleware)."""
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", "0"),
        ("Cache-Control", "max-age=0, no-cache, no-store, must-revalidate, private"),
        ("Expires", "Thu, 01 Jan 1970 00:00:00 GMT"),
    ]
    if secure and settings.SECURE_HSTS_SECONDS:
        hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            hsts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            hsts += "; preload"
        headers.append(("Strict-Transport-Security", hsts))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        headers.append(("Referrer-Policy", settings.SECURE_REFERRER_POLICY))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    headers.append(("Content-Security-Policy", build_policy()))
    headers.append(("X-Frame-Options", settings.X_FRAME_OPTIONS))
    return headers


class FastPolls:
    """WSGI middleware around Django's application (phoenix/wsgi.py)."""

    def __init__(self, application, polls: list[tuple[re.Pattern, Check]] | None = None):
        self.application = application
        self._polls = polls
        self._headers: dict[tuple, list[tuple[str, str]]] = {}

    @property
    def polls(self) -> list[tuple[re.Pattern, Check]]:
        if self._polls is None:
            self._polls = [
                poll for path in settings.PHOENIX_FAST_POLLS for poll in import_string(path)
            ]
        return self._polls

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "GET":
            secure = self._answerable(environ)
            if secure is not None and self._unchanged(environ):
                # The policy names the Stripe address (fixed in production; a test's fake moves it).
                key = (secure, settings.STRIPE_API_BASE)
                headers = self._headers.get(key)
                if headers is None:
                    headers = self._headers[key] = nothing_new_headers(secure=secure)
                start_response("204 No Content", list(headers))
                return []
        return self.application(environ, start_response)

    def _unchanged(self, environ) -> bool:
        path = environ.get("PATH_INFO", "")
        for pattern, check in self.polls:
            match = pattern.fullmatch(path)
            if match is not None:
                try:
                    return check(match, environ)
                except Exception:
                    # Django answers it then, as it would have anyway.
                    log.exception("The fast poll check of %s failed", path)
                    return False
        return False

    @staticmethod
    def _answerable(environ) -> bool | None:
        """Whether the request is secure (for HSTS), or None when Django would answer it
        otherwise than the view does: a Host it refuses, or a redirect to HTTPS."""
        if settings.USE_X_FORWARDED_HOST:
            return None
        # As Django's HttpRequest.get_host reads it.
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        domain, _ = split_domain_port(host)
        allowed = settings.ALLOWED_HOSTS
        if settings.DEBUG and not allowed:
            allowed = [".localhost", "127.0.0.1", "[::1]"]
        if not domain or not validate_host(domain, allowed):
            return None
        if settings.SECURE_PROXY_SSL_HEADER:
            header, secure_value = settings.SECURE_PROXY_SSL_HEADER
            value = environ.get(header)
            if value is not None:
                secure = value.split(",", 1)[0].strip() == secure_value
            else:
                secure = environ.get("wsgi.url_scheme") == "https"
        else:
            secure = environ.get("wsgi.url_scheme") == "https"
        if settings.SECURE_SSL_REDIRECT and not secure:
            return None
        return secure
