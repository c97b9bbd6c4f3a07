from django import template
from django.conf import settings

from tokens.selectors import balance_of

register = template.Library()


@register.inclusion_tag("creations/primer.html", takes_context=True)
def token_primer(context, balance: int | None = None, heading: bool = True) -> dict:
    """What tokens are, how many the creator has and what each type costs: for a creator
    who has made nothing yet (the create page, the empty drafts tab). Costs come from
    settings.PHOENIX_COSTS, so the words follow the prices."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if balance is None and user is not None and user.is_authenticated:
        balance = balance_of(user)
    return {
        "balance": balance,
        "costs": settings.PHOENIX_COSTS,
        "heading": heading,
    }
