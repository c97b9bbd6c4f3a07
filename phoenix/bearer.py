"""The bearer token of a request, compared safely with a secret."""

from hmac import compare_digest

from django.http import HttpRequest


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None without one."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return given.strip()


def bearer_matches(request: HttpRequest, secret: str) -> bool:
    """Whether the request carries `secret` as its bearer token, in constant time. Bytes,
    not str: compare_digest raises on a str with a character outside ASCII, and a WSGI
    header may hold any latin-1 character."""
    given = bearer_token(request)
    if not secret or not given:
        return False
    return compare_digest(given.encode("utf-8", "surrogateescape"), secret.encode())
