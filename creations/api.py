"""JSON API: start a creation, read its state, and everything its owner does after.
Declared once on `router`: the shapes are in api_schemas.py, the document is generated."""

import dataclasses
import json
from uuid import UUID

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache

from phoenix.jsonapi import (
    NotFound,
    Router,
    body,
    error,
    headers,
    merged,
    require_scope,
    retry_after,
    signed_in,
)
from tokens.services import InsufficientTokens

from . import api_schemas as shapes
from . import image_input, selectors, services
from .models import Creation
from .presenters import bulk_summary, creation_as_json
from .validation import (
    RequestProblem,
    object_with_only,
    parse_creation_request,
    parse_rerun_request,
)

router = Router(tags=["creations"])
ITEM = "/creations/{uuid:creation_id}"


def not_found() -> JsonResponse:
    # Someone else's creation and one that does not exist answer alike.
    return error(404, "not_found", "No such creation.")


def read_body(request: HttpRequest) -> dict:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"null")
            # JSON may spell a lone surrogate ("\ud800"), which no database can store.
            json.dumps(data, ensure_ascii=False).encode()
        except (ValueError, UnicodeError, RecursionError):
            raise RequestProblem("malformed_json", "The request body is not valid JSON.") from None
        return data
    return {key: request.POST.get(key) for key in request.POST if key != "csrfmiddlewaretoken"}


# The one table from a domain refusal to its HTTP status (the most specific class first).
REFUSAL_STATUSES = (
    (services.CreationGone, 404),
    (services.TooManyCancels, 429),
    (services.InvalidInput, 400),
    (services.InputRefused, 422),
    (services.ActionRefused, 409),
)


def refusal_status(refusal: services.ActionRefused) -> int:
    return next(status for kind, status in REFUSAL_STATUSES if isinstance(refusal, kind))


def refusal_response(refusal: services.ActionRefused) -> JsonResponse:
    answer = error(refusal_status(refusal), refusal.code, refusal.message)
    if isinstance(refusal, services.TooManyCancels):
        answer["Retry-After"] = str(refusal.retry_after)
    return answer


class Refusal(Exception):
    """Why a create request was turned down: an HTTP status, the JSON error body and any
    headers the answer needs."""

    def __init__(self, status: int, code: str, message: str, *, headers=None, **extra):
        super().__init__(message)
        self.status = status
        self.body = {"error": code, "message": message, **extra}
        self.headers = headers or {}


def start_creation(user, data: dict, *, upload=None) -> services.Submitted:
    """Parse, debit and enqueue — the one path for the API and the create form. Raises
    Refusal (400, 402, 404, 422, 429, 503) with nothing debited, or with the debit already
    refunded. `upload`: the still a video starts from (the multipart field `image`)."""
    try:
        request = parse_creation_request(data)
    except RequestProblem as problem:
        raise Refusal(400, problem.code, problem.message, field=problem.field) from None
    return submit_with_source(user, request, upload=upload)


def submit_with_source(
    user, request, *, upload=None, source_image_name: str = "", **options
) -> services.Submitted:
    """Check the still (before any debit), answer a replay from what its key made, store a
    private copy per item, submit; the copies go again when nothing was made."""
    try:
        content, identity = image_input.source_identity(request=request, upload=upload)
    except RequestProblem as problem:
        raise Refusal(400, problem.code, problem.message, field=problem.field) from None
    if identity:
        request = dataclasses.replace(request, extra=(*request.extra, identity))
    # Before anything that depends on the state now: a replay is answered from the stored
    # request, even when the image it started from is gone since.
    replayed = replay_of(user, request.idempotency_key, request.fingerprint)
    if replayed is not None:
        return replayed
    refuse_rerun = options.get("parent") is not None
    try:
        if source_image_name:
            content = image_input.read_stored(source_image_name)
        elif request.image_creation_id is not None:
            animates = image_input.own_image(owner=user, creation_id=request.image_creation_id)
            options["animates"] = animates
            content = image_input.read_stored(animates.media.name)
    except (image_input.SourceNotFound, FileNotFoundError):
        if refuse_rerun:
            raise services.source_image_gone() from None
        raise Refusal(404, "not_found", "No such creation.", field="image_creation_id") from None
    try:
        stored = image_input.store_copies(content, request.count)
    except image_input.StorageUnavailable:
        raise Refusal(
            503,
            "storage_unavailable",
            "The image could not be stored; nothing was charged. Please try again in a moment.",
            headers={"Retry-After": str(settings.PHOENIX_IN_FLIGHT_RETRY_AFTER)},
        ) from None
    submitted = None
    try:
        submitted = services.creations_submit(
            user=user, request=request, source_images=stored, **options
        )
    except InsufficientTokens as shortfall:
        raise Refusal(
            402,
            shortfall.code,
            str(shortfall),
            balance=shortfall.balance,
            cost=shortfall.needed,
            buy_url=reverse("token_buy"),
        ) from None
    except services.IdempotencyKeyReused as reuse:
        raise Refusal(422, reuse.code, str(reuse), field="idempotency_key") from None
    except image_input.SourceNotFound:
        raise Refusal(404, "not_found", "No such creation.", field="image_creation_id") from None
    except services.TooManyInFlight as crowd:
        raise Refusal(
            429,
            crowd.code,
            str(crowd),
            limit=crowd.limit,
            headers={"Retry-After": str(settings.PHOENIX_IN_FLIGHT_RETRY_AFTER)},
        ) from None
    except services.TooManyCreates as flood:
        raise Refusal(
            429,
            flood.code,
            str(flood),
            limit=flood.limit,
            headers={"Retry-After": str(flood.retry_after)},
        ) from None
    except services.QueueUnavailable as down:
        submitted = down.submitted
        # Answered 202 with the batch when any item was queued (those that were not are
        # failed and refunded, and the balance was read after); 503 when none was.
        if len(down.unqueued) == len(submitted.creations):
            creation = submitted.first
            raise Refusal(
                503, down.code, creation.error_message, creation_id=str(creation.id)
            ) from None
    finally:
        if stored and (submitted is None or not submitted.created):
            image_input.delete_stored(stored)
    return submitted


