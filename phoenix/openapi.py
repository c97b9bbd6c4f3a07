"""The OpenAPI 3.1 description of Phoenix's JSON API, served at GET /api/schema.

Assembled in code, per endpoint, from the views' own constants (statuses, kinds, limits,
refusal codes), so that it moves with them. Three tests keep it honest:
tests/api/test_openapi.py fails when a route under api/ is missing here, when this names a
path the URLconf lacks, or when it describes a method the view refuses (405);
tests/api/test_schemathesis.py runs every operation against a live Phoenix and checks each
answer (status, content type, body, headers) against this document.
"""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from creations import services as creations
from creations.models import BATCH_MAX, SEED_LIMIT, Creation
from creations.presenters import OWNER_ACTIONS
from creations.validation import ALLOWED_FIELDS, PROMPT_MAX, RERUN_FIELDS, RERUN_MODES
from notifications.models import Notification
from sharing import services as sharing
from sharing.models import COMMENT_MAX, Share
from tokens import payments
from tokens.models import CreditLot, Purchase

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
SCHEMAS = "#/components/schemas/"

# Codes that read_body / read_fields answer for any body, before the action looks at it.
BODY_PROBLEMS = ("malformed_json", "malformed_request", "unknown_field")


def ref(name: str) -> dict:
    return {"$ref": SCHEMAS + name}


def nullable(schema: dict) -> dict:
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None]}
    return {**schema, "type": [schema["type"], "null"]}


def moment() -> dict:
    return {"type": "string", "format": "date-time"}


def uuid() -> dict:
    return {"type": "string", "format": "uuid"}


def json_content(schema: dict) -> dict:
    return {JSON: {"schema": schema}}


def ok(description: str, schema: dict, *, status: str = "200", **extra) -> dict:
    return {status: {"description": description, "content": json_content(schema), **extra}}


def error_schema(codes, *, required=(), **extras) -> dict:
    """The error body every endpoint answers with: a code from `codes`, a sentence, and
    the extras that code carries (`field`, `balance`, …)."""
    return {
        "allOf": [ref("Error")],
        "properties": {"error": {"enum": sorted(set(codes))}, **extras},
        "required": list(required),
    }


def failure(status: int, description: str, codes, *, headers=None, required=None, **extras) -> dict:
    """An error response; the extras are always there unless `required` says which are."""
    required = list(extras) if required is None else list(required)
    response = {
        "description": description,
        "content": json_content(error_schema(codes, required=required, **extras)),
    }
    if headers:
        response["headers"] = headers
    return {str(status): response}


FIELD = {"field": nullable({"type": "string"})}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}


def bad_request(codes, *, with_field: bool = True) -> dict:
    """400: `field` names the field at fault where there is one."""
    extras = FIELD if with_field else {}
    return failure(
        400, "The request is malformed; nothing was changed.", codes, required=(), **extras
    )


def not_found(description: str = "No such creation, or it is someone else's.") -> dict:
    return failure(404, description, ["not_found"])


def unauthenticated() -> dict:
    return failure(401, "Not logged in.", ["authentication_required"])


def csrf_refused() -> dict:
    # Django's own CSRF failure page: HTML, before any of Phoenix's views runs.
    return {
        "403": {
            "description": (
                "CSRF verification failed: a state-changing request needs the X-CSRFToken "
                "header (the csrftoken cookie's value). Django's HTML page, not JSON."
            ),
            "content": {"text/html": {"schema": {"type": "string"}}},
        }
    }


def conflict(*codes: str) -> dict:
    return failure(
        409,
        "The creation's state does not allow this now; nothing was changed.",
        list(codes),
    )


def caption_rejected() -> dict:
    return failure(
        422,
        "The caption contains a null character, or is too long.",
        ["invalid_caption", "caption_too_long"],
    )


def creation_id_parameter(name: str = "creation_id") -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": "The creation's id (a UUID).",
        "schema": uuid(),
    }


def uuid_parameter(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": uuid(),
    }


def body(schema: dict, *, form: bool = True, required: bool = True) -> dict:
    """A request body taken as JSON, or (where the view reads request.POST too) as a form
    of the same fields."""
    content = json_content(schema)
    if form:
        content[FORM] = {"schema": schema}
    return {"required": required, "content": content}


def with_multipart(request_body: dict, schema: dict) -> dict:
    request_body["content"][MULTIPART] = {"schema": schema}
    return request_body


def operation(
    operation_id: str,
    summary: str,
    responses: dict,
    *,
    unsafe: bool,
    tag: str,
    parameters=(),
    request_body=None,
    description: str | None = None,
    public: bool = False,
) -> dict:
    op = {"operationId": operation_id, "summary": summary, "tags": [tag]}
    if description:
        op["description"] = description
    if parameters:
        op["parameters"] = list(parameters)
    if request_body:
        op["requestBody"] = request_body
    merged = dict(responses)
    if public:
        op["security"] = []
    else:
        merged.update(unauthenticated())
        op["security"] = (
            [{"sessionCookie": [], "csrfHeader": []}] if unsafe else [{"sessionCookie": []}]
        )
    if unsafe:
        merged.update(csrf_refused())
    op["responses"] = dict(sorted(merged.items()))
    return op


# -- creations (creations/api.py) ------------------------------------------------------


def creation_schema() -> dict:
    return {
        "type": "object",
        "description": "A creation as its owner sees it (creations.presenters.creation_as_json).",
        "additionalProperties": False,
        "required": list(creation_properties()),
        "properties": creation_properties(),
    }


