"""Reads a create request (JSON or form) into clean values, or says exactly what is wrong."""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from django.utils import timezone

from .models import BATCH_MAX, SEED_LIMIT, Creation

PROMPT_MAX = 1000
TYPE_FIELDS = {
    Creation.Kind.IMAGE: "aspect_ratio",
    Creation.Kind.VIDEO: "orientation",
}
ALLOWED_FIELDS = {
    "type",
    "prompt",
    "aspect_ratio",
    "orientation",
    "idempotency_key",
    "count",
    "seed",
    "image_creation_id",
}
RERUN_FIELDS = {"mode", "prompt", "idempotency_key"}
RERUN_MODES = ("same_seed", "new_seed", "vary")


class RequestProblem(Exception):
    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True)
class CreationRequest:
    kind: str
    prompt: str
    aspect_ratio: str = ""
    orientation: str = ""
    idempotency_key: str | None = None
    count: int = 1
    seed: int | None = None  # None: a random one
    image_creation_id: UUID | None = None
    # What else decides the result, for the fingerprint only: an upload's sha256, the
    # image a video starts from.
    extra: tuple[str, ...] = ()
    # A rerun's fingerprint is its own request's (RerunRequest.fingerprint_for): its
    # source's prompt may be gone (purged) by the time the same key is sent again.
    replay_fingerprint: str = ""

    @property
    def fingerprint(self) -> str:
        """What the request asks for, hashed: the same key sent again with a different
        body is refused. Taken from the parsed values, so key order and spacing in the
        JSON do not count as a difference. The fields added with batches count only when
        set, so a key used before them keeps its fingerprint."""
        if self.replay_fingerprint:
            return self.replay_fingerprint
        asked = [self.kind, self.prompt, self.aspect_ratio, self.orientation]
        more = {
            "count": self.count if self.count != 1 else None,
            "seed": self.seed,
            "image_creation_id": str(self.image_creation_id) if self.image_creation_id else None,
            "extra": list(self.extra) or None,
        }
        asked += [[name, value] for name, value in more.items() if value is not None]
        return hashlib.sha256(json.dumps(asked, ensure_ascii=False).encode()).hexdigest()


def normalise_line_breaks(text: str) -> str:
    """One line break is one character, as the page counts it: a form posted without
    JavaScript sends CRLF (the HTML standard's form encoding), a script sends LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _text(data: dict, name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RequestProblem("invalid_" + name, f"'{name}' must be a string.", name)
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail at INSERT.
    if "\x00" in value:
        raise RequestProblem("invalid_" + name, f"'{name}' contains a null character.", name)
    return value


def object_with_only(data, allowed) -> dict:
    """A request body that is a JSON object (or form) with no field but `allowed`: a
    misspelt field is an error, not ignored."""
    if not isinstance(data, dict):
        raise RequestProblem("malformed_request", "The request body must be a JSON object.")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise RequestProblem("unknown_field", f"Unknown field '{unknown[0]}'.", unknown[0])
    return data


def parse_creation_request(data: dict) -> CreationRequest:
    object_with_only(data, ALLOWED_FIELDS)

    kind = _text(data, "type")
    if kind not in Creation.Kind.values:
        raise RequestProblem("invalid_type", "Type must be 'image' or 'video'.", "type")

    prompt = normalise_line_breaks(_text(data, "prompt") or "").strip()
    if not prompt:
        raise RequestProblem("prompt_required", "Write a prompt first.", "prompt")
    if len(prompt) > PROMPT_MAX:
        raise RequestProblem(
            "prompt_too_long",
            f"The prompt is {len(prompt)} characters; the limit is {PROMPT_MAX}.",
            "prompt",
        )

    # A field of the other type is an error, not silently ignored; an empty form value is
    # treated as absent because an HTML form sends the hidden type's field empty.
    for other_kind, field in TYPE_FIELDS.items():
        if other_kind != kind and (_text(data, field) or ""):
            raise RequestProblem(
                "field_not_allowed", f"'{field}' does not apply to a {kind}.", field
            )

    aspect_ratio = orientation = ""
    if kind == Creation.Kind.IMAGE:
        aspect_ratio = _text(data, "aspect_ratio") or Creation.AspectRatio.SQUARE
        if aspect_ratio not in Creation.AspectRatio.values:
            raise RequestProblem(
                "invalid_aspect_ratio",
                "Aspect ratio must be one of " + ", ".join(Creation.AspectRatio.values) + ".",
                "aspect_ratio",
            )
    else:
        orientation = _text(data, "orientation") or Creation.Orientation.LANDSCAPE
        if orientation not in Creation.Orientation.values:
            raise RequestProblem(
                "invalid_orientation", "Orientation must be landscape or portrait.", "orientation"
            )

    key = (_text(data, "idempotency_key") or "").strip() or None
    if key is not None and len(key) > 64:
        raise RequestProblem(
            "invalid_idempotency_key", "The idempotency key is too long.", "idempotency_key"
        )
    count = parse_count(data.get("count"))
    seed = parse_seed(data.get("seed"))
    image_creation_id = None
    if _text(data, "image_creation_id"):
        if kind != Creation.Kind.VIDEO:
            raise RequestProblem(
                "field_not_allowed", "Only a video starts from an image.", "image_creation_id"
            )
        image_creation_id = parse_uuid(data["image_creation_id"], "image_creation_id")
    return CreationRequest(
        kind,
        prompt,
        aspect_ratio,
        orientation,
        key,
        count=count,
        seed=seed,
        image_creation_id=image_creation_id,
    )


def _whole_number(value, name: str, message: str) -> int | None:
    """An integer from JSON (not a boolean, not a float) or a form's digits; None when
    absent or empty."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise RequestProblem("invalid_" + name, message, name)
    if isinstance(value, str):
        if not value.strip().isascii() or not value.strip().isdigit() or len(value) > 12:
            raise RequestProblem("invalid_" + name, message, name)
        value = int(value.strip())
    return value


