"""The declared shapes of creations' JSON API (creations/api.py): what each body may hold
and what each answer holds. The OpenAPI document is generated from these."""

from datetime import datetime
from uuid import UUID

from django.conf import settings
from pydantic import Field

from phoenix.jsonapi import Model, bad_request, literal, refused

from . import models, services
from .models import BATCH_MAX, SEED_LIMIT
from .presenters import OWNER_ACTIONS
from .validation import ALLOWED_FIELDS, PROMPT_MAX, RERUN_FIELDS, RERUN_MODES

Status = literal(models.Creation.Status.values)
Kind = literal(models.Creation.Kind.values)
Seed = Field(ge=0, le=SEED_LIMIT - 1)
IDEMPOTENCY_KEY = (
    "Sent again with the same request: the first creation answers, nothing is debited "
    "twice. With a different request: 422."
)
PROMPT = Field(
    min_length=1,
    max_length=PROMPT_MAX,
    description="Trimmed; a blank prompt is refused (prompt_required).",
)
COUNT = Field(
    1,
    ge=1,
    le=BATCH_MAX,
    description="Variations: that many creations, each paid, queued and refunded on its own; "
    "all or none are made.",
)
SEED = Field(
    None,
    ge=0,
    le=SEED_LIMIT - 1,
    description="The first item's seed (the others seed+1, …); random when absent.",
)


class CreateImage(Model):
    type: literal([models.Creation.Kind.IMAGE])
    prompt: str = PROMPT
    aspect_ratio: literal(models.Creation.AspectRatio.values) = models.Creation.AspectRatio.SQUARE
    count: int = COUNT
    seed: int = SEED
    idempotency_key: str = Field(None, max_length=64, description=IDEMPOTENCY_KEY)


class CreateVideo(Model):
    type: literal([models.Creation.Kind.VIDEO])
    prompt: str = PROMPT
    orientation: literal(models.Creation.Orientation.values) = models.Creation.Orientation.LANDSCAPE
    count: int = COUNT
    seed: int = SEED
    idempotency_key: str = Field(None, max_length=64, description=IDEMPOTENCY_KEY)
    image_creation_id: UUID = Field(
        None,
        description="Start the video from one of the creator's own images (a draft or a "
        "post). Someone else's, or none: 404, nothing debited.",
    )


class CreateVideoWithUpload(CreateVideo):
    """The form with a file: a video that starts from an uploaded still."""

    image: str = Field(
        None,
        json_schema_extra={"contentMediaType": "application/octet-stream"},
        description="PNG, JPEG or WebP (by content), at most 10 MB and 4096 pixels a side; "
        "re-encoded without its metadata. Otherwise 400, nothing debited.",
    )


# The declared fields are the ones the parser takes, no more and no fewer.
assert set(CreateImage.model_fields) | set(CreateVideo.model_fields) == ALLOWED_FIELDS


class Rerun(Model):
    mode: literal(RERUN_MODES) = Field(
        "same_seed",
        description="same_seed: the same seed again; new_seed: a random one; vary: a seed "
        "near the source's.",
    )
    prompt: str = Field(
        None,
        min_length=1,
        max_length=PROMPT_MAX,
        description="Edit & run: a new prompt (the source's otherwise).",
    )
    idempotency_key: str = Field(None, max_length=64)


assert set(Rerun.model_fields) == RERUN_FIELDS


class SubmittedItem(Model):
    creation_id: UUID
    seed: int = Seed


class Submitted(Model):
    """The answer to a create or a rerun (creations.api.submitted_as_json)."""

    creation_id: UUID = Field(description="The first (or only) creation.")
    batch_id: UUID | None = Field(description="With count > 1: GET batch_status.")
    creations: list[SubmittedItem] = Field(min_length=1, max_length=BATCH_MAX)
    status: Status
    type: Kind
    cost: int = Field(ge=0, description="For all the items.")
    balance: int = Field(ge=0)
    seed: int = Seed
    parent_id: UUID | None
    status_url: str = Field(description="Poll it: GET creation_status.")
    drafts_url: str


class Creation(Model):
    """A creation as its owner sees it (creations.presenters.creation_as_json)."""

    creation_id: UUID
    status: Status
    type: Kind
    prompt: str = Field(description="Empty once purged.")
    aspect_ratio: literal(models.Creation.AspectRatio.values) | None
    orientation: literal(models.Creation.Orientation.values) | None
    progress: int = Field(ge=0, le=100)
    media_url: str | None
    poster_url: str | None
    width: int | None = Field(ge=0)
    height: int | None = Field(ge=0)
    duration_seconds: float | None
    error_code: str | None
    error_message: str | None
    cost: int = Field(ge=0)
    refunded: bool
    created_at: datetime
    caption: str
    published_at: datetime | None
    publish_at: datetime | None
    trashed_at: datetime | None
    purged_at: datetime | None
    takedown_reason: str | None
    actions: set[literal(OWNER_ACTIONS)] = Field(description="What the owner may do with it now.")
    seed: int = Seed
    seed_honored: bool = Field(
        description="False where the provider ignores seeds: the same seed is no promise."
    )
    parent_id: UUID | None = Field(description="The creation it was run again or varied from.")
    batch_id: UUID | None = Field(description="The batch it is an item of.")
    starred: bool = Field(description="Its owner's star (a favourite).")
    ahead: int | None = Field(
        ge=0,
        description="While pending: how many queued jobs start before this one (the fair "
        "queue's own order). Null otherwise, or when it is not known.",
    )
    eta_seconds: int | None = Field(
        ge=0, description="While pending: the seconds until it should be ready."
    )