def creation_properties() -> dict:
    return {
        "creation_id": uuid(),
        "status": {"enum": list(Creation.Status.values)},
        "type": {"enum": list(Creation.Kind.values)},
        "prompt": {"type": "string", "description": "Empty once purged."},
        "aspect_ratio": nullable({"enum": list(Creation.AspectRatio.values)}),
        "orientation": nullable({"enum": list(Creation.Orientation.values)}),
        "progress": {"type": "integer", "minimum": 0, "maximum": 100},
        "media_url": nullable({"type": "string"}),
        "poster_url": nullable({"type": "string"}),
        "width": nullable({"type": "integer", "minimum": 0}),
        "height": nullable({"type": "integer", "minimum": 0}),
        "duration_seconds": nullable({"type": "number"}),
        "error_code": nullable({"type": "string"}),
        "error_message": nullable({"type": "string"}),
        "cost": {"type": "integer", "minimum": 0},
        "refunded": {"type": "boolean"},
        "created_at": moment(),
        "caption": {"type": "string"},
        "published_at": nullable(moment()),
        "publish_at": nullable(moment()),
        "trashed_at": nullable(moment()),
        "purged_at": nullable(moment()),
        "takedown_reason": nullable({"type": "string"}),
        "actions": {
            "type": "array",
            "description": "What the owner may do with it now.",
            "items": {"enum": list(OWNER_ACTIONS)},
            "uniqueItems": True,
        },
        "ahead": nullable(
            {
                "type": "integer",
                "minimum": 0,
                "description": "While pending: how many queued jobs start before this one "
                "(the fair queue's own order). Null otherwise, or when it is not known.",
            }
        ),
        "eta_seconds": nullable(
            {
                "type": "integer",
                "minimum": 0,
                "description": "While pending: the seconds until it should be ready.",
            }
        ),
        "seed": seed_schema(),
        "seed_honored": {
            "type": "boolean",
            "description": "False where the provider ignores seeds: the same seed is no promise.",
        },
        "parent_id": nullable(
            {**uuid(), "description": "The creation it was run again or varied from."}
        ),
        "batch_id": nullable({**uuid(), "description": "The batch it is an item of."}),
    }


def seed_schema() -> dict:
    return {"type": "integer", "minimum": 0, "maximum": SEED_LIMIT - 1}


def create_request_schema() -> dict:
    def variant(kind: str, field: str, choices) -> dict:
        return {
            "type": "object",
            "additionalProperties": False,
            "required": ["type", "prompt"],
            "properties": {
                "type": {"const": kind},
                "prompt": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": PROMPT_MAX,
                    "description": "Trimmed; a blank prompt is refused (prompt_required).",
                },
                field: {"enum": list(choices)},
                "count": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": BATCH_MAX,
                    "default": 1,
                    "description": "Variations: that many creations, each paid, queued and "
                    "refunded on its own; all or none are made.",
                },
                "seed": {
                    **seed_schema(),
                    "description": "The first item's seed (the others seed+1, …); random "
                    "when absent.",
                },
                "idempotency_key": {
                    "type": "string",
                    "maxLength": 64,
                    "description": (
                        "Sent again with the same request: the first creation answers, "
                        "nothing is debited twice. With a different request: 422."
                    ),
                },
            },
        }

    video = variant(Creation.Kind.VIDEO, "orientation", Creation.Orientation.values)
    video["properties"]["image_creation_id"] = {
        **uuid(),
        "description": "Start the video from one of the creator's own images (a draft or "
        "a post). Someone else's, or none: 404, nothing debited.",
    }
    schema = {
        "oneOf": [
            variant(Creation.Kind.IMAGE, "aspect_ratio", Creation.AspectRatio.values),
            video,
        ]
    }
    # The schema's fields are the ones the parser takes, no more and no fewer.
    named = set().union(*(v["properties"] for v in schema["oneOf"]))
    assert named == ALLOWED_FIELDS, named ^ ALLOWED_FIELDS
    return schema


REQUEST_PROBLEMS_OF_CREATE = (
    "malformed_json",
    "malformed_request",
    "unknown_field",
    "invalid_type",
    "invalid_prompt",
    "prompt_required",
    "prompt_too_long",
    "field_not_allowed",
    "invalid_aspect_ratio",
    "invalid_orientation",
    "invalid_idempotency_key",
    "invalid_count",
    "invalid_seed",
    "invalid_image_creation_id",
    "invalid_image",
    "image_too_large",
    "image_too_big",
)


