import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, load_backend, login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from profiles import throttle
from profiles import views as profiles_views
from profiles.selectors import email_unconfirmed
from tokens.selectors import balance_of

from . import selectors, services, twofactor
from .forms import CodeForm, ConfirmIdentityForm, DeleteAccountForm, EmailChangeForm, EnableForm
from .models import DataExport
from .twofactor import CodeRefused

User = get_user_model()

# The account that passed its password and waits for its code: not signed in until then.
PENDING = "phoenix_2fa_pending"
# This session passed a code (or turned two-factor on): what the staff pages ask for.
VERIFIED = "phoenix_2fa_verified"
# The secret being set up, until a code from the app proves the app has it.
SETUP_SECRET = "phoenix_2fa_setup"
# The code step must follow the password step within this many seconds.
PENDING_SECONDS = 300
DEFAULT_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _safe_next(request: HttpRequest, url: str | None, default: str) -> str:
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure()):
        return url
    return default


def second_step(request: HttpRequest, user, next_url: str, backend: str) -> HttpResponse:
    """The password was right and the account has two-factor sign-in: the session is not
    signed in (any sign-in a path made is undone) until the code step passes."""
    if request.user.is_authenticated:
        logout(request)
    request.session.cycle_key()
    request.session[PENDING] = {"u": user.pk, "b": backend, "n": next_url, "t": int(time.time())}
    return redirect("login_code")


class LoginView(profiles_views.LoginView):
    """The site's log-in: the password first (throttled, profiles), then the code."""

    def form_valid(self, form):
        user = form.get_user()
        if twofactor.is_enabled(user):
            # The backend that let it in (moderation's, for a suspended account) signs it in.
            backend = getattr(user, "backend", DEFAULT_BACKEND)
            return second_step(self.request, user, self.get_success_url(), backend)
        return super().form_valid(form)


class PasswordResetConfirmView(profiles_views.PasswordResetConfirmView):
    """The reset link logs in; with two-factor sign-in on, only after the code."""

    def form_valid(self, form):
        if not twofactor.is_enabled(form.user):
            return super().form_valid(form)
        form.save()
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        messages.success(self.request, "Your password is changed.")
        return second_step(self.request, form.user, reverse("feed"), DEFAULT_BACKEND)


def _pending_user(request: HttpRequest):
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("t", 0) > PENDING_SECONDS:
        return None
    backend = pending.get("b") or DEFAULT_BACKEND
    if backend not in settings.AUTHENTICATION_BACKENDS:
        return None
    # Whom that backend still lets in (Django's: an active account; moderation's: also one
    # a suspension keeps out, to appeal).
    return load_backend(backend).get_user(pending.get("u"))


@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """The code step: after the password (a pending sign-in), or for a signed-in session
    that has not passed a code yet and wants a staff page."""
    confirming = request.user.is_authenticated
    user = request.user if confirming else _pending_user(request)
    if user is None or not twofactor.is_enabled(user):
        request.session.pop(PENDING, None)
        if confirming:
            return redirect("feed")
        messages.info(request, "Log in again: the code step waits five minutes at most.")
        return redirect("login")
    pending = request.session.get(PENDING) or {}
    next_url = _safe_next(request, pending.get("n") or request.GET.get("next"), reverse("feed"))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            used = twofactor.code_check(user=user, code=form.cleaned_data["code"])
        except CodeRefused as refusal:
            form.add_error("code", refusal.message)
            status = 429 if refusal.code == "too_many_codes" else 400
        else:
            if not confirming:
                request.session.pop(PENDING, None)
                login(request, user, backend=pending.get("b") or DEFAULT_BACKEND)
            request.session[VERIFIED] = True
            response = redirect(next_url)
            if not confirming:
                profiles_views.after_login(request, response, user)
            if used == "recovery":
                left = twofactor.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"You used a recovery code: {left} left. Make new ones on the security "
                    "page if you are running out.",
                )
            return response
    elif request.method == "POST":
        status = 400
    context = {"form": form, "confirming": confirming, "next": next_url}
    return render(request, "accounts/login_code.html", context, status=status)


# ---------------------------------------------------------------------------------------
# Settings: security (two-factor sign-in).


