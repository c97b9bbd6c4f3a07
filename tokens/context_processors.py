from django.http import HttpRequest

from .selectors import balance_of


def token_balance(request: HttpRequest) -> dict:
    """The signed-in user's balance for the navigation bar (one small query, lazily)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    return {"token_balance": lambda: balance_of(user)}