def submitted_schema() -> dict:
    """The answer to a create or a rerun (creations.api.submitted_as_json)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "creation_id",
            "batch_id",
            "creations",
            "status",
            "type",
            "cost",
            "balance",
            "seed",
            "parent_id",
            "status_url",
            "drafts_url",
        ],
        "properties": {
            "creation_id": {**uuid(), "description": "The first (or only) creation."},
            "batch_id": nullable({**uuid(), "description": "With count > 1: GET batch_status."}),
            "creations": {
                "type": "array",
                "minItems": 1,
                "maxItems": BATCH_MAX,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["creation_id", "seed"],
                    "properties": {"creation_id": uuid(), "seed": seed_schema()},
                },
            },
            "status": {"enum": list(Creation.Status.values)},
            "type": {"enum": list(Creation.Kind.values)},
            "cost": {"type": "integer", "minimum": 0, "description": "For all the items."},
            "balance": {"type": "integer", "minimum": 0},
            "seed": seed_schema(),
            "parent_id": nullable(uuid()),
            "status_url": {"type": "string", "description": "Poll it: GET creation_status."},
            "drafts_url": {"type": "string"},
        },
    }


def submit_refusals() -> dict:
    return {
        **failure(
            402,
            "Not enough tokens for every item; nothing was debited. `buy_url` is the page "
            "that sells them.",
            ["insufficient_tokens"],
            balance={"type": "integer"},
            cost={"type": "integer"},
            buy_url={"type": "string"},
        ),
        **failure(
            422,
            "This idempotency key was used for a different request.",
            ["idempotency_key_reused"],
            field={"const": "idempotency_key"},
        ),
        **failure(
            429,
            "Too many of the creator's creations are queued or generating.",
            [creations.TooManyInFlight.code],
            headers=RETRY_AFTER,
            limit={"type": "integer"},
        ),
        **failure(
            503,
            "The job queue is unavailable: the creation failed and was refunded at once.",
            ["queue_unavailable"],
            creation_id=uuid(),
        ),
    }


def create_multipart_schema() -> dict:
    """The form with a file: a video that starts from an uploaded still."""
    video = create_request_schema()["oneOf"][1]
    return {
        **video,
        "properties": {
            **video["properties"],
            "image": {
                "type": "string",
                "contentMediaType": "application/octet-stream",
                "description": "PNG, JPEG or WebP (by content), at most 10 MB and 4096 "
                "pixels a side; re-encoded without its metadata. Otherwise 400, nothing "
                "debited.",
            },
        },
    }


def rerun_creation() -> dict:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "mode": {
                "enum": list(RERUN_MODES),
                "default": "same_seed",
                "description": "same_seed: the same seed again; new_seed: a random one; "
                "vary: a seed near the source's.",
            },
            "prompt": {
                "type": "string",
                "minLength": 1,
                "maxLength": PROMPT_MAX,
                "description": "Edit & run: a new prompt (the source's otherwise).",
            },
            "idempotency_key": {"type": "string", "maxLength": 64},
        },
    }
    assert set(schema["properties"]) == RERUN_FIELDS, set(schema["properties"]) ^ RERUN_FIELDS
    return operation(
        "api_creation_rerun",
        "Run a creation again, with a new seed, or vary it",
        {
            **ok("Debited and queued; parent_id is the source.", submitted_schema(), status="202"),
            **bad_request([*BODY_PROBLEMS, *REQUEST_PROBLEMS_OF_CREATE, "invalid_mode"]),
            **not_found(),
            **conflict("not_rerunnable"),
            **submit_refusals(),
        },
        unsafe=True,
        tag="creations",
        parameters=[creation_id_parameter()],
        request_body=body(schema, required=False),
        description="From a draft, a post, a failed or a canceled creation of the owner's.",
    )


def batch_status() -> dict:
    answer = {
        "type": "object",
        "additionalProperties": False,
        "required": ["batch_id", "creations"],
        "properties": {
            "batch_id": uuid(),
            "creations": {"type": "array", "items": ref("Creation"), "maxItems": BATCH_MAX},
        },
    }
    return operation(
        "api_batch_status",
        "Read a batch's items",
        {
            **ok("The items in order, with their states.", answer),
            **not_found("No such batch, or it is someone else's."),
        },
        unsafe=False,
        tag="creations",
        parameters=[uuid_parameter("batch_id", "The batch's id (batch_id of a create).")],
    )


def generate_creation() -> dict:
    costs = ", ".join(f"{kind} {cost}" for kind, cost in settings.PHOENIX_COSTS.items())
    accepted = submitted_schema()
    return operation(
        "generate_creation",
        "Start a creation",
        {
            **ok(
                "Debited and queued (or, with an idempotency key used before for the same "
                "request, that first creation).",
                accepted,
                status="202",
            ),
            **bad_request(REQUEST_PROBLEMS_OF_CREATE),
            **not_found("The image_creation_id is not one of the creator's images."),
            **submit_refusals(),
        },
        unsafe=True,
        tag="creations",
        description=(
            f"Debits the cost ({costs} tokens) and queues the generation. Poll status_url "
            "until the status is draft (or failed, refunded)."
        ),
        request_body=with_multipart(body(create_request_schema()), create_multipart_schema()),
    )


def creation_status() -> dict:
    return operation(
        "creation_status",
        "Read a creation",
        {**ok("The creation.", ref("Creation")), **not_found()},
        unsafe=False,
        tag="creations",
        parameters=[creation_id_parameter()],
    )


def creation_action(
    operation_id: str,
    summary: str,
    *,
    refusals: tuple[str, ...],
    fields: dict | None = None,
    required: tuple[str, ...] = (),
    problems: tuple[str, ...] = (),
    takes_caption: bool = False,
    answer: dict | None = None,
) -> dict:
    """A POST on one of the owner's creations (creations.api.creation_action)."""
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": fields or {},
    }
    if required:
        schema["required"] = list(required)
    responses = {
        **ok("The creation after the action.", answer or ref("Creation")),
        **bad_request([*BODY_PROBLEMS, *problems]),
        **not_found(),
        **conflict(*refusals),
    }
    if takes_caption:
        responses.update(caption_rejected())
    return operation(
        operation_id,
        summary,
        responses,
        unsafe=True,
        tag="creations",
        parameters=[creation_id_parameter()],
        request_body=body(schema, required=bool(required)),
    )


def caption_field() -> dict:
    return {
        "type": "string",
        "maxLength": creations.CAPTION_MAX,
        "description": "Trimmed; line breaks count as one character.",
    }


