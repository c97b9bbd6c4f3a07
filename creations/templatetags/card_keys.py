import secrets

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def showing_key(context) -> str:
    """A value new at each showing of a card, for its forms' idempotency keys: a double
    press of one showing makes one creation, a press on a card shown again makes a new one.
    A card kept in creations.cards' cache holds a marker here, replaced at each use."""
    return context.get("showing_key") or secrets.token_hex(8)
