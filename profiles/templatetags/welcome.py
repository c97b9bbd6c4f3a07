from django import template
from django.conf import settings

from profiles import selectors

register = template.Library()


# Pages that say it in their own words: the confirmation page, and the create page, where
# the welcome is the one state a new account sees (creations/create.html, welcome_state).
SAID_ON_THE_PAGE = ("confirm_email", "create")


def _pending(request) -> bool:
    """Whether this creator still has their welcome grant to collect. Only sessions marked
    at log-in or sign-up ask the database; the mark goes once that is settled (the link
    may be followed in another browser)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    session = getattr(request, "session", None)
    if session is None or not session.get(selectors.WELCOME_PENDING):
        return False
    if not selectors.welcome_pending(user):
        del session[selectors.WELCOME_PENDING]
        return False
    return True


@register.simple_tag(takes_context=True)
def welcome_state(context, balance: int | None = None) -> dict | None:
    """For a page that shows the welcome itself (the create page, the drafts tab's
    composer): None when there is no welcome to speak of. Before the address is confirmed,
    the address and the tokens waiting ("confirm to unlock"). After, while the day's cap
    holds the grant back and the balance (`balance`) pays for nothing: the tokens on their
    way ("held"), which is not being out of tokens. Only such a balance asks whether the
    grant is held: one query, on pages that are short of tokens anyway."""
    request = context.get("request")
    if _pending(request):
        return {
            "email": request.user.email,
            "tokens": settings.PHOENIX_WELCOME_TOKENS,
            "next": request.get_full_path(),
        }
    if balance is None or balance >= min(settings.PHOENIX_COSTS.values()):
        return None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not selectors.welcome_held(user):
        return None
    return {
        "held": True,
        "tokens": settings.PHOENIX_WELCOME_TOKENS,
        "per_day": settings.PHOENIX_WELCOME_GRANTS_PER_DAY,
    }


@register.inclusion_tag("registration/welcome_banner.html", takes_context=True)
def welcome_banner(context) -> dict:
    """The banner "Confirm your e-mail to receive your welcome tokens", with a Resend
    button, for a creator who has not yet (not on the pages that say it themselves)."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    if match is not None and match.url_name in SAID_ON_THE_PAGE:
        return {"show": False}
    if not _pending(request):
        return {"show": False}
    user = request.user
    return {
        "show": True,
        "email": user.email,
        "tokens": settings.PHOENIX_WELCOME_TOKENS,
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