def cancel_creation() -> dict:
    return creation_action(
        "api_creation_cancel",
        "Cancel a queued or generating creation (refunded at once)",
        refusals=("not_cancelable",),
        answer={
            "type": "object",
            "additionalProperties": False,
            "required": ["creation_id", "status", "refunded", "balance"],
            "properties": {
                "creation_id": uuid(),
                "status": {"enum": list(Creation.Status.values)},
                "refunded": {"type": "integer", "minimum": 0},
                "balance": {"type": "integer", "minimum": 0},
            },
        },
    )


def publish_creation() -> dict:
    return creation_action(
        "api_creation_publish",
        "Publish a draft now, or schedule it",
        refusals=("not_publishable",),
        fields={
            "caption": caption_field(),
            "publish_at": {
                "type": "string",
                "format": "date-time",
                "description": (
                    "Schedule instead of publishing now: an ISO 8601 time with its offset, "
                    "after now and at most a year ahead."
                ),
            },
        },
        problems=("invalid_publish_at", "invalid_caption"),
        takes_caption=True,
    )


def edit_caption() -> dict:
    return creation_action(
        "api_creation_caption",
        "Edit the caption of a published or scheduled post",
        refusals=("not_editable",),
        fields={"caption": caption_field()},
        required=("caption",),
        problems=("caption_required", "invalid_caption"),
        takes_caption=True,
    )


STATE_ACTIONS = {
    "api_creation_unschedule": (
        "Unschedule a scheduled post (back to the drafts)",
        "not_scheduled",
    ),
    "api_creation_unpublish": ("Unpublish a post (back to the drafts)", "not_published"),
    "api_creation_trash": ("Move a creation to the trash", "not_trashable"),
    "api_creation_restore": ("Restore a creation from the trash", "not_in_trash"),
    "api_creation_purge": ("Delete a creation in the trash forever", "not_in_trash"),
}


def state_action(operation_id: str) -> dict:
    summary, refusal = STATE_ACTIONS[operation_id]
    return creation_action(operation_id, summary, refusals=(refusal,))


def creations_bulk() -> dict:
    limit = settings.PHOENIX_BULK_MAX
    actions = list(creations.BULK_ACTIONS)
    outcomes = ["ok", "not_found", *creations.REFUSALS]
    request = {
        "type": "object",
        "required": ["action", "ids"],
        "properties": {
            "action": {"enum": actions},
            "ids": {
                "type": "array",
                "minItems": 1,
                "maxItems": limit,
                "items": uuid(),
            },
            "caption": {
                **caption_field(),
                "description": "For publish: one caption for all (empty: each keeps its own).",
            },
        },
    }
    answer = {
        "type": "object",
        "additionalProperties": False,
        "required": ["results", "summary"],
        "properties": {
            "results": {
                "type": "object",
                "description": '"ok" or the refusal\'s code, per id.',
                "propertyNames": {"format": "uuid"},
                "additionalProperties": {"enum": outcomes},
            },
            "summary": {
                "type": "object",
                "additionalProperties": False,
                "required": ["ok", "skipped", "reasons"],
                "properties": {
                    "ok": {"type": "integer", "minimum": 0},
                    "skipped": {"type": "integer", "minimum": 0},
                    "reasons": {
                        "type": "object",
                        "additionalProperties": {"type": "integer", "minimum": 1},
                    },
                },
            },
        },
    }
    return operation(
        "api_creations_bulk",
        f"One action on up to {limit} of the owner's creations",
        {
            **ok("Each id's outcome; one refusal does not undo the others.", answer),
            **bad_request(
                [
                    "malformed_json",
                    "malformed_request",
                    "unknown_action",
                    "invalid_ids",
                    "too_many_ids",
                    "invalid_caption",
                ],
                with_field=False,
            ),
            **caption_rejected(),
        },
        unsafe=True,
        tag="creations",
        description=(
            "Each creation is its own transaction. As a form, repeat `ids` once per id. "
            "Someone else's id reads as not_found, like an unknown one."
        ),
        request_body=body(request),
    )


def api_schema_operation() -> dict:
    return operation(
        "api_schema",
        "This document",
        ok("The OpenAPI 3.1 description of the JSON API.", {"type": "object"}),
        unsafe=False,
        tag="meta",
        public=True,
    )


def creation_paths() -> dict:
    item = "/api/creations/{creation_id}"
    return {
        "/api/schema": {"get": api_schema_operation()},
        "/api/generate/creation": {"post": generate_creation()},
        item: {"get": creation_status()},
        "/api/creations/bulk": {"post": creations_bulk()},
        f"{item}/rerun": {"post": rerun_creation()},
        "/api/batches/{batch_id}": {"get": batch_status()},
        f"{item}/cancel": {"post": cancel_creation()},
        f"{item}/publish": {"post": publish_creation()},
        f"{item}/caption": {"post": edit_caption()},
        f"{item}/unschedule": {"post": state_action("api_creation_unschedule")},
        f"{item}/unpublish": {"post": state_action("api_creation_unpublish")},
        f"{item}/trash": {"post": state_action("api_creation_trash")},
        f"{item}/restore": {"post": state_action("api_creation_restore")},
        f"{item}/purge": {"post": state_action("api_creation_purge")},
    }


# -- sharing (sharing/api.py) ------------------------------------------------------------


