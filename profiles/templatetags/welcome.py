from django import template
from django.conf import settings

from profiles import selectors

register = template.Library()


@register.inclusion_tag("registration/welcome_banner.html", takes_context=True)
def welcome_banner(context) -> dict:
    """The banner "Confirm your e-mail to receive your welcome tokens", with a Resend
    button, for a creator who has not yet. Only sessions marked at log-in or sign-up ask
    the database; the mark goes once that is settled (the link may be followed in another
    browser)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    if not request.session.get(selectors.WELCOME_PENDING):
        return {"show": False}
    match = request.resolver_match
    if match is not None and match.url_name == "confirm_email":
        return {"show": False}  # the page says it already
    if not selectors.welcome_pending(user):
        del request.session[selectors.WELCOME_PENDING]
        return {"show": False}
    return {
        "show": True,
        "email": user.email,
        "tokens": settings.PHOENIX_WELCOME_TOKENS,
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
