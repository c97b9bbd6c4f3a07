from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from . import twofactor
from .views import VERIFIED

# The staff pages: the admin (and the RQ dashboard under it) and /staff/.
STAFF_PREFIXES = ("/admin/", "/staff/")
# Where a staff member signs in or out.
OPEN_PATHS = ("/admin/login/", "/admin/logout/")


class StaffTwoFactorMiddleware:
    """With PHOENIX_STAFF_REQUIRE_2FA, a staff member opens the admin and the staff pages
    only in a session that passed a two-factor code: without two-factor sign-in they are
    sent to set it up, with it (a session from before, or signed in some other way) to the
    code step. Costs nothing on other pages, and one flag in the session on these."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.PHOENIX_STAFF_REQUIRE_2FA
            and request.path.startswith(STAFF_PREFIXES)
            and request.path not in OPEN_PATHS
            and request.user.is_authenticated
            and request.user.is_staff
            and not request.session.get(VERIFIED)
        ):
            query = urlencode({"next": request.get_full_path()})
            if twofactor.is_enabled(request.user):
                return redirect(f"{reverse('login_code')}?{query}")
            messages.warning(
                request,
                "Staff accounts need two-factor sign-in to open the staff pages: set it up here.",
            )
            return redirect(f"{reverse('account_security')}?{query}")
        return self.get_response(request)