def share_schema() -> dict:
    return {
        "type": "object",
        "description": (
            "A share of a draft (sharing.api.share_as_json): with a creator, or as a link. "
            "A link's url is in the answer that made it, never again (only its hash is kept)."
        ),
        "additionalProperties": False,
        "required": [
            "share_id",
            "kind",
            "username",
            "created_at",
            "expires_at",
            "revoked_at",
            "revoked_reason",
            "active",
        ],
        "properties": {
            "share_id": uuid(),
            "kind": {"enum": list(Share.Kind.values)},
            "username": nullable({"type": "string"}),
            "created_at": moment(),
            "expires_at": nullable(moment()),
            "revoked_at": nullable(moment()),
            "revoked_reason": nullable({"type": "string"}),
            "active": {"type": "boolean"},
            "url": nullable({"type": "string"}),
            "opened_by": {"type": "array", "items": {"type": "string"}},
        },
    }


def comment_schema() -> dict:
    return {
        "type": "object",
        "description": "A comment on a shared draft (sharing.api.comment_as_json).",
        "additionalProperties": False,
        "required": ["comment_id", "author", "text", "deleted", "created_at", "can_delete"],
        "properties": {
            "comment_id": uuid(),
            "author": {"type": "string"},
            "text": {"type": "string", "description": "Empty once deleted."},
            "deleted": {"type": "boolean"},
            "created_at": moment(),
            "can_delete": {"type": "boolean"},
        },
    }


def no_content(description: str) -> dict:
    return {"204": {"description": description}}


def shares_list() -> dict:
    return operation(
        "api_creation_shares_list",
        "The owner's shares of a draft",
        {
            **ok(
                "Active shares first, then those that ended.",
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["shares"],
                    "properties": {"shares": {"type": "array", "items": ref("Share")}},
                },
            ),
            **not_found(),
        },
        unsafe=False,
        tag="sharing",
        parameters=[creation_id_parameter()],
    )


def share_create() -> dict:
    person = {
        "type": "object",
        "additionalProperties": False,
        "required": ["username"],
        "properties": {"username": {"type": "string", "minLength": 1, "maxLength": 150}},
    }
    link = {
        "type": "object",
        "additionalProperties": False,
        "required": ["link"],
        "properties": {
            "link": {"const": True},
            "expires_at": {
                "type": "string",
                "format": "date-time",
                "description": "With its offset, after now and at most a year ahead.",
            },
        },
    }
    return operation(
        "api_creation_shares_create",
        "Share a draft with a creator, or make a link to it",
        {
            **ok("The new share (a link's with its url, shown once).", ref("Share"), status="201"),
            **bad_request(
                [
                    *BODY_PROBLEMS,
                    "username_or_link",
                    "username_required",
                    "invalid_link",
                    "field_not_allowed",
                    "invalid_expires_at",
                ]
            ),
            **not_found(),
            **failure(
                409,
                "Only a draft (not in the trash) can be shared.",
                ["not_shareable"],
            ),
            **failure(
                422,
                "No active creator by that name, the owner themself, or shared with them already.",
                ["unknown_user", "own_draft", "already_shared"],
            ),
        },
        unsafe=True,
        tag="sharing",
        parameters=[creation_id_parameter()],
        # A form can name a person; `"link": true` needs JSON.
        request_body={
            "required": True,
            "content": {
                JSON: {"schema": {"oneOf": [person, link]}},
                FORM: {"schema": person},
            },
        },
    )


def share_revoke() -> dict:
    return operation(
        "api_creation_share_revoke",
        "Revoke a share",
        {
            **no_content("Revoked (also when it had ended already); effective at once."),
            **not_found("No such creation or share, or it is someone else's."),
        },
        unsafe=True,
        tag="sharing",
        parameters=[
            creation_id_parameter(),
            uuid_parameter("share_id", "The share's id (a UUID)."),
        ],
    )


def comments_list() -> dict:
    return operation(
        "api_creation_comments_list",
        "The comments of a shared draft",
        {
            **ok(
                "Oldest first; deleted ones stay in the thread, without their words.",
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["comments"],
                    "properties": {"comments": {"type": "array", "items": ref("Comment")}},
                },
            ),
            **not_found("No such draft, or it is not shared with the caller."),
        },
        unsafe=False,
        tag="sharing",
        parameters=[creation_id_parameter()],
        description="For the draft's owner and the people it is shared with.",
    )


def comment_post() -> dict:
    per_minute = sharing.comments_per_minute()
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["text"],
        "properties": {
            "text": {
                "type": "string",
                "maxLength": COMMENT_MAX,
                "description": "Trimmed; a line break counts as one character.",
            }
        },
    }
    return operation(
        "api_creation_comments_create",
        "Comment on a shared draft",
        {
            **ok("The new comment.", ref("Comment"), status="201"),
            **bad_request([*BODY_PROBLEMS, "text_required", "invalid_text"]),
            **not_found("No such draft, or it is not shared with the caller."),
            **failure(
                422,
                "Blank, too long, or with a null character.",
                ["text_required", "text_too_long", "invalid_text"],
            ),
            **failure(
                429,
                f"More than {per_minute} comments in a minute.",
                ["too_many_comments"],
                headers=RETRY_AFTER,
            ),
        },
        unsafe=True,
        tag="sharing",
        parameters=[creation_id_parameter()],
        request_body=body(schema),
    )


def comment_delete() -> dict:
    return operation(
        "api_creation_comment_delete",
        "Delete a comment (its author, or the draft's owner)",
        {
            **no_content("Deleted: it stays in the thread as a deleted comment."),
            **not_found("No such draft or comment, or not the caller's to delete."),
        },
        unsafe=True,
        tag="sharing",
        parameters=[
            creation_id_parameter(),
            uuid_parameter("comment_id", "The comment's id (a UUID)."),
        ],
    )


