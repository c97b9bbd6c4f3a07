"""JSON API of the library, declared on its router (docs/api-declaration.md): search and
filter one's own creations, star them, and keep boards of them.

Someone else's creation or board answers exactly as an unknown id does (404). A refusal's
code decides its status here, in one table (the services carry no HTTP).
"""

from uuid import UUID

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from pydantic import Field

from creations import api_schemas as creation_shapes
from creations.api import read_body
from creations.presenters import creation_as_json
from creations.validation import RequestProblem, object_with_only
from phoenix import jsonapi
from phoenix.jsonapi import Model, NotFound, Router, bad_request, body, error, refused, signed_in
from phoenix.paging import parse_cursor

from . import selectors, services
from .errors import LibraryRefused
from .models import BOARD_NAME_MAX, Board

router = Router(tags=["library"])
BOARD = "/boards/{uuid:board_id}"
BODY_PROBLEMS = ("malformed_json", "malformed_request", "unknown_field")
STATUS_OF = {
    "not_found": 404,
    "name_taken": 409,
    "too_many_boards": 409,
}


class LibraryPage(Model):
    """A page of one's creations, newest first."""

    results: list[creation_shapes.Creation]
    next_cursor: str | None = Field(description="Give it as `cursor` for the next page.")


class BoardOut(Model):
    id: UUID
    name: str
    item_count: int = Field(None, description="Its creations not in the trash (in lists).")


class Boards(Model):
    boards: list[BoardOut]


class BoardName(Model):
    name: str = Field(min_length=1, max_length=BOARD_NAME_MAX)


class BoardItem(Model):
    creation_id: UUID


class ItemAdded(Model):
    board_id: UUID
    creation_id: UUID
    added: bool = Field(description="False when it was on the board already.")


BoardNotFound = NotFound
NameProblem = bad_request(
    "BoardNameProblem",
    [*BODY_PROBLEMS, "name_required", "invalid_name", "name_too_long"],
)
NameTaken = refused(
    "BoardNameTaken",
    ["name_taken", "too_many_boards"],
    description="Another board of yours has that name (case aside), or you have the most.",
)


def refusal_response(refusal: LibraryRefused) -> JsonResponse:
    return jsonapi.refusal_error(refusal, STATUS_OF)


def board_as_json(board: Board) -> dict:
    body = {"id": str(board.id), "name": board.name}
    if hasattr(board, "item_count"):
        body["item_count"] = board.item_count
    return body


def read_object(request: HttpRequest, allowed: set[str]) -> dict:
    data = read_body(request)
    return {} if data is None else object_with_only(data, allowed)


@router.get(
    "/creations",
    operation_id="api_creations",
    url_name="api_creations",
    summary="Search and filter one's own creations",
    auth=signed_in("read"),
    response={
        200: LibraryPage,
        400: bad_request(
            "LibraryQueryProblem",
            ["invalid_type", "invalid_status", "invalid_starred", "invalid_cursor"],
            with_field=False,
        ),
        404: BoardNotFound,
    },
)
@never_cache
def creations(
    request: HttpRequest,
    q: str | None = None,
    type: str | None = None,  # noqa: A002 (the issue's name for the parameter)
    status: str | None = None,
    starred: str | None = None,
    board: str | None = None,
    cursor: str | None = None,
) -> JsonResponse:
    """The caller's creations not in the trash (never a purged one), newest first. `q`
    matches prompt and caption: whole words (full text, websearch syntax) or any part of a
    word; every filter narrows."""
    try:
        filters = selectors.parse_filters(request.GET, owner=request.user)
    except LibraryRefused as refusal:
        return refusal_response(refusal)
    cursor = request.GET.get("cursor") or None
    if cursor is not None and parse_cursor(cursor) is None:
        return error(400, "invalid_cursor", "cursor must be a next_cursor this API gave.")
    page = selectors.library_page(owner=request.user, filters=filters, cursor=cursor)
    return jsonapi.page_answer(page, [creation_as_json(creation) for creation in page.items])


def _star(request: HttpRequest, creation_id: UUID, *, starred: bool) -> JsonResponse:
    try:
        creation = services.creation_star(
            owner=request.user, creation_id=creation_id, starred=starred
        )
    except LibraryRefused as refusal:
        return refusal_response(refusal)
    return JsonResponse(creation_as_json(creation))


# The star's two operations: one path, the same answers.
STAR = {
    "path": "/creations/{uuid:creation_id}/star",
    "url_name": "api_creation_star",
    "auth": signed_in("publish"),
    "response": {200: creation_shapes.Creation, 404: NotFound},
}


@router.post(operation_id="api_creation_star", summary="Star one's creation (idempotent)", **STAR)
def star(request: HttpRequest, creation_id: UUID) -> JsonResponse:
    return _star(request, creation_id, starred=True)


@router.delete(
    operation_id="api_creation_unstar", summary="Unstar one's creation (idempotent)", **STAR
)
def unstar(request: HttpRequest, creation_id: UUID) -> JsonResponse:
    return _star(request, creation_id, starred=False)


