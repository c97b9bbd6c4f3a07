"""JSON API of API keys: make one (shown once), list them, revoke one. From a signed-in
session only: a key cannot make or revoke keys, so a stolen key cannot mint more."""

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from pydantic import Field

from creations.api import read_body
from creations.presenters import moment
from creations.validation import RequestProblem, object_with_only
from phoenix.jsonapi import Model, NotFound, Router, bad_request, body, error, literal, session_only
from phoenix.jsonapi import refused as refusal_schema

from . import selectors, services
from .models import ApiKey as KeyRow

router = Router(tags=["keys"])
Scope = literal(KeyRow.Scope.values)


class NewKeyRequest(Model):
    name: str = Field(min_length=1, max_length=services.NAME_MAX)
    scopes: list[Scope] = Field(
        min_length=1, description="create (generate, rerun, cancel), read, publish."
    )
    expires_at: datetime = Field(
        None, description="Optional: with its offset, in the coming year. Never, without it."
    )


class ApiKey(Model):
    """An API key as its owner sees it: never the key itself, which is shown once."""

    id: UUID
    name: str
    prefix: str = Field(description="phx_ and the key's first characters.")
    scopes: list[Scope]
    created_at: datetime
    last_used_at: datetime | None = Field(description="To the minute.")
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool


class NewKey(ApiKey):
    """The new key, with the key itself: shown this once, never again (only a hash is kept)."""

    key: str = Field(pattern=r"^phx_[0-9A-Za-z]{36}$")


class Keys(Model):
    keys: list[ApiKey]


def key_as_json(key: KeyRow) -> dict:
    return {
        "id": str(key.pk),
        "name": key.name,
        "prefix": key.prefix,
        "scopes": list(key.scopes),
        "created_at": moment(key.created_at),
        "last_used_at": moment(key.last_used_at),
        "expires_at": moment(key.expires_at),
        "revoked_at": moment(key.revoked_at),
        "active": key.is_active,
    }


@router.post(
    "/keys",
    operation_id="api_keys_create",
    url_name="api_keys",
    summary="Make an API key (shown once)",
    auth=session_only(),
    response={
        201: NewKey,
        400: bad_request(
            "KeyProblem",
            [
                "malformed_json",
                "malformed_request",
                "unknown_field",
                "name_required",
                "invalid_name",
                "invalid_scopes",
                "invalid_expires_at",
            ],
        ),
        409: refusal_schema(
            "TooManyKeys",
            ["too_many_keys"],
            description="The account has as many active keys as it may; revoke one first.",
        ),
    },
    openapi_extra=body(NewKeyRequest),
)
def keys_create(request: HttpRequest) -> JsonResponse:
    try:
        data = object_with_only(read_body(request), {"name", "scopes", "expires_at"})
        new = services.key_create(
            user=request.user,
            name=data.get("name"),
            scopes=data.get("scopes"),
            expires_at=services.parse_expiry(data.get("expires_at")),
        )
    except RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    except services.KeyProblem as problem:
        status = 409 if problem.code == "too_many_keys" else 400
        extra = {} if status == 409 else {"field": problem.field}
        return error(status, problem.code, problem.message, **extra)
    return JsonResponse({**key_as_json(new.key), "key": new.plaintext}, status=201)


@router.get(
    "/keys",
    operation_id="api_keys_list",
    url_name="api_keys",
    summary="The caller's API keys",
    auth=session_only(),
    response={200: Keys},
)
@never_cache
def keys_list(request: HttpRequest) -> JsonResponse:
    """Newest first, revoked and expired ones too (until the account goes)."""
    return JsonResponse({"keys": [key_as_json(key) for key in selectors.keys_of(request.user)]})


@router.delete(
    "/keys/{uuid:key_id}",
    operation_id="api_key_revoke",
    url_name="api_key",
    summary="Revoke an API key",
    auth=session_only(),
    response={204: None, 404: NotFound},
)
def key_revoke(request: HttpRequest, key_id: UUID) -> HttpResponse:
    """At once: the next request with it answers 401. Revoking a revoked key is fine."""
    key = selectors.own_key(user=request.user, key_id=key_id)
    if key is None:
        return error(404, "not_found", "No such API key.")
    services.key_revoke(key=key)
    return HttpResponse(status=204)