def sharing_paths() -> dict:
    item = "/api/creations/{creation_id}"
    return {
        f"{item}/shares": {"get": shares_list(), "post": share_create()},
        f"{item}/shares/{{share_id}}": {"delete": share_revoke()},
        f"{item}/comments": {"get": comments_list(), "post": comment_post()},
        f"{item}/comments/{{comment_id}}": {"delete": comment_delete()},
    }


# -- community (community/api.py) -------------------------------------------------------------


def post_schema() -> dict:
    return {
        "type": "object",
        "description": "A public post as anyone sees it (community.presenters.post_as_json).",
        "additionalProperties": False,
        "required": [
            "id",
            "url",
            "author",
            "type",
            "prompt",
            "caption",
            "media_url",
            "poster_url",
            "width",
            "height",
            "duration_seconds",
            "published_at",
            "like_count",
            "liked",
            "comment_count",
        ],
        "properties": {
            "id": {**uuid(), "description": "The post's id: its creation's id."},
            "url": {"type": "string", "description": "The post's page."},
            "author": {"type": "string"},
            "type": {"enum": ["image", "video"]},
            "prompt": {"type": "string"},
            "caption": {"type": "string"},
            "media_url": nullable({"type": "string"}),
            "poster_url": nullable({"type": "string"}),
            "width": nullable({"type": "integer"}),
            "height": nullable({"type": "integer"}),
            "duration_seconds": nullable({"type": "number"}),
            "published_at": nullable(moment()),
            "like_count": {"type": "integer", "minimum": 0},
            "liked": {"type": "boolean", "description": "Whether the caller likes it."},
            "comment_count": {"type": "integer", "minimum": 0},
        },
    }


def post_comment_schema() -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "author", "text", "created_at", "can_delete"],
        "properties": {
            "id": uuid(),
            "author": {"type": "string"},
            "text": {"type": "string"},
            "created_at": moment(),
            "can_delete": {"type": "boolean"},
        },
    }


def post_page_schema() -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["results", "next_cursor"],
        "properties": {
            "results": {"type": "array", "items": ref("Post")},
            "next_cursor": nullable({"type": "string"}),
        },
    }


def cursor_parameter() -> dict:
    return {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": "The next_cursor of the page before.",
        "schema": {"type": "string"},
    }


def too_many_social_writes() -> dict:
    return failure(
        429,
        "Over PHOENIX_SOCIAL_WRITES_PER_MINUTE for the account or "
        "PHOENIX_SOCIAL_WRITES_PER_NETWORK_PER_MINUTE for its network.",
        ["too_many_writes"],
        headers=RETRY_AFTER,
        retry_after={"type": "integer"},
    )


def post_not_found() -> dict:
    return not_found("No such post, or it is not public (unpublished, trashed, taken down).")


def post_like(method: str) -> dict:
    liked = {
        "type": "object",
        "additionalProperties": False,
        "required": ["liked", "like_count"],
        "properties": {"liked": {"type": "boolean"}, "like_count": {"type": "integer"}},
    }
    verb = "Like" if method == "post" else "Take a like back"
    return operation(
        f"api_post_{'like' if method == 'post' else 'unlike'}",
        f"{verb} (idempotent)",
        {
            **ok("The caller's like and the post's count.", liked),
            **post_not_found(),
            **too_many_social_writes(),
        },
        unsafe=True,
        tag="community",
        parameters=[creation_id_parameter()],
    )


def post_comments_list() -> dict:
    return operation(
        "api_post_comments_list",
        "A post's comments, oldest first",
        {
            **ok(
                "A page of comments (deleted ones and deactivated authors' left out).",
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["results", "next_cursor", "comment_count"],
                    "properties": {
                        "results": {"type": "array", "items": ref("PostComment")},
                        "next_cursor": nullable({"type": "string"}),
                        "comment_count": {"type": "integer"},
                    },
                },
            ),
            **post_not_found(),
        },
        unsafe=False,
        tag="community",
        parameters=[creation_id_parameter(), cursor_parameter()],
        public=True,
    )


def post_comment_create() -> dict:
    schema = {
        "type": "object",
        "required": ["text"],
        "properties": {"text": {"type": "string", "maxLength": 1000, "description": "Plain text."}},
    }
    return operation(
        "api_post_comments_create",
        "Comment on a post (its owner is told)",
        {
            **ok("The new comment.", ref("PostComment"), status="201"),
            **bad_request(["malformed_json", "invalid_comment"], with_field=False),
            **post_not_found(),
            **failure(422, "Blank or too long.", ["empty_comment", "comment_too_long"]),
            **too_many_social_writes(),
        },
        unsafe=True,
        tag="community",
        parameters=[creation_id_parameter()],
        request_body=body(schema, form=False),
    )


def post_comment_delete() -> dict:
    return operation(
        "api_post_comment_delete",
        "Delete a comment (its author, or the post's owner)",
        {
            **no_content("Deleted."),
            **failure(403, "Neither its author nor the post's owner.", ["not_allowed"]),
            **not_found("No such post or comment."),
        },
        unsafe=True,
        tag="community",
        parameters=[
            creation_id_parameter(),
            uuid_parameter("post_comment_id", "The comment's id (a UUID)."),
        ],
    )


