from django import forms
from django.contrib.auth import get_user_model

from profiles.email_domains import DISPOSABLE_REFUSED, is_disposable

CODE_HELP = "The 6-digit code your authenticator app shows, or one of your recovery codes."


def code_field(required: bool = True) -> forms.CharField:
    return forms.CharField(
        label="Code",
        max_length=32,
        required=required,
        help_text=CODE_HELP,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "off"}
        ),
    )


def password_field(label: str = "Your password") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = code_field()


class EnableForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=8,
        help_text="The 6 digits it shows for Phoenix now.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ConfirmIdentityForm(forms.Form):
    """The password again, and a code when two-factor sign-in is on."""

    password = password_field()

    def __init__(self, *args, needs_code: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if needs_code:
            self.fields["code"] = code_field()


class DeleteAccountForm(ConfirmIdentityForm):
    confirm = forms.BooleanField(
        label="I understand: my account, my creations and my unspent tokens are gone for good.",
    )


class EmailChangeForm(forms.Form):
    email = forms.EmailField(
        label="New e-mail address",
        max_length=254,
        help_text="We send a link to it; the address changes when you follow the link.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = password_field()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if self.user.email and email.lower() == self.user.email.lower():
            raise forms.ValidationError("That is your address already.")
        users = get_user_model()._default_manager
        if users.filter(email__iexact=email).exclude(pk=self.user.pk).exists():
            raise forms.ValidationError("An account with this e-mail address exists.")
        if is_disposable(email):
            raise forms.ValidationError(DISPOSABLE_REFUSED, "disposable")
        return email