def parse_count(value) -> int:
    message = f"Count must be a whole number from 1 to {BATCH_MAX}."
    count = _whole_number(value, "count", message)
    if count is None:
        return 1
    if not 1 <= count <= BATCH_MAX:
        raise RequestProblem("invalid_count", message, "count")
    return count


def parse_seed(value) -> int | None:
    message = f"Seed must be a whole number from 0 to {SEED_LIMIT - 1}."
    seed = _whole_number(value, "seed", message)
    if seed is not None and not 0 <= seed < SEED_LIMIT:
        raise RequestProblem("invalid_seed", message, "seed")
    return seed


def parse_uuid(value, name: str) -> UUID:
    try:
        if not isinstance(value, str):
            raise ValueError
        return UUID(value.strip())
    except ValueError:
        raise RequestProblem("invalid_" + name, f"'{name}' must be an id.", name) from None


@dataclass(frozen=True)
class RerunRequest:
    mode: str
    prompt: str | None
    idempotency_key: str | None

    def fingerprint_for(self, source_id) -> str:
        """What the rerun asks for, from the request alone (never the source's state now),
        so that a replay is recognised after its source was purged or taken down."""
        asked = ["rerun", str(source_id), self.mode, self.prompt]
        return hashlib.sha256(json.dumps(asked, ensure_ascii=False).encode()).hexdigest()


def parse_rerun_request(data) -> RerunRequest:
    object_with_only(data, RERUN_FIELDS)
    mode = _text(data, "mode") or "same_seed"
    if mode not in RERUN_MODES:
        raise RequestProblem("invalid_mode", "Mode must be same_seed, new_seed or vary.", "mode")
    prompt = _text(data, "prompt")
    key = (_text(data, "idempotency_key") or "").strip() or None
    if key is not None and len(key) > 64:
        raise RequestProblem(
            "invalid_idempotency_key", "The idempotency key is too long.", "idempotency_key"
        )
    return RerunRequest(mode, prompt, key)


def parse_future_moment(
    value,
    *,
    label: str,
    horizon: timedelta,
    too_far: str,
    refuse: Callable[[str], Exception],
    now: datetime | None = None,
) -> datetime | None:
    """A request's time (Publish at, a link's expiry): ISO 8601 with its offset (the
    creator's local time), after now and at most `horizon` ahead, in UTC; None when not
    given. Anything else raises refuse(<a sentence starting with `label`>)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise refuse(f"{label} must be a date and time.")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise refuse(f"{label} must be a date and time such as 2026-12-01T14:00+01:00.") from None
    if moment.tzinfo is None:
        raise refuse(f"{label} needs its time zone offset.")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01 with a positive offset, 9999-12-31 with a negative
        raise refuse(f"{label} is out of range.") from None
    now = now or timezone.now()
    if moment <= now:
        raise refuse(f"{label} is in the past.")
    if moment > now + horizon:
        raise refuse(too_far)
    return moment