def _security_context(request: HttpRequest, **extra) -> dict:
    user = request.user
    enabled = twofactor.is_enabled(user)
    context = {
        "enabled": enabled,
        "staff_required": user.is_staff and settings.PHOENIX_STAFF_REQUIRE_2FA,
        "next": _safe_next(request, request.GET.get("next") or request.POST.get("next"), ""),
        **extra,
    }
    if enabled:
        context["codes_left"] = twofactor.recovery_codes_left(user)
        context.setdefault("disable_form", ConfirmIdentityForm(needs_code=True, prefix="disable"))
        context.setdefault("renew_form", CodeForm(prefix="renew"))
    else:
        secret = request.session.get(SETUP_SECRET) or twofactor.new_secret()
        request.session[SETUP_SECRET] = secret
        uri = twofactor.provisioning_uri(user=user, secret=secret)
        context.update(secret=secret, qr_svg=twofactor.qr_svg(uri))
        context.setdefault("enable_form", EnableForm())
    return context


def _private(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    return response


@require_GET
@login_required
def security(request: HttpRequest) -> HttpResponse:
    return _private(render(request, "accounts/security.html", _security_context(request)))


@require_POST
@login_required
def security_enable(request: HttpRequest) -> HttpResponse:
    form = EnableForm(request.POST)
    secret = request.session.get(SETUP_SECRET)
    if not secret:
        return redirect("account_security")
    if form.is_valid():
        try:
            enabled = twofactor.two_factor_enable(
                user=request.user, secret=secret, code=form.cleaned_data["code"]
            )
        except CodeRefused as refusal:
            form.add_error("code", refusal.message)
        else:
            request.session.pop(SETUP_SECRET, None)
            request.session[VERIFIED] = True
            context = _security_context(request, recovery_codes=enabled.recovery_codes)
            return _private(render(request, "accounts/security.html", context))
    context = _security_context(request, enable_form=form)
    return _private(render(request, "accounts/security.html", context, status=400))


@require_POST
@login_required
def security_disable(request: HttpRequest) -> HttpResponse:
    form = ConfirmIdentityForm(request.POST, needs_code=True, prefix="disable")
    if form.is_valid():
        try:
            services.identity_confirm(
                user=request.user,
                password=form.cleaned_data["password"],
                code=form.cleaned_data["code"],
            )
        except CodeRefused as refusal:
            field = "password" if refusal.code == "wrong_password" else "code"
            form.add_error(field, refusal.message)
            status = 429 if refusal.code == "too_many_codes" else 400
        else:
            twofactor.two_factor_disable(user=request.user)
            request.session[VERIFIED] = False
            messages.success(request, "Two-factor sign-in is off.")
            return redirect("account_security")
    else:
        status = 400
    context = _security_context(request, disable_form=form)
    return _private(render(request, "accounts/security.html", context, status=status))


@require_POST
@login_required
def security_recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working); needs a code from the app."""
    if not twofactor.is_enabled(request.user):
        return redirect("account_security")
    form = CodeForm(request.POST, prefix="renew")
    status = 400
    if form.is_valid():
        try:
            twofactor.code_check(user=request.user, code=form.cleaned_data["code"])
        except CodeRefused as refusal:
            form.add_error("code", refusal.message)
            status = 429 if refusal.code == "too_many_codes" else 400
        else:
            codes = twofactor.recovery_codes_renew(user=request.user)
            context = _security_context(request, recovery_codes=codes)
            return _private(render(request, "accounts/security.html", context))
    context = _security_context(request, renew_form=form)
    return _private(render(request, "accounts/security.html", context, status=status))


# ---------------------------------------------------------------------------------------
# Settings: e-mail address.


@require_http_methods(["GET", "POST"])
@login_required
def email_change(request: HttpRequest) -> HttpResponse:
    form = EmailChangeForm(request.POST or None, user=request.user)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            new_email = form.cleaned_data["email"]
            try:
                # The password only: the link to the new address is the second proof.
                services.password_confirm(user=request.user, password=form.cleaned_data["password"])
            except CodeRefused as refusal:
                form.add_error("password", refusal.message)
                status = 429 if refusal.code == "too_many_codes" else 400
            else:
                if not throttle.email_try(request, "email-change", new_email):
                    form.add_error(
                        None,
                        "We have sent several links already. Look for them (the spam folder "
                        f"too), or try again in {throttle.email_minutes_left()} minutes.",
                    )
                    status = 429
                else:
                    token = services.email_change_token(user=request.user, new_email=new_email)
                    url = request.build_absolute_uri(reverse("email_change_confirm", args=[token]))
                    services.email_change_request(
                        user=request.user, new_email=new_email, confirm_url=url
                    )
                    messages.info(
                        request,
                        f"We sent a link to {new_email}: your address changes when you follow it.",
                    )
                    return redirect("account_email")
    context = {"form": form, "confirmed": not email_unconfirmed(request.user)}
    return _private(render(request, "accounts/email.html", context, status=status))


@require_http_methods(["GET", "POST"])
def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the e-mail to the new address: a page with a button (mail scanners
    follow links; only a person presses buttons)."""
    try:
        user, new_email = services.email_change_check(token)
    except services.BadEmailChange as error:
        return render(request, "accounts/email_confirm.html", {"error": error.message}, status=400)
    if request.method == "GET":
        return render(request, "accounts/email_confirm.html", {"address": new_email})
    try:
        changed = services.email_change_confirm(user=user, new_email=new_email)
    except services.BadEmailChange as error:
        return render(request, "accounts/email_confirm.html", {"error": error.message}, status=409)
    text = f"Your e-mail address is now {new_email}."
    if changed.grant is not None:
        text += f" {changed.grant.amount} welcome tokens are yours."
    messages.success(request, text)
    request.session.pop(profiles_views.WELCOME_PENDING, None)
    return redirect("account_email" if request.user.pk == user.pk else "login")


