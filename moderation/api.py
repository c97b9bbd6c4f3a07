"""JSON API of moderation, in the style of creations/api.py: report a post or a comment,
appeal a decision about you."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from creations.api import read_body
from creations.validation import RequestProblem, object_with_only
from phoenix.jsonapi import api_login_required, error

from . import selectors, services
from .models import Target
from .refusals import status_of
from .services import ModerationRefused


def refusal_response(refusal: ModerationRefused) -> JsonResponse:
    headers = {}
    extra = {}
    if "retry_after" in refusal.extra:
        headers["Retry-After"] = str(refusal.extra["retry_after"])
    if "field" in refusal.extra:
        extra["field"] = refusal.extra["field"]
    response = error(status_of(refusal.code), refusal.code, refusal.message, **extra)
    for name, value in headers.items():
        response[name] = value
    return response


def _report(request: HttpRequest, target: str, item_id) -> JsonResponse:
    # What the caller may not see answers 404 whatever the body (the service asks again).
    if selectors.reportable_item(user=request.user, target=target, item_id=item_id) is None:
        return refusal_response(services.NotFound())
    try:
        data = object_with_only(read_body(request), {"category", "note"})
        if "category" not in data:
            raise RequestProblem("category_required", "Choose a category.", "category")
        report = services.report_file(
            reporter=request.user,
            target=target,
            item_id=item_id,
            category=data["category"],
            note=data.get("note"),
        )
    except RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    except ModerationRefused as refusal:
        return refusal_response(refusal)
    return JsonResponse({"id": str(report.pk)}, status=201)


@never_cache
@require_POST
@api_login_required
def report_post(request: HttpRequest, creation_id) -> JsonResponse:
    """Report a post you can see (its id is its creation's id): 201 {"id"}."""
    return _report(request, Target.POST, creation_id)


@never_cache
@require_POST
@api_login_required
def report_comment(request: HttpRequest, comment_id) -> JsonResponse:
    """Report a comment you can see: 201 {"id"}."""
    return _report(request, Target.COMMENT, comment_id)


@never_cache
@require_POST
@api_login_required
def appeal_action(request: HttpRequest, action_id) -> JsonResponse:
    """Appeal a decision about you, within PHOENIX_APPEAL_DAYS, once: 201."""
    if selectors.action_of_subject(user=request.user, action_id=action_id) is None:
        return refusal_response(services.NotFound("No such decision."))
    try:
        data = object_with_only(read_body(request), {"text"})
        if "text" not in data:
            raise RequestProblem("text_required", "Say why the decision is wrong.", "text")
        appeal = services.appeal_file(user=request.user, action_id=action_id, text=data["text"])
    except RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    except ModerationRefused as refusal:
        return refusal_response(refusal)
    return JsonResponse({"action_id": str(appeal.action_id), "status": appeal.status}, status=201)