def replay_of(user, idempotency_key, fingerprint) -> services.Submitted | None:
    try:
        return services.submission_replayed(
            user=user, idempotency_key=idempotency_key, fingerprint=fingerprint
        )
    except services.IdempotencyKeyReused as reuse:
        raise Refusal(422, reuse.code, str(reuse), field="idempotency_key") from None


def submitted_as_json(request: HttpRequest, submitted: services.Submitted) -> JsonResponse:
    creation = submitted.first
    drafts_url = reverse("profile", args=[request.user.get_username()]) + "?tab=drafts"
    return JsonResponse(
        {
            "creation_id": str(creation.id),
            "batch_id": str(creation.batch_id) if creation.batch_id else None,
            "creations": [
                {"creation_id": str(item.id), "seed": item.seed} for item in submitted.creations
            ],
            "status": creation.status,
            "type": creation.kind,
            "cost": creation.cost * len(submitted.creations),
            "balance": submitted.balance,
            "seed": creation.seed,
            "parent_id": str(creation.parent_id) if creation.parent_id else None,
            "status_url": reverse("creation_status", args=[creation.id]),
            "drafts_url": drafts_url,
        },
        status=202,
        # The browser loads the drafts tab afresh (from the drafts tab itself too: `made`
        # makes it a new address, not a jump within the page) and lands at the new card,
        # which phoenix.js focuses.
        headers={"HX-Redirect": f"{drafts_url}&made={creation.id}#creation-{creation.id}"}
        if request.htmx
        else None,
    )


@router.post(
    "/generate/creation",
    operation_id="generate_creation",
    url_name="generate_creation",
    summary="Start a creation",
    description=(
        "Debits the cost ({costs} tokens) and queues the generation. Poll status_url until "
        "the status is draft (or failed, refunded)."
    ).format(costs=", ".join(f"{kind} {cost}" for kind, cost in settings.PHOENIX_COSTS.items())),
    auth=signed_in("create"),
    response={
        202: shapes.Submitted,
        400: shapes.CreateRefused,
        404: NotFound,
        **shapes.SUBMIT_REFUSALS,
    },
    openapi_extra=merged(
        body(
            shapes.CreateImage,
            shapes.CreateVideo,
            form=True,
            multipart=shapes.CreateVideoWithUpload,
        ),
        headers(429, retry_after()),
    ),
)
def generate_creation(request: HttpRequest) -> JsonResponse:
    try:
        submitted = start_creation(
            request.user, read_body(request), upload=request.FILES.get("image")
        )
    except RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    except Refusal as refusal:
        return JsonResponse(refusal.body, status=refusal.status, headers=refusal.headers)
    return submitted_as_json(request, submitted)


def start_rerun(user, source: Creation, data) -> services.Submitted:
    """Run again / New seed / Vary / Edit & run, for the API and the card's form alike.
    Raises RequestProblem (400), ActionRefused (409) or Refusal, nothing debited."""
    rerun = parse_rerun_request(data)
    # A replay is answered from what its key made, before the source's state now is read.
    replayed = replay_of(user, rerun.idempotency_key, rerun.fingerprint_for(source.pk))
    if replayed is not None:
        return replayed
    new_request = services.rerun_request(source=source, rerun=rerun)
    return submit_with_source(
        user,
        new_request,
        source_image_name=source.source_image.name,
        parent=source,
        seed=services.rerun_seed(source, rerun.mode),
    )


