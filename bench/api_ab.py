"""In-process A/B of the JSON API's dispatch: the declared (django-ninja) operations against
plain Django views doing the very same work, for the two hot operations — create
(POST /api/generate/creation) and the status read (GET /api/creations/<id>).

Rounds are interleaved (A then B, then B then A, …) in one process, because the machine is
shared and noisy; the figure is the median of the per-round ratios, of wall time and of this
process's CPU time (which the other processes on the machine do not inflate).

    .venv/bin/pytest -p no:cacheprovider -s bench/api_ab.py  [PHOENIX_AB_ROUNDS=30]

It is a measurement, not a test: it asserts only that both sides answered as expected."""

import gc
import json
import os
import statistics
import time

import pytest
from django.http import Http404, HttpRequest, JsonResponse
from django.test import Client
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

import phoenix.urls
from creations import api as declared
from creations import selectors, services
from creations.presenters import creation_as_json
from phoenix.jsonapi import error
from profiles.services import creator_signup
from tokens.services import account_grant

ROUNDS = int(os.environ.get("PHOENIX_AB_ROUNDS", "30"))


def login_required_json(view):
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return error(401, "authentication_required", "Log in to do this.")
        return view(request, *args, **kwargs)

    return wrapped


@require_POST
@login_required_json
def plain_generate(request: HttpRequest) -> JsonResponse:
    """Before the move: the same calls, under Django's decorators."""
    try:
        submitted = declared.start_creation(
            request.user, declared.read_body(request), upload=request.FILES.get("image")
        )
    except declared.RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    except declared.Refusal as refusal:
        return JsonResponse(refusal.body, status=refusal.status, headers=refusal.headers)
    return declared.submitted_as_json(request, submitted)


@never_cache
@require_GET
@login_required_json
def plain_status(request: HttpRequest, creation_id) -> JsonResponse:
    try:
        creation = services.creation_for_owner(owner=request.user, creation_id=creation_id)
    except Http404:
        return declared.not_found()
    selectors.with_queue_estimates([creation])
    return JsonResponse(creation_as_json(creation))


# The plain views sit just before the API's patterns in the site's URLconf, so URL
# resolution costs both sides about the same.
_site = list(phoenix.urls.urlpatterns)
_at = next(i for i, p in enumerate(_site) if str(p.pattern) == "api/")
urlpatterns = [
    *_site[:_at],
    path("api/plain/generate/creation", plain_generate),
    path("api/plain/creations/<uuid:creation_id>", plain_status),
    *_site[_at:],
]


def interleaved(send_a, send_b, per_round: int) -> dict:
    if os.environ.get("PHOENIX_AB_GC") == "0":
        gc.disable()
    wall = {"a": [], "b": []}
    cpu = {"a": [], "b": []}
    for round_number in range(ROUNDS):
        order = [("a", send_a), ("b", send_b)]
        if round_number % 2:
            order.reverse()
        for side, send in order:
            started, started_cpu = time.perf_counter(), time.process_time()
            for _ in range(per_round):
                send()
            wall[side].append((time.perf_counter() - started) / per_round * 1e6)
            cpu[side].append((time.process_time() - started_cpu) / per_round * 1e6)

    gc.enable()

    def ratio(figures):
        return statistics.median(b / a for a, b in zip(figures["a"], figures["b"], strict=True))

    return {
        "a_wall_us": round(statistics.median(wall["a"])),
        "b_wall_us": round(statistics.median(wall["b"])),
        "wall_ratio": round(ratio(wall), 3),
        "a_cpu_us": round(statistics.median(cpu["a"])),
        "b_cpu_us": round(statistics.median(cpu["b"])),
        "cpu_ratio": round(ratio(cpu), 3),
    }


def expect(status: int, send):
    def sent():
        response = send()
        assert response.status_code == status, response.content[:300]

    return sent