class Batch(Model):
    batch_id: UUID
    creations: list[Creation] = Field(max_length=BATCH_MAX)


class Canceled(Model):
    creation_id: UUID
    status: Status
    refunded: int = Field(ge=0)
    balance: int = Field(ge=0)


CAPTION = Field(
    None,
    max_length=services.CAPTION_MAX,
    description="Trimmed; line breaks count as one character.",
)


class Publish(Model):
    caption: str = CAPTION
    publish_at: datetime = Field(
        None,
        description="Schedule instead of publishing now: an ISO 8601 time with its offset, "
        "after now and at most a year ahead.",
    )


class Caption(Model):
    caption: str = Field(
        max_length=services.CAPTION_MAX,
        description="Trimmed; line breaks count as one character.",
    )


class Nothing(Model):
    pass


class Bulk(Model):
    action: literal(services.BULK_ACTIONS)
    ids: list[UUID] = Field(min_length=1, max_length=settings.PHOENIX_BULK_MAX)
    caption: str = Field(
        None,
        max_length=services.CAPTION_MAX,
        description="For publish: one caption for all (empty: each keeps its own).",
    )


Outcome = literal(["ok", "not_found", *services.REFUSALS])


class BulkSummary(Model):
    ok: int = Field(ge=0)
    skipped: int = Field(ge=0)
    reasons: dict[str, int] = Field(json_schema_extra={"additionalProperties": {"minimum": 1}})


class BulkDone(Model):
    results: dict[UUID, Outcome] = Field(description='"ok" or the refusal\'s code, per id.')
    summary: BulkSummary


# Codes that read_body / read_fields answer for any body, before the action looks at it.
BODY_PROBLEMS = ("malformed_json", "malformed_request", "unknown_field")
CREATE_PROBLEMS = (
    *BODY_PROBLEMS,
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
CreateRefused = bad_request("CreateRefused", CREATE_PROBLEMS)
RerunRefused = bad_request("RerunRefused", [*CREATE_PROBLEMS, "invalid_mode"])
NotEnoughTokens = refused(
    "NotEnoughTokens",
    ["insufficient_tokens"],
    description="Not enough tokens for every item; nothing was debited. `buy_url` is the page "
    "that sells them.",
    balance=int,
    cost=int,
    buy_url=str,
)
KeyReused = refused(
    "KeyReused",
    ["idempotency_key_reused"],
    description="This idempotency key was used for a different request.",
    field=literal(["idempotency_key"]),
)
TooManyInFlight = refused(
    "TooManyInFlight",
    [services.TooManyInFlight.code, services.TooManyCreates.code],
    description=(
        "Too many of the creator's creations are queued or generating "
        "(too_many_in_flight), or started this minute, each item of a batch counted "
        "(too_many_creates, PHOENIX_CREATES_PER_MINUTE); nothing was debited."
    ),
    limit=int,
)
TooManyCancels = refused(
    "TooManyCancels",
    ["too_many_cancels"],
    description="Too many cancels this hour (PHOENIX_CANCELS_PER_HOUR); nothing changed.",
)
QueueUnavailable = refused(
    "QueueUnavailable",
    ["queue_unavailable", "storage_unavailable"],
    description="queue_unavailable: the job queue took none of the items; they failed and "
    "were refunded at once (a batch with any item queued is answered 202, the others failed "
    "and refunded). storage_unavailable: the still a video starts from could not be stored; "
    "nothing was made or debited (no creation_id).",
    required=[],
    creation_id=UUID,
)
SUBMIT_REFUSALS = {
    402: NotEnoughTokens,
    422: KeyReused,
    429: TooManyInFlight,
    503: QueueUnavailable,
}
CaptionRejected = refused(
    "CaptionRejected",
    ["invalid_caption", "caption_too_long"],
    description="The caption contains a null character, or is too long.",
)


def conflict(name: str, *codes: str):
    return refused(
        name, codes, description="The creation's state does not allow this now; nothing changed."
    )


def action_problems(name: str, *codes: str):
    return bad_request(name, [*BODY_PROBLEMS, *codes])


BulkRefused = bad_request(
    "BulkRefused",
    [
        "malformed_json",
        "malformed_request",
        "unknown_action",
        "invalid_ids",
        "too_many_ids",
        "invalid_caption",
    ],
    with_field=False,
)
