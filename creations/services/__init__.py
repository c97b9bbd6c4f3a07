"""State changes of a creation, one module per concern. Money moves only through
tokens.services.

- submission: create (one, a batch, a rerun) and send the jobs after COMMIT
- pipeline: the generation job's writes (claim, progress, task id, completion)
- failure: fail and refund exactly once
- owner: cancel, publish, schedule, unpublish, caption, staff take-down
- trash: trash, keep one of a batch, restore, delete forever
- bulk: one action over many creations
- errors, state: the domain errors, and what the writes share

Every name is importable from `creations.services` as before the split."""

from .bulk import (
    BULK_ACTIONS,
    BulkRequestProblem,
    creations_bulk,
    parse_bulk_request,
)
from .errors import (
    CAPTION_MAX,
    REFUSALS,
    ActionRefused,
    CreationGone,
    IdempotencyKeyReused,
    InputRefused,
    InvalidInput,
    QueueUnavailable,
    TooManyInFlight,
    refund_reason_required,
    refused,
)
from .failure import (
    FAILURE_MESSAGES,
    _fail_locked,
    creation_fail,
    creation_fail_by_staff,
    creation_fail_past_deadline,
    creation_fail_task,
    creation_refund_failed,
)
from .owner import (
    PUBLISH_AT_HORIZON,
    Canceled,
    cancel_provider_task,
    clean_caption,
    creation_cancel,
    creation_edit_caption,
    creation_publish,
    creation_publish_due,
    creation_reinstate,
    creation_take_down,
    creation_unpublish,
    creation_unschedule,
    parse_publish_at,
    stop_running_work,
)
from .pipeline import (
    _CLAIM_SQL,
    creation_claim,
    creation_complete,
    creation_holds_media,
    creation_record_task,
    creation_report_progress,
)
from .state import (
    _announce_refund,
    _apply,
    _end_shares,
    _locked,
    _take_state,
    delete_stored_files,
    leave_the_queue,
)
from .submission import (
    _IN_FLIGHT_SQL,
    VARY_SPREAD,
    Submitted,
    _refuse_beyond_in_flight_limit,
    batch_items,
    batch_seeds,
    creation_enqueue,
    creation_for_owner,
    creation_submit,
    creations_submit,
    rerun_request,
    rerun_seed,
)
from .trash import (
    creation_keep,
    creation_purge,
    creation_restore,
    creation_trash,
    creation_unkeep,
)

__all__ = [
    "TooManyInFlight",
    "IdempotencyKeyReused",
    "InputRefused",
    "InvalidInput",
    "QueueUnavailable",
    "refund_reason_required",
    "ActionRefused",
    "CreationGone",
    "REFUSALS",
    "CAPTION_MAX",
    "refused",
    "_announce_refund",
    "_take_state",
    "delete_stored_files",
    "_locked",
    "_end_shares",
    "_apply",
    "leave_the_queue",
    "FAILURE_MESSAGES",
    "creation_fail",
    "creation_fail_by_staff",
    "creation_fail_past_deadline",
    "creation_fail_task",
    "_fail_locked",
    "creation_refund_failed",
    "_CLAIM_SQL",
    "creation_claim",
    "creation_report_progress",
    "creation_record_task",
    "creation_complete",
    "creation_holds_media",
    "creation_for_owner",
    "Submitted",
    "creation_submit",
    "batch_seeds",
    "creations_submit",
    "VARY_SPREAD",
    "rerun_seed",
    "rerun_request",
    "batch_items",
    "_IN_FLIGHT_SQL",
    "_refuse_beyond_in_flight_limit",
    "creation_enqueue",
    "Canceled",
    "clean_caption",
    "PUBLISH_AT_HORIZON",
    "parse_publish_at",
    "creation_cancel",
    "stop_running_work",
    "cancel_provider_task",
    "creation_publish",
    "creation_publish_due",
    "creation_unschedule",
    "creation_unpublish",
    "creation_edit_caption",
    "creation_reinstate",
    "creation_take_down",
    "creation_trash",
    "creation_keep",
    "creation_unkeep",
    "creation_restore",
    "creation_purge",
    "BULK_ACTIONS",
    "BulkRequestProblem",
    "parse_bulk_request",
    "creations_bulk",
]
