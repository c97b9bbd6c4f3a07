"""JSON API of the library, in the style of creations/api.py: search and filter one's own
creations, star them, and keep boards of them.

Someone else's creation or board answers exactly as an unknown id does (404). A refusal's
code decides its status here, in one table (the services carry no HTTP).
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from creations.api import read_body
from creations.presenters import creation_as_json
from creations.validation import RequestProblem, object_with_only
from phoenix.jsonapi import error, unauthenticated
from phoenix.paging import parse_cursor

from . import selectors, services
from .models import Board
from .services import LibraryRefused


def api_login_required(view):
    """401 JSON without a login. (Kept here while the library's endpoints are plain views:
    main's API moved onto routers, phoenix/jsonapi.py, after this branch was written.)"""

    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return unauthenticated()
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


STATUS_OF = {
    "not_found": 404,
    "board_not_found": 404,
    "name_taken": 409,
    "too_many_boards": 409,
}


def refused(refusal: LibraryRefused) -> JsonResponse:
    return error(STATUS_OF.get(refusal.code, 400), refusal.code, refusal.message)


def board_as_json(board: Board) -> dict:
    body = {"id": str(board.id), "name": board.name}
    if hasattr(board, "item_count"):
        body["item_count"] = board.item_count
    return body


def read_object(request: HttpRequest, allowed: set[str]) -> dict:
    data = read_body(request)
    return {} if data is None else object_with_only(data, allowed)


@never_cache
@require_GET
@api_login_required
def creations(request: HttpRequest) -> JsonResponse:
    """GET /api/creations?q=&type=&status=&starred=1&board=&cursor=: the caller's own
    creations not in the trash, newest first, a page at a time."""
    try:
        filters = selectors.parse_filters(request.GET, owner=request.user)
    except LibraryRefused as refusal:
        return refused(refusal)
    cursor = request.GET.get("cursor") or None
    if cursor is not None and parse_cursor(cursor) is None:
        return error(400, "invalid_cursor", "cursor must be a next_cursor this API gave.")
    page = selectors.library_page(owner=request.user, filters=filters, cursor=cursor)
    return JsonResponse(
        {
            "results": [creation_as_json(creation) for creation in page.items],
            "next_cursor": page.next_cursor,
        }
    )


@require_http_methods(["POST", "DELETE"])
@api_login_required
def star(request: HttpRequest, creation_id) -> JsonResponse:
    """POST stars one's creation, DELETE unstars it; both idempotent. The creation's JSON."""
    try:
        creation = services.creation_star(
            owner=request.user, creation_id=creation_id, starred=request.method == "POST"
        )
    except LibraryRefused as refusal:
        return refused(refusal)
    return JsonResponse(creation_as_json(creation))


@never_cache
@require_http_methods(["GET", "POST"])
@api_login_required
def boards(request: HttpRequest) -> JsonResponse:
    """GET: one's boards by name. POST {"name"}: a new board, 201 {"id", "name"}."""
    if request.method == "GET":
        return JsonResponse(
            {"boards": [board_as_json(board) for board in selectors.boards_of(request.user)]}
        )
    try:
        data = read_object(request, {"name"})
        if "name" not in data:
            raise RequestProblem("name_required", "Give the board a name.", "name")
        created = services.board_create(owner=request.user, name=data["name"])
    except RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    except LibraryRefused as refusal:
        return refused(refusal)
    return JsonResponse(board_as_json(created), status=201)


@never_cache
@require_http_methods(["GET", "PATCH", "DELETE"])
@api_login_required
def board(request: HttpRequest, board_id) -> HttpResponse:
    """GET: the board. PATCH {"name"}: rename it. DELETE: delete it (its creations stay in
    the library), 204."""
    try:
        found = services.own_board(owner=request.user, board_id=board_id)
        if request.method == "DELETE":
            services.board_delete(board=found)
            return HttpResponse(status=204)
        if request.method == "PATCH":
            data = read_object(request, {"name"})
            if "name" not in data:
                raise RequestProblem("name_required", "Send the board's new name.", "name")
            services.board_rename(board=found, name=data["name"])
    except RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    except LibraryRefused as refusal:
        return refused(refusal)
    return JsonResponse(board_as_json(found))


@require_http_methods(["POST", "DELETE"])
@api_login_required
def board_items(request: HttpRequest, board_id) -> HttpResponse:
    """POST {"creation_id"}: put one's creation on the board (200, `added` false when it was
    there already). DELETE {"creation_id"}: take it off (204, also when it was not on it)."""
    try:
        found = services.own_board(owner=request.user, board_id=board_id)
        data = read_object(request, {"creation_id"})
        if not isinstance(data.get("creation_id"), str):
            raise RequestProblem("creation_id_required", "Send the creation's id.", "creation_id")
        if request.method == "DELETE":
            services.board_remove(board=found, creation_id=data["creation_id"])
            return HttpResponse(status=204)
        outcome = services.board_add(board=found, creation_ids=[data["creation_id"]])
    except RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    except LibraryRefused as refusal:
        return refused(refusal)
    result = outcome.results[data["creation_id"]]
    if result == "not_found":
        return error(404, "not_found", "No such creation.")
    return JsonResponse(
        {"board_id": str(found.id), "creation_id": data["creation_id"], "added": result == "ok"}
    )
