"""The domain errors of creations' services: a code and a sentence for people."""

import logging

from ..models import InvalidTransition

log = logging.getLogger(__name__)


class TooManyInFlight(Exception):
    code = "too_many_in_flight"

    def __init__(self, *, limit: int):
        super().__init__(
            f"You have {limit} creations queued or generating. "
            "Wait for one of them to finish, then try again."
        )
        self.limit = limit


class TooManyCreates(Exception):
    """More creations started this minute than PHOENIX_CREATES_PER_MINUTE allows."""

    code = "too_many_creates"

    def __init__(self, *, limit: int, retry_after: int):
        super().__init__(
            f"You can start {limit} creations a minute. Try again in {retry_after} seconds."
        )
        self.limit = limit
        self.retry_after = retry_after


class IdempotencyKeyReused(Exception):
    code = "idempotency_key_reused"

    def __init__(self):
        super().__init__(
            "This idempotency key was already used for a different request. "
            "Use a new key for a new creation."
        )


def refund_reason_required() -> "InvalidInput":
    return InvalidInput(
        "reason_required", "A refund by staff needs a reason; nothing was refunded."
    )


class QueueUnavailable(Exception):
    """Made and paid for, but Redis refused the job of `unqueued` (failed and refunded at
    once, error code queue_unavailable): what was submitted is in `submitted`."""

    code = "queue_unavailable"

    def __init__(self, *, submitted, unqueued: list):
        super().__init__("Generation could not be started: the job queue is unavailable.")
        self.submitted = submitted
        self.unqueued = unqueued


class ActionRefused(InvalidTransition):
    """An action the creation's state does not allow now: a code for the API and a sentence
    for people. The kind of refusal is its class — this one, a conflict with the state;
    CreationGone, InvalidInput and InputRefused below — and the web layer answers each
    with its status (creations.api.refusal_status); a domain error carries no HTTP."""

    def __init__(self, code: str, message: str):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.current = ""
        self.target = ""


class TooManyCancels(ActionRefused):
    """More cancels this hour than PHOENIX_CANCELS_PER_HOUR allows: nothing was canceled."""

    def __init__(self, *, limit: int, retry_after: int):
        minutes = -(-retry_after // 60)
        super().__init__(
            "too_many_cancels",
            f"You can cancel {limit} creations an hour. Try again in {minutes} minutes.",
        )
        self.retry_after = retry_after


class CreationGone(ActionRefused):
    """No such creation (or not the caller's to act on)."""

    def __init__(self):
        super().__init__("not_found", "No such creation.")


class InvalidInput(ActionRefused):
    """The request is malformed: a value of the wrong type, a required reason missing."""


class InputRefused(ActionRefused):
    """The request is well formed but its content is not acceptable (too long, a null
    character)."""


REFUSALS = {
    "not_cancelable": "Only a queued or generating creation can be canceled.",
    "not_publishable": "Only a finished draft can be published.",
    "not_scheduled": "Only a scheduled post can be unscheduled.",
    "not_published": "Only a published post can be unpublished.",
    "not_editable": "Only the caption of a published or scheduled post can be edited.",
    "not_trashable": "A creation still generating cannot be moved to the trash; cancel it.",
    "not_in_trash": "Only a creation in the trash can be restored or deleted forever.",
    "not_published_post": "Only a published or scheduled post can be taken down.",
    "not_taken_down": "Only a post that was taken down (and not deleted since) can be reinstated.",
    "not_keepable": "Only a finished variation of a batch can be kept.",
    "not_rerunnable": (
        "This creation cannot be run again (still generating, taken down or deleted)."
    ),
    "source_image_gone": (
        "The image this video started from is no longer kept, so it cannot be run again. "
        "Start a new video from an image instead."
    ),
    "source_taken_down": (
        "The image this video started from was taken down, so it cannot be run again."
    ),
}
CAPTION_MAX = 2200


def refused(code: str) -> ActionRefused:
    return ActionRefused(code, REFUSALS[code])


def source_image_gone() -> ActionRefused:
    return refused("source_image_gone")
