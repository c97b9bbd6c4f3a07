"""JSON API of moderation, declared once on its router (docs/api-declaration.md): report a
post or a comment, appeal a decision about you."""

from uuid import UUID

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from pydantic import Field

from creations.api import read_body
from creations.validation import RequestProblem, object_with_only
from phoenix import jsonapi
from phoenix.jsonapi import Model, Router, bad_request, body, error, literal, refused, signed_in

from . import models, selectors, services
from .models import Target
from .refusals import status_of
from .services import ModerationRefused

router = Router(tags=["moderation"])
BODY_PROBLEMS = ("malformed_json", "malformed_request", "unknown_field")
REPORT_PROBLEMS = (*BODY_PROBLEMS, "category_required", "invalid_category", "invalid_note")


class ReportBody(Model):
    category: literal(models.Report.Category.values)
    note: str = Field(None, max_length=models.NOTE_MAX, description="Optional.")


class ReportFiled(Model):
    """The report, for the moderators. The reported person is never told who filed it."""

    id: UUID


class AppealBody(Model):
    text: str = Field(max_length=models.APPEAL_MAX)


class AppealFiled(Model):
    """The appeal, waiting for a moderator other than the one who decided."""

    action_id: UUID
    status: literal(models.Appeal.Status.values)


REPORT_FIELDS = set(ReportBody.model_fields)
APPEAL_FIELDS = set(AppealBody.model_fields)


def refusal_response(refusal: ModerationRefused) -> JsonResponse:
    extra = {"field": refusal.extra["field"]} if "field" in refusal.extra else {}
    response = error(status_of(refusal.code), refusal.code, refusal.message, **extra)
    if "retry_after" in refusal.extra:
        response["Retry-After"] = str(refusal.extra["retry_after"])
    return response


def report_responses(target: str) -> dict:
    return {
        201: ReportFiled,
        400: bad_request(
            f"{target.title()}ReportProblem",
            [
                *BODY_PROBLEMS,
                "category_required",
                "invalid_category",
                "invalid_note",
                "note_too_long",
            ],
        ),
        404: jsonapi.NotFound,
        409: refused(
            f"{target.title()}AlreadyReported",
            ["already_reported"],
            description=f"The caller already has an open report of this {target}.",
        ),
        429: refused(
            f"TooMany{target.title()}Reports",
            ["too_many_reports"],
            description="More reports in an hour than PHOENIX_REPORTS_PER_HOUR.",
        ),
    }


REPORT_EXTRA = jsonapi.merged(
    body(ReportBody, form=True), jsonapi.headers(429, jsonapi.retry_after())
)


def _report(request: HttpRequest, target: str, item_id) -> JsonResponse:
    # What the caller may not see answers 404 whatever the body (the service asks again).
    if selectors.reportable_item(user=request.user, target=target, item_id=item_id) is None:
        return refusal_response(services.NotFound())
    try:
        data = object_with_only(read_body(request), REPORT_FIELDS)
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


@router.post(
    "/posts/{uuid:creation_id}/reports",
    operation_id="api_report_post",
    url_name="api_report_post",
    summary="Report a post",
    auth=signed_in("publish"),
    response=report_responses("post"),
    openapi_extra=REPORT_EXTRA,
)
@never_cache
def report_post(request: HttpRequest, creation_id: UUID) -> JsonResponse:
    """A post the caller can see and did not make (its id is its creation's id); 404 for
    anything else. One open report per person and post."""
    return _report(request, Target.POST, creation_id)


@router.post(
    "/comments/{uuid:comment_id}/reports",
    operation_id="api_report_comment",
    url_name="api_report_comment",
    summary="Report a comment",
    auth=signed_in("publish"),
    response=report_responses("comment"),
    openapi_extra=REPORT_EXTRA,
)
@never_cache
def report_comment(request: HttpRequest, comment_id: UUID) -> JsonResponse:
    """A comment the caller can see and did not write, on a draft shared with them or on a
    public post; 404 for anything else. The two kinds of comment share this URL: their ids
    are UUIDs made apart (uuid4), and were one ever to name a comment of each kind, it
    names the comment on the shared draft, for everyone."""
    return _report(request, selectors.comment_target(comment_id), comment_id)


@router.post(
    "/moderation-actions/{uuid:action_id}/appeal",
    operation_id="api_moderation_appeal",
    url_name="api_moderation_appeal",
    summary="Appeal a moderation decision about you",
    auth=signed_in("publish"),
    response={
        201: AppealFiled,
        400: bad_request(
            "AppealProblem", [*BODY_PROBLEMS, "text_required", "text_too_long", "invalid_text"]
        ),
        404: jsonapi.NotFound,
        409: refused(
            "AppealRefused",
            ["already_appealed", "appeal_too_late", "not_appealable"],
            description="Already appealed, past the appeal window, or not one to appeal.",
        ),
    },
    openapi_extra=body(AppealBody, form=True),
)
@never_cache
def appeal_action(request: HttpRequest, action_id: UUID) -> JsonResponse:
    """Within PHOENIX_APPEAL_DAYS of the decision, once per decision."""
    if selectors.action_of_subject(user=request.user, action_id=action_id) is None:
        return refusal_response(services.NotFound("No such decision."))
    try:
        data = object_with_only(read_body(request), APPEAL_FIELDS)
        if "text" not in data:
            raise RequestProblem("text_required", "Say why the decision is wrong.", "text")
        appeal = services.appeal_file(user=request.user, action_id=action_id, text=data["text"])
    except RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    except ModerationRefused as refusal:
        return refusal_response(refusal)
    return JsonResponse({"action_id": str(appeal.action_id), "status": appeal.status}, status=201)
