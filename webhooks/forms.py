from django import forms

from .models import EVENT_TYPES

EVENT_CHOICES = [
    ("creation.finished", "creation.finished — a creation is ready as a draft"),
    ("creation.failed", "creation.failed — a creation failed (and was refunded)"),
    ("creation.published", "creation.published — a post went out (now or at its time)"),
    ("tokens.low", "tokens.low — your balance fell below the low mark"),
]
assert [value for value, _ in EVENT_CHOICES] == list(EVENT_TYPES)


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=2000,
        help_text="https:// on the public internet. We check where it points now and at every "
        "delivery.",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/phoenix-webhook"}),
    )
    events = forms.MultipleChoiceField(
        label="Events",
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )
