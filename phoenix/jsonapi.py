"""The JSON API's plumbing, below every app: the error body, the declaration helpers each
app's router uses, and the API object (django-ninja) whose OpenAPI 3.1 document at
GET /api/schema is generated from those declarations.

An operation is declared once, on its app's `Router`: path, method, operation id, who may
call it (`auth=signed_in(scope)`), the answer's schema per status (pydantic models; refusals
with `refused(...)`) and the body's (`body(...)`). Views still answer with a JsonResponse
they build, so an answer's bytes are what they were and the hot path validates nothing
twice; the schemas are checked against real answers by tests/api (schemathesis)."""

from functools import cache
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import URLPattern, path
from django.views.decorators.cache import cache_control
from ninja import NinjaAPI, Router
from ninja.security.base import AuthBase
from pydantic import BaseModel, ConfigDict, Field, create_model

__all__ = [
    "BaseModel",
    "Field",
    "PhoenixAPI",
    "Router",
    "body",
    "error",
    "literal",
    "refused",
    "signed_in",
]

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
UNSAFE = {"post", "put", "patch", "delete"}
SCOPES = {
    "create": "Start, run again and cancel creations.",
    "read": "Read the caller's creations, batches, shares, notifications and balance.",
    "publish": "Publish, schedule, unpublish, caption, trash, restore and purge.",
}


def error(status: int, code: str, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": code, "message": message, **extra}, status=status)


def unauthenticated() -> JsonResponse:
    return error(401, "authentication_required", "Log in to do this.")


class SignedIn(AuthBase):
    """A signed-in creator (the session cookie). `scope` is what the operation needs of an
    API key; the document lists it per operation."""

    openapi_type = "apiKey"
    openapi_in = "cookie"
    openapi_name = settings.SESSION_COOKIE_NAME

    def __init__(self, scope: str | None) -> None:
        assert scope is None or scope in SCOPES, scope
        self.scope = scope
        super().__init__()

    def __call__(self, request: HttpRequest):
        user = request.user
        return user if user.is_authenticated else None


@cache
def signed_in(scope: str | None = None) -> SignedIn:
    return SignedIn(scope)


def literal(values):
    """Literal[...] of the values, for enums built from a model's choices."""
    return Literal[tuple(values)]


class Model(BaseModel):
    """An answer's or a body's schema: no field but the declared ones."""

    model_config = ConfigDict(extra="forbid")


def refused(name: str, codes, *, description: str = "", required=None, **extras) -> type[BaseModel]:
    """The error body of a refusal: a code from `codes`, a sentence for people, and the
    extras that code carries (`field`, `balance`, …). Extras named in `required` (all of
    them unless given) are always there."""
    required = set(extras) if required is None else set(required)
    fields: dict[str, Any] = {
        "error": (literal(sorted(set(codes))), ...),
        "message": (str, ...),
    }
    for key, annotation in extras.items():
        fields[key] = (annotation, ...) if key in required else (annotation, None)
    return create_model(name, __doc__=description or None, **fields)


def bad_request(name: str, codes, *, with_field: bool = True) -> type[BaseModel]:
    """400: `field` names the field at fault where there is one."""
    extras = {"field": str | None} if with_field else {}
    description = "The request is malformed; nothing was changed."
    return refused(name, codes, description=description, required=[], **extras)


NotFound = refused(
    "NotFound", ["not_found"], description="No such object, or it is someone else's."
)

# Request bodies are read by each app's own parser (JSON or form, with its exact error
# codes, shared with the HTML forms); these are their declared shapes, for the document.
_BODY_SCHEMAS: dict[str, dict] = {}


def schema_of(model) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    _BODY_SCHEMAS.update(schema.pop("$defs", {}))
    return schema


def body(
    *json_shapes,
    form=None,
    multipart=None,
    required: bool = True,
) -> dict:
    """openapi_extra declaring a request body: one model (or a oneOf of several) as JSON,
    and the form and multipart shapes the view also reads."""
    if len(json_shapes) == 1:
        json_schema = schema_of(json_shapes[0])
    else:
        json_schema = {"oneOf": [schema_of(shape) for shape in json_shapes]}
    content = {JSON: {"schema": json_schema}}
    if form is not None:
        content[FORM] = {"schema": json_schema if form is True else schema_of(form)}
    if multipart is not None:
        content[MULTIPART] = {"schema": schema_of(multipart)}
    return {"requestBody": {"required": required, "content": content}}


def retry_after() -> dict:
    return {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "required": True,
            "schema": {"type": "integer", "minimum": 0},
        }
    }


def headers(status: int, spec: dict) -> dict:
    """openapi_extra adding response headers to one status."""
    return {"responses": {status: {"headers": spec}}}


def merged(*extras: dict) -> dict:
    result: dict = {}
    for extra in extras:
        _deep_update(result, extra)
    return result


def _deep_update(target: dict, update: dict) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = value


CSRF_REFUSED = {
    "description": (
        "CSRF verification failed: a state-changing request needs the X-CSRFToken header "
        "(the csrftoken cookie's value). Django's HTML page, not JSON."
    ),
    "content": {"text/html": {"schema": {"type": "string"}}},
}
UNAUTHENTICATED = {
    "description": "Not logged in.",
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "required": ["error", "message"],
                "properties": {
                    "error": {"enum": ["authentication_required"]},
                    "message": {"type": "string"},
                },
            }
        }
    },
}
DESCRIPTION = (
    "Start creations, follow them, and manage them after: everything under /api/. "
    'Errors are JSON objects {"error": code, "message": sentence, …extras}; '
    "someone else's object answers 404 not_found exactly as a missing one does. "
    "Authentication is the site's session cookie; state-changing requests also "
    "send the CSRF token in the X-CSRFToken header."
)
TAGS = [
    {"name": "creations", "description": "A creator's own creations."},
    {"name": "sharing", "description": "Drafts shared with creators or by link."},
    {"name": "notifications", "description": "What happened, for the signed-in creator."},
    {"name": "tokens", "description": "Buying tokens, purchases, the balance."},
    {"name": "meta", "description": "About the API itself."},
]


def dispatcher(operations):
    """One path's view: the operation for the request's method (405 with Allow otherwise,
    as require_http_methods answered), its auth (401 without a login), then the view."""
    by_method = {method: operation for operation in operations for method in operation.methods}
    allowed = sorted(by_method)

    def view(request: HttpRequest, **path_values) -> HttpResponse:
        operation = by_method.get(request.method)
        if operation is None:
            return HttpResponseNotAllowed(allowed)
        for auth in operation.auth_callbacks:
            if not auth(request):
                return unauthenticated()
        return operation.view_func(request, **path_values)

    view.__name__ = view.__qualname__ = operations[0].view_func.__name__
    return view


class PhoenixAPI(NinjaAPI):
    """NinjaAPI as the declarations' registry and the document's generator: requests go
    through `dispatcher` (Django's CSRF middleware in front, as for any view), there is no
    docs page, and the document is finished from the declarations (401/403 answers,
    security, tags)."""

    def __init__(self) -> None:
        super().__init__(
            title="Phoenix JSON API",
            version="1",
            description=DESCRIPTION,
            openapi_url=None,
            docs_url=None,
            urls_namespace="phoenix-api",
            servers=[{"url": "/"}],
        )
        self.get(
            "/schema",
            operation_id="api_schema",
            summary="This document",
            response={200: dict[str, Any]},
            tags=["meta"],
            url_name="api_schema",
            description=None,
        )(cache_control(public=True, max_age=300)(self._schema_view))

    def _schema_view(self, request: HttpRequest) -> JsonResponse:
        """Public: it describes the API, and says nothing about anybody's data."""
        return JsonResponse(self.document())

    def url_patterns(self) -> list[URLPattern]:
        """The operations' URL patterns, to include under api/ with no namespace (their
        names are the site's). Each path's view is `dispatcher`'s, not ninja's: Django's
        converters hand over the path values, Django's CSRF middleware checks the request
        as for any view, and nothing else runs before the view than the decorators it
        replaced did (ninja's own dispatch measured 26 µs a request; see
        docs/api-declaration.md)."""
        patterns = []
        for bound_router in self._get_bound_routers():
            for route, path_view in bound_router.path_operations.items():
                route = "/".join(part for part in (bound_router.prefix, route) if part)
                route = route.replace("{", "<").replace("}", ">").replace("//", "/").lstrip("/")
                # Django's own uuid converter (ninja keeps a string one for its validation).
                route = route.replace("<uuidstr:", "<uuid:")
                names = [getattr(op, "url_name", None) for op in path_view.operations]
                view = dispatcher(path_view.operations)
                patterns.append(path(route, view, name=next(filter(None, names), None)))
        return patterns

    def document(self) -> dict:
        doc = dict(self.get_openapi_schema(path_prefix="api/"))
        doc["paths"] = _without_titles(doc["paths"])
        doc["components"] = _without_titles(doc.get("components", {}))
        components = doc.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas.update(_without_titles(dict(_BODY_SCHEMAS)))
        for item in doc["paths"].values():
            for method, op in item.items():
                _finish_operation(method, op, schemas)
        components["securitySchemes"] = security_schemes()
        doc["tags"] = TAGS
        return {
            key: doc[key] for key in ("openapi", "info", "servers", "tags", "paths", "components")
        }


def _finish_operation(method: str, op: dict, schemas: dict) -> None:
    """What every operation's declaration implies: 401 and the session scheme where a login
    is needed, Django's 403 CSRF page for a state-changing request; and each answer
    described by its schema's own description where it has one."""
    security = op.pop("security", None)
    responses = {str(status): answer for status, answer in op["responses"].items()}
    for answer in responses.values():
        ref = answer.get("content", {}).get(JSON, {}).get("schema", {}).get("$ref", "")
        described = schemas.get(ref.rpartition("/")[2], {}).get("description")
        if described:
            answer["description"] = described
    if not op.get("parameters"):
        op.pop("parameters", None)
    if security:
        responses["401"] = UNAUTHENTICATED
        op["security"] = (
            [{"sessionCookie": [], "csrfHeader": []}]
            if method in UNSAFE
            else [{"sessionCookie": []}]
        )
    else:
        op["security"] = []
    if method in UNSAFE:
        # Beside a 403 of the operation's own (JSON), the CSRF page (HTML).
        own = responses.get("403")
        responses["403"] = CSRF_REFUSED
        if own:
            responses["403"] = {
                "description": f"{own['description']} Or: {CSRF_REFUSED['description']}",
                "content": {**own["content"], **CSRF_REFUSED["content"]},
            }
    op["responses"] = dict(sorted(responses.items()))


def _without_titles(node):
    """pydantic's generated `title`s (a field's name, title-cased) say nothing the name does
    not, and a `default: null` of an optional field that is absent rather than null would
    be a lie; a property that is itself called title or default is a dict, and stays."""
    if isinstance(node, dict):
        return {
            key: _without_titles(value)
            for key, value in node.items()
            if not (key == "title" and isinstance(value, str))
            and not (key == "default" and value is None)
        }
    if isinstance(node, list):
        return [_without_titles(value) for value in node]
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
                "Every POST and DELETE also needs the value of the "
                f"{settings.CSRF_COOKIE_NAME} cookie in this header (Django's CSRF "
                "protection); over HTTPS the Referer "
                "or Origin must be this site as well. Without it: 403, an HTML page."
            ),
        },
    }