@router.post(
    ITEM + "/rerun",
    operation_id="api_creation_rerun",
    url_name="api_creation_rerun",
    summary="Run a creation again, with a new seed, or vary it",
    auth=signed_in("create"),
    response={
        202: shapes.Submitted,
        400: shapes.RerunRefused,
        404: NotFound,
        409: shapes.conflict(
            "NotRerunnable", "not_rerunnable", "source_image_gone", "source_taken_down"
        ),
        **shapes.SUBMIT_REFUSALS,
    },
    openapi_extra=merged(
        body(shapes.Rerun, form=True, required=False), headers(429, retry_after())
    ),
)
def rerun_creation(request: HttpRequest, creation_id: UUID) -> JsonResponse:
    """From a draft, a post, a failed or a canceled creation of the owner's: a create whose
    parent is the source (Run again, New seed, Vary or Edit & run), answered like one."""
    try:
        source = services.creation_for_owner(owner=request.user, creation_id=creation_id)
    except Http404:
        return not_found()
    try:
        submitted = start_rerun(request.user, source, read_body(request))
    except RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    except services.ActionRefused as refusal:
        return error(refusal_status(refusal), refusal.code, refusal.message)
    except Refusal as refusal:
        return JsonResponse(refusal.body, status=refusal.status, headers=refusal.headers)
    return submitted_as_json(request, submitted)


@router.get(
    "/batches/{uuid:batch_id}",
    operation_id="api_batch_status",
    url_name="api_batch_status",
    summary="Read a batch's items",
    auth=signed_in("read"),
    response={200: shapes.Batch, 404: NotFound},
)
@never_cache
def batch_status(request: HttpRequest, batch_id: UUID) -> JsonResponse:
    """A batch's items in order with their states; someone else's batch is not found."""
    items = selectors.batch_for_owner(owner=request.user, batch_id=batch_id)
    if not items:
        return error(404, "not_found", "No such batch.")
    selectors.with_queue_estimates(items)
    return JsonResponse(
        {"batch_id": str(batch_id), "creations": [creation_as_json(item) for item in items]}
    )


@router.get(
    ITEM,
    operation_id="creation_status",
    url_name="creation_status",
    summary="Read a creation",
    auth=signed_in("read"),
    response={200: shapes.Creation, 404: NotFound},
)
@never_cache
def creation_status(request: HttpRequest, creation_id: UUID) -> JsonResponse:
    try:
        creation = services.creation_for_owner(owner=request.user, creation_id=creation_id)
    except Http404:
        return not_found()
    selectors.with_queue_estimates([creation])
    return JsonResponse(creation_as_json(creation))


def read_fields(request: HttpRequest, allowed: set[str]) -> dict:
    """The body of a lifecycle request: a JSON object or a form (or nothing), with only
    the fields the action takes; a misspelt field is an error rather than ignored."""
    data = read_body(request)
    return {} if data is None else object_with_only(data, allowed)


def creation_action(
    verb: str,
    operation_id: str,
    summary: str,
    *,
    scope: str,
    refusals: tuple[str, ...],
    shape=shapes.Nothing,
    problems: tuple[str, ...] = (),
    takes_caption: bool = False,
    answer=shapes.Creation,
    limited: bool = False,
):
    """A POST on one of the owner's creations (…/<id>/<verb>), taking the fields of `shape`
    from the body. The action calls a service; a refusal answers with its own status and
    code, nothing changed."""
    fields = set(shape.model_fields)
    name = operation_id.title().replace("_", "")
    responses = {
        200: answer,
        400: shapes.action_problems(name + "Problem", *problems),
        404: NotFound,
        409: shapes.conflict(name + "Refused", *refusals),
    }
    if takes_caption:
        responses[422] = shapes.CaptionRejected
    required = any(field.is_required() for field in shape.model_fields.values())
    extra = body(shape, form=True, required=required)
    if limited:
        responses[429] = shapes.TooManyCancels
        extra = merged(extra, headers(429, retry_after()))

    def decorate(action):
        def view(request: HttpRequest, creation_id: UUID) -> JsonResponse:
            try:
                creation = services.creation_for_owner(owner=request.user, creation_id=creation_id)
            except Http404:
                return not_found()
            try:
                return action(request, creation, read_fields(request, fields))
            except RequestProblem as problem:
                return error(400, problem.code, problem.message, field=problem.field)
            except services.ActionRefused as refusal:
                # CreationGone (deleted meanwhile) is a 404 not_found, worded as not_found().
                return refusal_response(refusal)

        view.__name__ = view.__qualname__ = action.__name__
        view.__doc__ = action.__doc__
        return router.post(
            f"{ITEM}/{verb}",
            operation_id=operation_id,
            url_name=operation_id,
            summary=summary,
            auth=signed_in(scope),
            response=responses,
            openapi_extra=extra,
        )(view)

    return decorate