@router.get(
    "/boards",
    operation_id="api_boards_list",
    url_name="api_boards",
    summary="One's boards, by name",
    auth=signed_in("read"),
    response={200: Boards},
)
@never_cache
def boards_list(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"boards": [board_as_json(board) for board in selectors.boards_of(request.user)]}
    )


@router.post(
    "/boards",
    operation_id="api_boards_create",
    url_name="api_boards",
    summary="Make a board",
    auth=signed_in("publish"),
    response={201: BoardOut, 400: NameProblem, 409: NameTaken},
    openapi_extra=body(BoardName),
)
def boards_create(request: HttpRequest) -> JsonResponse:
    try:
        data = read_object(request, set(BoardName.model_fields))
        if "name" not in data:
            raise RequestProblem("name_required", "Give the board a name.", "name")
        created = services.board_create(owner=request.user, name=data["name"])
    except RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    except LibraryRefused as refusal:
        return refusal_response(refusal)
    return JsonResponse(board_as_json(created), status=201)


@router.get(
    BOARD,
    operation_id="api_board_read",
    url_name="api_board",
    summary="Read one's board",
    auth=signed_in("read"),
    response={200: BoardOut, 404: BoardNotFound},
)
@never_cache
def board_read(request: HttpRequest, board_id: UUID) -> JsonResponse:
    try:
        found = selectors.own_board(owner=request.user, board_id=board_id)
    except LibraryRefused as refusal:
        return refusal_response(refusal)
    return JsonResponse(board_as_json(found))


@router.patch(
    BOARD,
    operation_id="api_board_rename",
    url_name="api_board",
    summary="Rename one's board",
    auth=signed_in("publish"),
    response={200: BoardOut, 400: NameProblem, 404: BoardNotFound, 409: NameTaken},
    openapi_extra=body(BoardName),
)
def board_rename(request: HttpRequest, board_id: UUID) -> JsonResponse:
    try:
        found = selectors.own_board(owner=request.user, board_id=board_id)
        data = read_object(request, set(BoardName.model_fields))
        if "name" not in data:
            raise RequestProblem("name_required", "Send the board's new name.", "name")
        services.board_rename(board=found, name=data["name"])
    except RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    except LibraryRefused as refusal:
        return refusal_response(refusal)
    return JsonResponse(board_as_json(found))


@router.delete(
    BOARD,
    operation_id="api_board_delete",
    url_name="api_board",
    summary="Delete one's board (its creations stay)",
    auth=signed_in("publish"),
    response={204: None, 404: BoardNotFound},
)
def board_delete(request: HttpRequest, board_id: UUID) -> HttpResponse:
    try:
        found = selectors.own_board(owner=request.user, board_id=board_id)
    except LibraryRefused as refusal:
        return refusal_response(refusal)
    services.board_delete(board=found)
    return HttpResponse(status=204)


ItemProblem = bad_request("BoardItemProblem", [*BODY_PROBLEMS, "creation_id_required"])


def _item(request: HttpRequest, board_id: UUID):
    """(board, creation id) of an items request, or the refusal's answer."""
    try:
        found = selectors.own_board(owner=request.user, board_id=board_id)
        data = read_object(request, set(BoardItem.model_fields))
        if not isinstance(data.get("creation_id"), str):
            raise RequestProblem("creation_id_required", "Send the creation's id.", "creation_id")
    except RequestProblem as problem:
        return None, error(400, problem.code, problem.message, field=problem.field)
    except LibraryRefused as refusal:
        return None, refusal_response(refusal)
    return (found, data["creation_id"]), None


# A board's items: one path, the same body.
ITEMS = {
    "path": BOARD + "/items",
    "url_name": "api_board_items",
    "auth": signed_in("publish"),
    "openapi_extra": body(BoardItem),
}


@router.post(
    operation_id="api_board_items_add",
    summary="Put one's creation on one's board",
    response={200: ItemAdded, 400: ItemProblem, 404: NotFound},
    **ITEMS,
)
def board_items_add(request: HttpRequest, board_id: UUID) -> JsonResponse:
    """Idempotent: `added` is false when it was on the board already."""
    found, refusal = _item(request, board_id)
    if refusal is not None:
        return refusal
    board, creation_id = found
    result = services.board_add(board=board, creation_ids=[creation_id]).results[creation_id]
    if result == "not_found":
        return error(404, "not_found", "No such creation.")
    return JsonResponse(
        {"board_id": str(board.id), "creation_id": creation_id, "added": result == "ok"}
    )


@router.delete(
    operation_id="api_board_items_remove",
    summary="Take a creation off one's board",
    response={204: None, 400: ItemProblem, 404: BoardNotFound},
    **ITEMS,
)
def board_items_remove(request: HttpRequest, board_id: UUID) -> HttpResponse:
    """204 also when it was not on the board."""
    found, refusal = _item(request, board_id)
    if refusal is not None:
        return refusal
    board, creation_id = found
    services.board_remove(board=board, creation_id=creation_id)
    return HttpResponse(status=204)