def user_follow(method: str) -> dict:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["username", "following", "follower_count"],
        "properties": {
            "username": {"type": "string"},
            "following": {"type": "boolean"},
            "follower_count": {"type": "integer"},
        },
    }
    responses = {
        **ok("Whether the caller follows them now, and their follower count.", schema),
        **not_found("No such creator."),
        **too_many_social_writes(),
    }
    if method == "post":
        responses.update(bad_request(["cannot_follow_yourself"], with_field=False))
    return operation(
        f"api_user_{'follow' if method == 'post' else 'unfollow'}",
        "Follow a creator (idempotent)" if method == "post" else "Stop following (idempotent)",
        responses,
        unsafe=True,
        tag="community",
        parameters=[
            {
                "name": "username",
                "in": "path",
                "required": True,
                "description": "The creator's username.",
                "schema": {"type": "string"},
            }
        ],
    )


def community_paths() -> dict:
    item = "/api/posts/{creation_id}"
    q = {
        "name": "q",
        "in": "query",
        "required": False,
        "description": "Words (websearch syntax) or a part of a word, in captions and prompts.",
        "schema": {"type": "string", "maxLength": 200},
    }
    return {
        "/api/posts": {
            "get": operation(
                "api_posts",
                "Public posts, newest first; with q, a search of them",
                ok("A page of posts.", post_page_schema()),
                unsafe=False,
                tag="community",
                parameters=[q, cursor_parameter()],
                public=True,
            )
        },
        "/api/explore": {
            "get": operation(
                "api_explore",
                "Public posts ranked by likes, with time decay",
                ok("A page of posts, highest score first.", post_page_schema()),
                unsafe=False,
                tag="community",
                parameters=[cursor_parameter()],
                public=True,
            )
        },
        item: {
            "get": operation(
                "api_post",
                "A post as the public sees it",
                {**ok("The post.", ref("Post")), **post_not_found()},
                unsafe=False,
                tag="community",
                parameters=[creation_id_parameter()],
                public=True,
            )
        },
        f"{item}/like": {"post": post_like("post"), "delete": post_like("delete")},
        f"{item}/comments": {"get": post_comments_list(), "post": post_comment_create()},
        f"{item}/comments/{{post_comment_id}}": {"delete": post_comment_delete()},
        "/api/users/{username}/follow": {
            "post": user_follow("post"),
            "delete": user_follow("delete"),
        },
    }


# -- notifications (notifications/api.py) ---------------------------------------------------


def notification_schema() -> dict:
    return {
        "type": "object",
        "description": "A notification (notifications.api.notification_as_json).",
        "additionalProperties": False,
        "required": [
            "id",
            "kind",
            "text",
            "creation_id",
            "comment_id",
            "created_at",
            "read",
            "read_at",
            "open_url",
        ],
        "properties": {
            "id": uuid(),
            "kind": {"enum": list(Notification.Kind.values)},
            "text": {"type": "string"},
            # Null for news about the account itself (a data export is ready).
            "creation_id": nullable(uuid()),
            "comment_id": nullable(uuid()),
            "created_at": moment(),
            "read": {"type": "boolean"},
            "read_at": nullable(moment()),
            "open_url": {"type": "string", "description": "Marks it read and goes to it."},
        },
    }


def notifications_list() -> dict:
    return operation(
        "api_notifications",
        "The caller's notifications, newest first, a page at a time",
        {
            **ok(
                "One page; `next` is the URL of the older ones (null on the last page).",
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["notifications", "unread", "next"],
                    "properties": {
                        "notifications": {"type": "array", "items": ref("Notification")},
                        "unread": {"type": "integer", "minimum": 0},
                        "next": nullable({"type": "string"}),
                    },
                },
            ),
            **bad_request(["bad_cursor"], with_field=False),
        },
        unsafe=False,
        tag="notifications",
        parameters=[
            {
                "name": "before",
                "in": "query",
                "required": False,
                "description": "The cursor a previous page's `next` carries.",
                "schema": {"type": "string"},
            }
        ],
    )


def notifications_read() -> dict:
    limit = settings.PHOENIX_BULK_MAX
    ids = {
        "type": "object",
        "additionalProperties": False,
        "required": ["ids"],
        "properties": {
            "ids": {
                "type": "array",
                "minItems": 1,
                "maxItems": limit,
                "items": uuid(),
                "description": "Ids that are not the caller's match nothing.",
            }
        },
    }
    everything = {
        "type": "object",
        "additionalProperties": False,
        "required": ["all"],
        "properties": {"all": {"const": True}},
    }
    return operation(
        "api_notifications_read",
        "Mark some notifications read, or all of them",
        {
            **ok(
                "How many changed, and the unread count after.",
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["marked", "unread"],
                    "properties": {
                        "marked": {"type": "integer", "minimum": 0},
                        "unread": {"type": "integer", "minimum": 0},
                    },
                },
            ),
            **bad_request(
                [*BODY_PROBLEMS, "ids_or_all", "invalid_ids", "too_many_ids"],
            ),
        },
        unsafe=True,
        tag="notifications",
        request_body={"required": True, "content": json_content({"oneOf": [ids, everything]})},
    )


def notification_paths() -> dict:
    return {
        "/api/notifications": {"get": notifications_list()},
        "/api/notifications/read": {"post": notifications_read()},
    }


# -- tokens (tokens/api.py) ----------------------------------------------------------------


def pack_schema() -> dict:
    return {
        "type": "object",
        "description": "A pack on sale (tokens.api.pack_as_json).",
        "additionalProperties": False,
        "required": ["slug", "name", "tokens", "price", "currency"],
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "tokens": {"type": "integer", "minimum": 1},
            "price": {"type": "integer", "minimum": 1, "description": "In minor units."},
            "currency": {"type": "string", "pattern": "^[a-z]{3}$"},
        },
    }


