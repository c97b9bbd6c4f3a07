from django import forms

from . import services
from .models import ApiKey

EXPIRY_CHOICES = [
    ("", "Never"),
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("365", "In a year"),
]


class KeyForm(forms.Form):
    name = forms.CharField(
        max_length=services.NAME_MAX,
        help_text="What it is for, e.g. “nightly batch script”.",
    )
    scopes = forms.MultipleChoiceField(
        choices=ApiKey.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiKey.Scope.READ],
        help_text="What the key may do. It can never do more than your account can.",
    )
    expires_in = forms.ChoiceField(choices=EXPIRY_CHOICES, required=False, label="Expires")