# ---------------------------------------------------------------------------------------
# Settings: your data (export) and deleting the account.


def _data_context(request: HttpRequest, **extra) -> dict:
    user = request.user
    return {
        "exports": selectors.exports_of(user),
        "export_days": settings.PHOENIX_EXPORT_DAYS,
        "balance": balance_of(user),
        "needs_code": twofactor.is_enabled(user),
        "delete_form": DeleteAccountForm(needs_code=twofactor.is_enabled(user)),
        **extra,
    }


@require_GET
@login_required
def account_data(request: HttpRequest) -> HttpResponse:
    return _private(render(request, "accounts/data.html", _data_context(request)))


@require_POST
@login_required
def export_create(request: HttpRequest) -> HttpResponse:
    try:
        services.export_request(user=request.user)
    except services.ExportRefused as refusal:
        messages.info(request, refusal.message)
        return redirect("account_data")
    messages.success(
        request, "We are preparing your data. We will tell you (bell and e-mail) when it's ready."
    )
    return redirect("account_data")


@require_GET
@login_required
def export_download(request: HttpRequest, export_id) -> HttpResponse:
    export = DataExport.objects.filter(
        pk=export_id,
        user_id=request.user.pk,
        status=DataExport.Status.READY,
        expires_at__gt=timezone.now(),
    ).first()
    if export is None:
        raise Http404("No such export.")
    stamp = export.created_at.strftime("%Y%m%d")
    response = FileResponse(
        default_storage.open(export.file.name, "rb"),
        as_attachment=True,
        filename=f"phoenix-{request.user.get_username()}-{stamp}.zip",
        content_type="application/zip",
    )
    return _private(response)


@require_POST
@login_required
def account_delete(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = DeleteAccountForm(request.POST, needs_code=twofactor.is_enabled(user))
    status = 400
    if form.is_valid():
        try:
            services.identity_confirm(
                user=user,
                password=form.cleaned_data["password"],
                code=form.cleaned_data.get("code", ""),
            )
        except CodeRefused as refusal:
            field = "password" if refusal.code == "wrong_password" else "code"
            form.add_error(field, refusal.message)
            status = 429 if refusal.code == "too_many_codes" else 400
        else:
            services.account_delete(user=user)
            logout(request)
            messages.success(request, "Your account is deleted. Goodbye, and thank you.")
            return redirect("feed")
    context = _data_context(request, delete_form=form)
    return _private(render(request, "accounts/data.html", context, status=status))