@pytest.mark.django_db(transaction=True)
def test_declared_against_plain(settings):
    settings.ROOT_URLCONF = __name__
    settings.PHOENIX_MAX_IN_FLIGHT = 0
    creator = creator_signup(username="ab-creator", password="ab-password-123")
    account_grant(user=creator, amount=100_000_000, reason="api a/b")
    client = Client()
    client.force_login(creator)
    body = json.dumps({"type": "image", "prompt": "a lighthouse at dusk"})

    def create(url):
        return expect(202, lambda: client.post(url, body, content_type="application/json"))

    first = client.post("/api/generate/creation", body, content_type="application/json")
    creation_id = first.json()["creation_id"]

    def status(url):
        return expect(200, lambda: client.get(url))

    results = {
        "status read": interleaved(
            status(f"/api/plain/creations/{creation_id}"),
            status(f"/api/creations/{creation_id}"),
            per_round=40,
        ),
        "create": interleaved(
            create("/api/plain/generate/creation"), create("/api/generate/creation"), per_round=8
        ),
    }
    for name, figures in results.items():
        print(f"\n{name} (a: plain view, b: declared operation, {ROUNDS} rounds): {figures}")


@pytest.mark.django_db
def test_dispatch_overhead():
    """What the declaration itself costs per request, without the database: a trivial
    declared operation against a trivial view under the decorators it replaced, called
    straight (RequestFactory, no middleware), interleaved."""
    from uuid import UUID, uuid4

    from django.test import RequestFactory

    from phoenix.jsonapi import NotFound, PhoenixAPI, Router, signed_in

    creator = creator_signup(username="ab-dispatch", password="ab-password-123")
    router = Router()

    @router.get("/things/{uuid:thing_id}", auth=signed_in("read"), response={404: NotFound})
    @never_cache
    def declared_view(request, thing_id: UUID):
        return JsonResponse({"id": str(thing_id)})

    @never_cache
    @require_GET
    @login_required_json
    def plain_view(request, thing_id):
        return JsonResponse({"id": str(thing_id)})

    api = PhoenixAPI()
    api.add_router("", router)
    [pattern] = [p for p in api.url_patterns() if "things" in str(p.pattern)]
    factory, thing = RequestFactory(), uuid4()

    def call(view):
        def sent():
            request = factory.get("/api/things/x")
            request.user = creator
            assert view(request, thing_id=thing).status_code == 200

        return sent

    figures = interleaved(call(plain_view), call(pattern.callback), per_round=500)
    print(
        f"\ndispatch alone (a: plain decorators, b: declared): {figures}; "
        f"overhead {figures['b_cpu_us'] - figures['a_cpu_us']} µs CPU per request"
    )


@pytest.mark.django_db(transaction=True)
def test_bearer_against_session(settings):
    """The same declared operations, asked with the session cookie (a) and with an API key
    (b): what the key's lookup, its window (one Redis pipeline) and its headers cost."""
    from apikeys.services import key_create

    settings.PHOENIX_MAX_IN_FLIGHT = 0
    settings.PHOENIX_API_KEY_REQUESTS = 10_000_000
    creator = creator_signup(username="ab-bearer", password="ab-password-123")
    account_grant(user=creator, amount=100_000_000, reason="api a/b")
    session = Client()
    session.force_login(creator)
    key = key_create(user=creator, name="ab", scopes=["create", "read"]).plaintext
    script = Client(headers={"Authorization": f"Bearer {key}"})
    body = json.dumps({"type": "image", "prompt": "a lighthouse at dusk"})
    creation_id = session.post(
        "/api/generate/creation", body, content_type="application/json"
    ).json()["creation_id"]
    url = f"/api/creations/{creation_id}"

    def create(client):
        return expect(
            202,
            lambda: client.post("/api/generate/creation", body, content_type="application/json"),
        )

    results = {
        "status read": interleaved(
            expect(200, lambda: session.get(url)), expect(200, lambda: script.get(url)), 40
        ),
        "create": interleaved(create(session), create(script), per_round=8),
    }
    for name, figures in results.items():
        print(f"\n{name} (a: session cookie, b: API key, {ROUNDS} rounds): {figures}")