def purchase_schema() -> dict:
    return {
        "type": "object",
        "description": "A purchase of a pack (tokens.api.purchase_as_json).",
        "additionalProperties": False,
        "required": ["id", "status", "pack", "tokens", "amount", "currency", "created_at"],
        "properties": {
            "id": uuid(),
            "status": {"enum": list(Purchase.Status.values)},
            "pack": {"type": "string"},
            "tokens": {"type": "integer", "minimum": 1},
            "amount": {"type": "integer", "minimum": 1, "description": "In minor units."},
            "currency": {"type": "string"},
            "created_at": moment(),
        },
    }


def token_packs() -> dict:
    return operation(
        "api_token_packs",
        "The packs on sale",
        ok("The active packs, in their order.", {"type": "array", "items": ref("TokenPack")}),
        unsafe=False,
        tag="tokens",
        public=True,
    )


def token_checkout() -> dict:
    started = {
        "type": "object",
        "additionalProperties": False,
        "required": ["purchase_id", "checkout_url"],
        "properties": {
            "purchase_id": uuid(),
            "checkout_url": {
                "type": "string",
                "description": "Stripe Checkout: send the buyer there.",
            },
        },
    }
    request = {
        "type": "object",
        "additionalProperties": False,
        "required": ["pack"],
        "properties": {"pack": {"type": "string", "description": "A pack's slug."}},
    }
    return operation(
        "api_token_checkout",
        "Buy a pack: open a Stripe Checkout Session",
        {
            **ok("A pending purchase and its Checkout page.", started, status="201"),
            **bad_request(["malformed_json", "malformed_request", payments.UnknownPack.code]),
            **failure(
                503,
                "Stripe could not be reached; nothing was made or charged.",
                [payments.StripeUnavailable.code],
            ),
        },
        unsafe=True,
        tag="tokens",
        description=(
            "The tokens arrive when Stripe confirms the payment (its webhook); poll "
            "api_token_purchase for the status."
        ),
        request_body=body(request),
    )


def token_purchase() -> dict:
    return operation(
        "api_token_purchase",
        "Read one of the caller's purchases",
        {
            **ok("The purchase.", ref("Purchase")),
            **not_found("No such purchase, or it is someone else's."),
        },
        unsafe=False,
        tag="tokens",
        parameters=[uuid_parameter("purchase_id", "The purchase's id (a UUID).")],
    )


def token_balance() -> dict:
    lot = {
        "type": "object",
        "additionalProperties": False,
        "required": ["category", "remaining", "expires_at"],
        "properties": {
            "category": {"enum": list(CreditLot.Category.values)},
            "remaining": {"type": "integer", "minimum": 1},
            "expires_at": nullable(moment()),
        },
    }
    return operation(
        "api_token_balance",
        "The caller's balance, debt and lots",
        ok(
            "Lots in the order debits draw from them: promo before paid, then the soonest "
            "expiry first. `debt`: tokens spent from a refunded purchase, paid first from the "
            "next tokens that come in.",
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["balance", "debt", "lots"],
                "properties": {
                    "balance": {"type": "integer", "minimum": 0},
                    "debt": {"type": "integer", "minimum": 0},
                    "lots": {"type": "array", "items": lot},
                },
            },
        ),
        unsafe=False,
        tag="tokens",
    )


def token_paths() -> dict:
    return {
        "/api/tokens/packs": {"get": token_packs()},
        "/api/tokens/checkout": {"post": token_checkout()},
        "/api/tokens/purchases/{purchase_id}": {"get": token_purchase()},
        "/api/tokens/balance": {"get": token_balance()},
    }


# -- the document -------------------------------------------------------------------------


def components() -> dict:
    return {
        "schemas": {
            "Error": {
                "type": "object",
                "description": (
                    "Every refusal: a stable code for programs, a sentence for people, and "
                    "the extras the code names (field, balance, cost, limit, creation_id)."
                ),
                "required": ["error", "message"],
                "properties": {
                    "error": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
            "Creation": creation_schema(),
            "Share": share_schema(),
            "Comment": comment_schema(),
            "Post": post_schema(),
            "PostComment": post_comment_schema(),
            "Notification": notification_schema(),
            "TokenPack": pack_schema(),
            "Purchase": purchase_schema(),
        },
        "securitySchemes": {
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
        },
    }


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Phoenix JSON API",
            "version": "1",
            "description": (
                "Start creations, follow them, and manage them after: everything under /api/. "
                'Errors are JSON objects {"error": code, "message": sentence, …extras}; '
                "someone else's object answers 404 not_found exactly as a missing one does. "
                "Authentication is the site's session cookie; state-changing requests also "
                "send the CSRF token in the X-CSRFToken header."
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "creations", "description": "A creator's own creations."},
            {"name": "sharing", "description": "Drafts shared with creators or by link."},
            {
                "name": "community",
                "description": "Public posts: likes, comments, follows, Explore, search.",
            },
            {"name": "notifications", "description": "What happened, for the signed-in creator."},
            {"name": "tokens", "description": "Buying tokens, purchases, the balance."},
            {"name": "meta", "description": "About the API itself."},
        ],
        "paths": {
            **creation_paths(),
            **sharing_paths(),
            **community_paths(),
            **notification_paths(),
            **token_paths(),
        },
        "components": components(),
    }


@require_GET
@cache_control(public=True, max_age=300)
def api_schema(request: HttpRequest) -> JsonResponse:
    """Public: it describes the API, and says nothing about anybody's data."""
    return JsonResponse(document())
