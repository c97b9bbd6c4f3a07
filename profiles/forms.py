from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordResetForm,
    SetPasswordForm,
    UserCreationForm,
)
from django.contrib.auth.password_validation import get_default_password_validators
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join

from phoenix.emails import email_enqueue

from . import throttle
from .email_domains import DISPOSABLE_REFUSED, is_disposable
from .selectors import login_name, reset_reaches

EMAIL_TAKEN = "email_taken"
# What AUTH_PASSWORD_VALIDATORS ask, in a creator's words (shown where a password is
# chosen); a validator not named here says it in its own.
RULE_WORDS = {
    "MinimumLengthValidator": lambda v: f"At least {v.min_length} characters.",
    "NumericPasswordValidator": lambda v: "Not only digits.",
    "CommonPasswordValidator": lambda v: "Not a password many people use.",
    "UserAttributeSimilarityValidator": lambda v: "Not like your username or e-mail.",
}


def password_rules() -> str:
    """The rules as a list (help text is shown as HTML: registration/_fields.html)."""
    order = list(RULE_WORDS)  # the length first: what most people check first
    validators = sorted(
        get_default_password_validators(),
        key=lambda v: order.index(type(v).__name__) if type(v).__name__ in order else len(order),
    )
    rules = [
        RULE_WORDS[type(v).__name__](v) if type(v).__name__ in RULE_WORDS else v.get_help_text()
        for v in validators
    ]
    tip = "A few words strung together are easy to remember and hard to guess."
    return format_html(
        "<ul>{}</ul><p>{}</p>", format_html_join("", "<li>{}</li>", ((r,) for r in rules)), tip
    )


class PasswordRulesOnPasswordField:
    """Django checks a new password against the password rules on its confirmation field,
    so "This password is too common" showed under "Password confirmation" and was read out
    there, away from the field to change and the rules it breaks. Here it goes on the
    password's own field; a mismatch stays on the confirmation."""

    CONFIRMED = {"password2": "password1", "new_password2": "new_password1"}

    def validate_password_for_user(self, user, password_field_name="password2"):
        super().validate_password_for_user(
            user, password_field_name=self.CONFIRMED.get(password_field_name, password_field_name)
        )


class SignupForm(PasswordRulesOnPasswordField, UserCreationForm):
    # Saying an address has an account tells no more than Django's own "A user with that
    # username already exists", and a creator who forgot they signed up needs to hear it.
    # The view counts such a refusal towards the sign-up limit (an invalid form otherwise
    # does not count), so the form cannot be used to test addresses in bulk.
    email = forms.EmailField(
        label="E-mail",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            EMAIL_TAKEN: "An account with this e-mail address exists. Log in, or reset "
            "its password."
        },
    )

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].help_text = (
            "The name on your posts and your profile's address: letters, digits and "
            "@ . + - _ only, up to 150."
        )
        self.fields["password1"].help_text = password_rules()
        self.fields["password2"].help_text = "The same password again, to be sure of it."
        tokens = settings.PHOENIX_WELCOME_TOKENS
        if tokens > 0:
            self.fields["email"].help_text = (
                f"We send a link to confirm it: your {tokens} welcome tokens arrive when you "
                "follow it."
            )
        else:
            self.fields["email"].help_text = "We send a link to confirm it."

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if get_user_model()._default_manager.filter(email__iexact=email).exists():
            raise ValidationError(self.fields["email"].error_messages[EMAIL_TAKEN], EMAIL_TAKEN)
        if is_disposable(email):
            raise ValidationError(DISPOSABLE_REFUSED, "disposable")
        return email


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, its e-mail queued (phoenix.emails) rather than sent in the
    request: a slow mail server neither holds the page nor tells, by its delay, whether
    the address has an account."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        email_enqueue(to=to_email, subject=subject, body=body)


class NewPasswordForm(PasswordRulesOnPasswordField, SetPasswordForm):
    """The password reset link's form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = password_rules()


REFUSALS = {
    # A stranger's guessing filled the account-wide limit: this browser is new to the
    # account, so it is held to it. Say what the owner can do.
    "login-account": (
        "Someone has been trying to guess the password of this account, so log-ins from "
        "browsers new to it are paused for %(minutes)d minutes. A browser you have logged "
        "in with before can still log in. Or reset your password by e-mail: the link logs "
        "you in."
    ),
    "login-device": (
        "Too many failed log-ins from this browser. Try again in %(minutes)d minutes, or "
        "reset your password by e-mail."
    ),
}
# The same, for an account a password reset e-mail cannot reach (it has no address).
REFUSALS_WITHOUT_RESET = {
    "login-account": (
        "Someone has been trying to guess the password of this account, so log-ins from "
        "browsers new to it are paused for %(minutes)d minutes. A browser you have logged "
        "in with before can still log in, or wait %(minutes)d minutes and try again."
    ),
    "login-device": "Too many failed log-ins from this browser. Try again in %(minutes)d minutes.",
}
REFUSED_FROM_NETWORK = (
    "Too many failed log-ins from your network. Try again in %(minutes)d minutes."
)


class ThrottledLoginMixin:
    """Refuses to check a password once an account, a network or a browser has failed too
    often, and counts each failure; the site's login and the admin's both use it."""

    throttled = False
    refused_by: str | None = None
    reset_reaches = False  # whether the refusal offers a password reset by e-mail

    def clean(self):
        username = self.cleaned_data.get("username")
        if not username:
            return super().clean()
        # "Alice", "alice" or alice@example.com: the account's own username from here on
        # (what the password is checked against, and what the limits count).
        username = login_name(username)
        self.cleaned_data["username"] = username
        attempt = throttle.login_try(self.request, username)
        if attempt.refused:
            self.throttled = True
            self.refused_by = attempt.refused_by
            refusals = REFUSALS_WITHOUT_RESET
            if attempt.refused_by in REFUSALS and reset_reaches(username):
                self.reset_reaches, refusals = True, REFUSALS
            raise ValidationError(
                refusals.get(attempt.refused_by, REFUSED_FROM_NETWORK),
                code="throttled",
                params={"minutes": throttle.login_minutes_left()},
            )
        cleaned = super().clean()  # a wrong password raises, and its try stays counted
        if self.get_user() is not None:
            attempt.succeeded()
        # A try without a password checked nothing; it stays counted, like a failure.
        return cleaned


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    error_messages = {
        "invalid_login": (
            "That username or e-mail and password do not match an account. Check both, or "
            "reset your password."
        ),
        "inactive": "This account is closed.",
    }

    def confirm_login_allowed(self, user):
        """The backends decide who signs in: Django's refuses every inactive account, and
        the one an inactive account gets past (moderation's, for a suspended account to
        read its decision and appeal it) means to let it in."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The form keeps its `username` field: it takes the e-mail address too.
        self.fields["username"].label = "Username or e-mail"


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
