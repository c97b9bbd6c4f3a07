"""The JSON API's shared pieces, below every app: the error body and the 401 guard."""

from django.http import HttpRequest, JsonResponse


def error(status: int, code: str, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": code, "message": message, **extra}, status=status)


def api_login_required(view):
    """Like login_required, but an API answers 401 JSON instead of redirecting."""

    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return error(401, "authentication_required", "Log in to do this.")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped
