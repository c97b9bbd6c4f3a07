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

from . import apidoc

__all__ = [
    "BaseModel",
    "Field",
    "PhoenixAPI",
    "Router",
    "body",
    "error",
    "literal",
    "page_answer",
    "refusal_error",
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


def refusal_error(refusal, statuses: dict[str, int]) -> JsonResponse:
    """A domain refusal (its `code` and `message`: services carry no HTTP) as the error body,
    its status from the app's table by code, 400 for a code not in it."""
    return error(statuses.get(refusal.code, 400), refusal.code, refusal.message)


def page_answer(page, results: list, **extra) -> JsonResponse:
    """One page of a list (phoenix.paging): its results as the caller shapes them, and the
    cursor of the next page (None on the last)."""
    return JsonResponse({"results": results, "next_cursor": page.next_cursor, **extra})


def unauthenticated() -> JsonResponse:
    return error(401, "authentication_required", "Log in to do this.")


class ScopeMissing(Exception):
    def __init__(self, scope: str):
        super().__init__(scope)
        self.scope = scope


class SessionRequired(Exception):
    pass


class SignedIn(AuthBase):
    """A signed-in creator: the session cookie, or an API key (`Authorization: Bearer`,
    which apikeys' middleware turned into the request's user and `request.api_key`) that
    holds `scope`. `session_only`: no key at all (a stolen key cannot mint keys)."""

    openapi_type = "apiKey"
    openapi_in = "cookie"
    openapi_name = settings.SESSION_COOKIE_NAME

    def __init__(self, scope: str | None, *, session_only: bool = False) -> None:
        assert (scope in SCOPES) != session_only, scope
        self.scope = scope
        self.session_only = session_only
        super().__init__()

    def __call__(self, request: HttpRequest):
        user = request.user
        if not user.is_authenticated:
            return None
        key = getattr(request, "api_key", None)
        if key is not None:
            if self.session_only:
                raise SessionRequired
            if self.scope not in key.scopes:
                raise ScopeMissing(self.scope)
        return user


@cache
def signed_in(scope: str) -> SignedIn:
    return SignedIn(scope)


@cache
def session_only() -> SignedIn:
    return SignedIn(None, session_only=True)


def require_scope(request: HttpRequest, scope: str) -> None:
    """For a view whose need depends on its body (a bulk cancel needs `create`)."""
    key = getattr(request, "api_key", None)
    if key is not None and scope not in key.scopes:
        raise ScopeMissing(scope)


def scope_missing(exc: ScopeMissing) -> JsonResponse:
    response = error(
        403,
        "insufficient_scope",
        f"This API key does not hold the '{exc.scope}' scope.",
        scope=exc.scope,
    )
    response["WWW-Authenticate"] = (
        f'Bearer realm="phoenix", error="insufficient_scope", scope="{exc.scope}"'
    )
    return response


def session_required() -> JsonResponse:
    return error(
        403,
        "session_required",
        "This needs a signed-in session: an API key cannot manage keys or buy tokens.",
    )


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


def dispatcher(operations):
    """One path's view: the operation for the request's method (405 with Allow otherwise,
    as require_http_methods answered), its auth (401 without a login, 403 for an API key
    without the scope or where only a session will do), then the view."""
    by_method = {method: operation for operation in operations for method in operation.methods}
    allowed = sorted(by_method)

    def view(request: HttpRequest, **path_values) -> HttpResponse:
        operation = by_method.get(request.method)
        if operation is None:
            return HttpResponseNotAllowed(allowed)
        try:
            for auth in operation.auth_callbacks:
                if not auth(request):
                    return unauthenticated()
            return operation.view_func(request, **path_values)
        except ScopeMissing as missing:
            return scope_missing(missing)
        except SessionRequired:
            return session_required()

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
            description=apidoc.DESCRIPTION,
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
        doc["paths"] = apidoc.without_titles(doc["paths"])
        doc["components"] = apidoc.without_titles(doc.get("components", {}))
        components = doc.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas.update(apidoc.without_titles(dict(_BODY_SCHEMAS)))
        auth = {
            operation.operation_id: (operation.auth_callbacks or [None])[0]
            for bound_router in self._get_bound_routers()
            for path_view in bound_router.path_operations.values()
            for operation in path_view.operations
        }
        for item in doc["paths"].values():
            for method, op in item.items():
                apidoc.finish_operation(method, op, schemas, auth.get(op["operationId"]))
        components["securitySchemes"] = apidoc.security_schemes()
        components["headers"] = apidoc.RATE_LIMIT_HEADERS
        doc["tags"] = apidoc.TAGS
        return {
            key: doc[key] for key in ("openapi", "info", "servers", "tags", "paths", "components")
        }
