"""What a suspended account's session may open (moderation.auth lets it sign in): its
decisions and their appeal, its notices, its own media (a decision's picture), signing out.
Anything else: a page is sent to the suspension's decision, the API answers 403
`account_suspended`, any other write 403. A list of what is open rather than of what is
closed, so a page added later is closed to it too: suspension stops creating, publishing,
commenting, liking, sharing, buying — everything but appealing."""

from django.contrib.auth import BACKEND_SESSION_KEY
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from phoenix.jsonapi import error

from . import selectors

OPEN_TO_SUSPENDED = frozenset(
    {
        "moderation_decision",
        "api_moderation_appeal",
        "notifications",
        "notifications_bell",
        "notification_open",
        "api_notifications",
        "creation_media",
        "login",
        "logout",
        # Read-only polls of a page from before (their buttons' writes stay closed). They
        # answer "nothing new" without the session: it is not read for them here either.
        "creation_card",
        "drafts_poll",
        # The health probes: about the site, not the account, and never a session read.
        "healthz",
        "readyz",
    }
)
SUSPENDED_BACKEND = "moderation.auth.SuspendedAccountBackend"

SUSPENDED_MESSAGE = (
    "Your account is suspended: you can read the decision and appeal it, nothing else "
    "until a moderator decides."
)


class SuspendedAccountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        # What is open to everyone is looked at first, so that the user (and the session)
        # is not read for it; active accounts then pass on one attribute read.
        if request.resolver_match.url_name in OPEN_TO_SUSPENDED:
            return None
        # Only SuspendedAccountBackend gives a session to an inactive account (Django's own
        # backend returns no user for one, and a suspension ends the sessions it had): any
        # other session passes on the session's own fields, without reading the user.
        session = request.session
        accessed = session.accessed
        if session.get(BACKEND_SESSION_KEY) != SUSPENDED_BACKEND:
            # This look does not make the answer depend on the session (no Vary: Cookie),
            # nor make KnownDeviceMiddleware read the user for a view that never did.
            session.accessed = accessed
            return None
        user = request.user
        if not user.is_authenticated or user.is_active:
            return None
        if request.path.startswith("/api/"):
            return error(403, "account_suspended", SUSPENDED_MESSAGE)
        suspension = selectors.suspension_of(user)
        if suspension is None:
            raise PermissionDenied(SUSPENDED_MESSAGE)
        if request.headers.get("HX-Request"):
            # A poll or a button of a page from before: the whole page goes to the decision.
            return HttpResponseClientRedirect(reverse("moderation_decision", args=[suspension.pk]))
        if request.method in ("GET", "HEAD"):
            return redirect("moderation_decision", action_id=suspension.pk)
        raise PermissionDenied(SUSPENDED_MESSAGE)
