"""The security suite: built from the URL configuration itself wherever it can be, so a
new URL is checked without anyone remembering to add it."""

import re
from dataclasses import dataclass

import pytest
from django.urls import URLResolver, get_resolver

from apikeys.models import ApiKey
from creations.models import Creation
from library.models import Board, BoardItem
from moderation.models import Action, Appeal, Report
from notifications.models import Notification
from sharing.models import Comment, LinkOpening, Share
from tokens.models import CreditLot, LedgerEntry, Purchase, TokenAccount
from webhooks.models import WebhookDelivery, WebhookEndpoint

# Everything under these prefixes is staff-only and Django's or django-rq's own code.
STAFF_ONLY_PREFIXES = {
    "admin/": (
        "Django admin and the django-rq dashboard under it: staff-only; "
        "test_staff_pages_send_non_staff_to_the_admin_login checks the gate"
    ),
    "staff/moderation": (
        "moderators only (moderation.moderate): tests/moderation/test_queue.py checks that "
        "anonymous visitors, creators and staff without it are refused and change nothing, "
        "and tests/moderation/test_staff_csrf.py that every POST needs the CSRF token"
    ),
    "staff/appeals": "moderators only, as staff/moderation",
}
PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    route: str  # the full pattern, e.g. "creations/<uuid:creation_id>/card"
    name: str | None
    parameters: tuple[tuple[str, str], ...]  # (converter, name) pairs
    is_regex: bool

    def __str__(self) -> str:
        return self.route

    def fill(self, values: dict[str, object]) -> str:
        return "/" + PARAMETER.sub(lambda m: str(values[m["name"]]), self.route)


def all_routes() -> list[Route]:
    """Every URL pattern of the project, includes walked recursively."""
    routes = []

    def walk(patterns, prefix: str, is_regex: bool) -> None:
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            regex = is_regex or type(pattern.pattern).__name__ == "RegexPattern"
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, text, regex)
                continue
            parameters = tuple(
                (m["converter"] or "str", m["name"]) for m in PARAMETER.finditer(text)
            )
            routes.append(Route(text, pattern.name, parameters, regex))

    walk(get_resolver().url_patterns, "", False)
    return routes


@dataclass(frozen=True)
class Operation:
    """One operation of the generated OpenAPI document (GET /api/schema)."""

    method: str  # lower case, as in the document
    path: str  # e.g. "/api/creations/{creation_id}"
    operation_id: str
    needs_login: bool

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def route(self) -> Route:
        """The URLconf's route that serves it."""
        for route in all_routes():
            pattern = "/" + PARAMETER.sub(lambda m: "{" + m["name"] + "}", route.route)
            if pattern == self.path:
                return route
        raise LookupError(f"{self}: no route in the URLconf")


def api_operations() -> list[Operation]:
    """Every operation the document lists: the matrices run over these, so a newly declared
    endpoint is covered the moment it exists."""
    from phoenix.urls import api

    return [
        Operation(method, path, op["operationId"], op["security"] != [])
        for path, item in api.document()["paths"].items()
        for method, op in item.items()
    ]


def staff_only_reason(route: Route) -> str | None:
    for prefix, reason in STAFF_ONLY_PREFIXES.items():
        if route.route.startswith(prefix):
            return reason
    return None


def project_routes() -> list[Route]:
    return [route for route in all_routes() if staff_only_reason(route) is None]


def database_fingerprint() -> tuple:
    """Everything a request by the wrong person could change: every field of every
    creation (trash, schedule and purge change no status; the star), the ledger and the
    balances, every share, link opening, comment and notification, every board and what
    is on it, every report, moderation decision and appeal, every webhook endpoint and
    delivery."""
    return (
        list(Creation.objects.order_by("pk").values()),
        LedgerEntry.objects.count(),
        list(TokenAccount.objects.order_by("pk").values_list("pk", "balance")),
        list(Share.objects.order_by("pk").values()),
        list(LinkOpening.objects.order_by("pk").values()),
        list(Comment.objects.order_by("pk").values()),
        list(Notification.objects.order_by("pk").values()),
        list(Purchase.objects.order_by("pk").values()),
        list(CreditLot.objects.order_by("pk").values()),
        list(WebhookEndpoint.objects.order_by("pk").values()),
        list(WebhookDelivery.objects.order_by("pk").values()),
        list(Board.objects.order_by("pk").values()),
        list(BoardItem.objects.order_by("pk").values()),
        # A key's last use is not a change someone made (a refused request still uses it).
        list(ApiKey.objects.order_by("pk").values("pk", "name", "scopes", "revoked_at")),
        list(Report.objects.order_by("pk").values()),
        list(Action.objects.order_by("pk").values()),
        list(Appeal.objects.order_by("pk").values()),
    )


@pytest.fixture
def staff(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser(
        username="staffer", password="staffer-password-123"
    )
