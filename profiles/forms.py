from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError

from . import throttle


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ("username",)


class ThrottledLoginMixin:
    """Refuses to check a password once an account or a network has failed too often, and
    counts each failure; the site's login and the admin's both use it."""

    throttled = False

    def clean(self):
        username = self.cleaned_data.get("username")
        if not username:
            return super().clean()
        attempt = throttle.login_try(self.request, username)
        if attempt.refused:
            self.throttled = True
            raise ValidationError(
                "Too many failed log-ins. Try again in %(minutes)d minutes.",
                code="throttled",
                params={"minutes": throttle.login_minutes_left()},
            )
        cleaned = super().clean()  # a wrong password raises, and its try stays counted
        if self.get_user() is not None:
            attempt.succeeded()
        # A try without a password checked nothing; it stays counted, like a failure.
        return cleaned


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
