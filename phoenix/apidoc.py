"""Finishing the generated OpenAPI document: what every operation's declaration implies
and the declaration does not spell out — who may call it (session, API key and its scope),
the 401/403/429 answers that come with that, the rate-limit headers of a key's answers."""

from django.conf import settings

JSON = "application/json"
UNSAFE = {"post", "put", "patch", "delete"}
DESCRIPTION = (
    "Start creations, follow them, and manage them after: everything under /api/. "
    'Errors are JSON objects {"error": code, "message": sentence, …extras}; '
    "someone else's object answers 404 not_found exactly as a missing one does. "
    "Authentication is the site's session cookie (state-changing requests also send the "
    "CSRF token in the X-CSRFToken header), or a personal API key "
    "(`Authorization: Bearer phx_…`, no CSRF token) holding the scope each operation names. "
    "A suspended account signs in to appeal, and nothing else: its session gets 403 "
    "account_suspended from every operation but the appeal and the notifications (its API "
    "keys are refused, 401)."
)
TAGS = [
    {"name": "creations", "description": "A creator's own creations."},
    {"name": "sharing", "description": "Drafts shared with creators or by link."},
    {"name": "notifications", "description": "What happened, for the signed-in creator."},
    {"name": "tokens", "description": "Buying tokens, purchases, the balance."},
    {"name": "keys", "description": "Personal API keys (from a signed-in session only)."},
    {"name": "library", "description": "Stars, boards and search over one's own creations."},
    {"name": "community", "description": "Public posts: likes, comments, follows, Explore."},
    {"name": "moderation", "description": "Reports and appeals."},
    {"name": "webhooks", "description": "Signed deliveries to the caller's endpoints."},
    {"name": "meta", "description": "About the API itself."},
]
CSRF_REFUSED = {
    "schema": {"type": "string"},
}
CSRF_DESCRIPTION = (
    "CSRF verification failed: a state-changing request with the session cookie needs the "
    "X-CSRFToken header (the csrftoken cookie's value). Django's HTML page, not JSON."
)


def refusal_schema(codes, **extras) -> dict:
    return {
        "type": "object",
        "required": ["error", "message", *extras],
        "properties": {
            "error": {"enum": list(codes)},
            "message": {"type": "string"},
            **extras,
        },
    }


RATE_LIMIT_HEADERS = {
    "RateLimitLimit": {
        "description": "With an API key: the requests its window allows.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimitRemaining": {
        "description": "With an API key: the requests left in the current window.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimitReset": {
        "description": "With an API key: seconds until the window starts again.",
        "schema": {"type": "integer", "minimum": 0},
    },
}
RATE_LIMIT_REFS = {
    "x-ratelimit-limit": {"$ref": "#/components/headers/RateLimitLimit"},
    "x-ratelimit-remaining": {"$ref": "#/components/headers/RateLimitRemaining"},
    "x-ratelimit-reset": {"$ref": "#/components/headers/RateLimitReset"},
}
WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": "With an API key: why it was refused (RFC 6750).",
        "schema": {"type": "string"},
    }
}


def finish_operation(method: str, op: dict, schemas: dict, auth) -> None:
    """401 and the security requirement where a login is needed (with the API key's scope,
    unless the operation is for a session only), Django's 403 CSRF page for a state-changing
    request, 403 for a key without the scope, 429 and the rate-limit headers of a key's
    answers; each answer described by its schema's own description where it has one."""
    op.pop("security", None)
    responses = {str(status): answer for status, answer in op["responses"].items()}
    for answer in responses.values():
        ref = answer.get("content", {}).get(JSON, {}).get("schema", {}).get("$ref", "")
        described = schemas.get(ref.rpartition("/")[2], {}).get("description")
        if described:
            answer["description"] = described
    if not op.get("parameters"):
        op.pop("parameters", None)
    unsafe = method in UNSAFE
    session = {"sessionCookie": [], "csrfHeader": []} if unsafe else {"sessionCookie": []}
    if auth is None:
        op["security"] = []
    else:
        bearer = not auth.session_only
        op["security"] = [session, {"bearerAuth": [auth.scope]}] if bearer else [session]
        codes = ["authentication_required", "invalid_api_key"] if bearer else None
        responses["401"] = {
            "description": "Not logged in, or the API key is unknown, revoked or expired.",
            "headers": WWW_AUTHENTICATE,
            "content": {JSON: {"schema": refusal_schema(codes or ["authentication_required"])}},
        }
        refused = (
            refusal_schema(["insufficient_scope"], scope={"enum": [auth.scope]})
            if bearer
            else refusal_schema(["session_required"])
        )
        responses["403"] = {
            "description": (
                f"An API key without the '{auth.scope}' scope."
                if bearer
                else "An API key: this needs a signed-in session."
            ),
            "content": {JSON: {"schema": refused}},
        }
        if bearer:
            _add_rate_limit(responses)
    if unsafe:
        csrf = responses.setdefault("403", {"description": "", "content": {}})
        csrf["description"] = " ".join(filter(None, [CSRF_DESCRIPTION, csrf["description"]]))
        csrf["content"]["text/html"] = CSRF_REFUSED
    op["responses"] = dict(sorted(responses.items()))


def _add_rate_limit(responses: dict) -> None:
    limited = refusal_schema(["rate_limited"], limit={"type": "integer"})
    retry = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
    answer = responses.get("429")
    if answer is None:
        responses["429"] = {
            "description": "The API key's request window is used up.",
            "headers": retry,
            "content": {JSON: {"schema": limited}},
        }
    else:
        content = answer["content"][JSON]
        content["schema"] = {"anyOf": [content["schema"], limited]}
        answer["description"] += " Or: the API key's request window is used up."
    for answer in responses.values():
        answer.setdefault("headers", {}).update(RATE_LIMIT_REFS)


def without_titles(node):
    """pydantic's generated `title`s (a field's name, title-cased) say nothing the name does
    not, and a `default: null` of an optional field that is absent rather than null would
    be a lie; a property that is itself called title or default is a dict, and stays."""
    if isinstance(node, dict):
        return {
            key: without_titles(value)
            for key, value in node.items()
            if not (key == "title" and isinstance(value, str))
            and not (key == "default" and value is None)
        }
    if isinstance(node, list):
        return [without_titles(value) for value in node]
    return node


def security_schemes() -> dict:
    return {
        "sessionCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The session of a logged-in creator (POST /accounts/login/).",
        },
        "csrfHeader": {
            "type": "apiKey",
            "in": "header",
            "name": "X-CSRFToken",
            "description": (
                "Every POST and DELETE with the session cookie also needs the value of the "
                f"{settings.CSRF_COOKIE_NAME} cookie in this header (Django's CSRF "
                "protection); over HTTPS the Referer "
                "or Origin must be this site as well. Without it: 403, an HTML page."
            ),
        },
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "phx_…",
            "description": (
                "A personal API key (Settings → API keys, or POST /api/keys), sent as "
                "`Authorization: Bearer phx_…`; no CSRF token. The scopes listed per "
                "operation are the ones the key must hold: create, read, publish. Each "
                f"key may make {settings.PHOENIX_API_KEY_REQUESTS} requests per "
                f"{settings.PHOENIX_API_KEY_WINDOW} s (x-ratelimit-* headers), within its "
                "owner's own limits."
            ),
        },
    }