@creation_action(
    "cancel",
    "api_creation_cancel",
    "Cancel a queued or generating creation (refunded at once)",
    scope="create",
    refusals=("not_cancelable",),
    answer=shapes.Canceled,
    limited=True,
)
def cancel_creation(request: HttpRequest, creation: Creation, data: dict) -> JsonResponse:
    canceled = services.creation_cancel(creation=creation)
    return JsonResponse(
        {
            "creation_id": str(creation.id),
            "status": creation.status,
            "refunded": canceled.refunded,
            "balance": canceled.balance,
        }
    )


@creation_action(
    "publish",
    "api_creation_publish",
    "Publish a draft now, or schedule it",
    scope="publish",
    refusals=("not_publishable",),
    shape=shapes.Publish,
    problems=("invalid_publish_at", "invalid_caption"),
    takes_caption=True,
)
def publish_creation(request: HttpRequest, creation: Creation, data: dict) -> JsonResponse:
    publish_at = services.parse_publish_at(data.get("publish_at"))
    # Without a caption, the draft keeps the one it has (an unpublished post's, say).
    services.creation_publish(creation=creation, caption=data.get("caption"), publish_at=publish_at)
    return JsonResponse(creation_as_json(creation))


@creation_action(
    "caption",
    "api_creation_caption",
    "Edit the caption of a published or scheduled post",
    scope="publish",
    refusals=("not_editable",),
    shape=shapes.Caption,
    problems=("caption_required", "invalid_caption"),
    takes_caption=True,
)
def edit_caption(request: HttpRequest, creation: Creation, data: dict) -> JsonResponse:
    if "caption" not in data:
        # Absent is not "clear it": an empty caption has to be sent as one.
        raise RequestProblem("caption_required", "Send the new caption.", "caption")
    services.creation_edit_caption(creation=creation, caption=data["caption"])
    return JsonResponse(creation_as_json(creation))


def state_action(service, summary: str, refusal: str):
    """An action with no body that one service does: the creation's JSON after it."""
    verb = service.__name__.removeprefix("creation_")

    def action(request: HttpRequest, creation: Creation, data: dict) -> JsonResponse:
        service(creation=creation)
        return JsonResponse(creation_as_json(creation))

    action.__name__ = action.__qualname__ = verb + "_creation"
    return creation_action(
        verb, f"api_creation_{verb}", summary, scope="publish", refusals=(refusal,)
    )(action)


unschedule_creation = state_action(
    services.creation_unschedule,
    "Unschedule a scheduled post (back to the drafts)",
    "not_scheduled",
)
unpublish_creation = state_action(
    services.creation_unpublish, "Unpublish a post (back to the drafts)", "not_published"
)
trash_creation = state_action(
    services.creation_trash, "Move a creation to the trash", "not_trashable"
)
restore_creation = state_action(
    services.creation_restore, "Restore a creation from the trash", "not_in_trash"
)
purge_creation = state_action(
    services.creation_purge, "Delete a creation in the trash forever", "not_in_trash"
)


@router.post(
    "/creations/bulk",
    operation_id="api_creations_bulk",
    url_name="api_creations_bulk",
    summary=f"One action on up to {settings.PHOENIX_BULK_MAX} of the owner's creations",
    auth=signed_in("publish"),
    response={200: shapes.BulkDone, 400: shapes.BulkRefused, 422: shapes.CaptionRejected},
    openapi_extra=body(shapes.Bulk, form=True),
)
def creations_bulk(request: HttpRequest) -> JsonResponse:
    """Each creation is its own transaction: "ok" or the refusal's code per id, and one
    refusal does not undo the others. As a form, repeat `ids` once per id. Someone else's
    id reads as not_found, like an unknown one. A bad request changes nothing. With an API
    key, a bulk cancel also needs `create`."""
    try:
        data = read_body(request)
        if request.content_type != "application/json" and "ids" in request.POST:
            data["ids"] = request.POST.getlist("ids")
        action, ids, caption = services.parse_bulk_request(data)
        if action == "cancel":
            require_scope(request, "create")  # an API key: cancel is a create-scope action
        # Checked once for the request, rather than refused item by item.
        caption = services.clean_caption(caption)
    except RequestProblem as problem:
        return error(400, problem.code, problem.message)
    except services.BulkRequestProblem as problem:
        return error(400, problem.code, problem.message)
    except services.ActionRefused as refusal:
        return error(refusal_status(refusal), refusal.code, refusal.message)
    results = services.creations_bulk(owner=request.user, action=action, ids=ids, caption=caption)
    return JsonResponse({"results": results, "summary": bulk_summary(results)})
