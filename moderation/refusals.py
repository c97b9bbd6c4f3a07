"""The HTTP status of each refusal code, in one table for the API and the pages."""

STATUS = {
    "not_found": 404,
    "already_reported": 409,
    "already_appealed": 409,
    "already_removed": 409,
    "not_appealable": 409,
    "appeal_too_late": 409,
    "appeal_decided": 409,
    "case_closed": 409,
    "not_applicable": 409,
    "not_published_post": 409,
    "not_taken_down": 409,
    "own_decision": 403,
    "too_many_reports": 429,
}


def status_of(code: str) -> int:
    """A code not listed is a problem with the request itself: 400."""
    return STATUS.get(code, 400)
