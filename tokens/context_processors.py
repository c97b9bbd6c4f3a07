from django.http import HttpRequest


def token_balance(request: HttpRequest) -> dict:
    """The signed-in user's balance for the navigation bar (one small query, lazily)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def balance() -> int:
        from .models import TokenAccount

        return TokenAccount.objects.filter(user=user).values_list("balance", flat=True).first() or 0

    return {"token_balance": balance}
