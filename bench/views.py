"""The floors: what the same gunicorn, middleware and database can do with nothing of
Phoenix's own work on top. Only mounted by bench.settings."""

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.views.decorators.http import require_POST
from redis import Redis
from rq import Queue

from creations.models import Creation
from tokens.models import LedgerEntry, TokenAccount

_queue: Queue | None = None


def bench_queue() -> Queue:
    # One Redis connection per process, as creations.queues keeps one.
    global _queue
    if _queue is None:
        _queue = Queue("bench", connection=Redis.from_url(settings.REDIS_URL))
    return _queue


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


def poll(request: HttpRequest, creation_id) -> HttpResponse:
    """What any card poll must do: know the user (session and user rows), read one row by
    primary key, answer a small fragment. Not a goal's floor, but the honest reference for
    the poll: the bare view does no database work at all."""
    if not request.user.is_authenticated:
        raise Http404
    row = (
        Creation.objects.filter(pk=creation_id, owner_id=request.user.pk)
        .values("id", "status", "progress", "prompt")
        .first()
    )
    if row is None:
        raise Http404
    return HttpResponse(
        f'<article id="creation-{row["id"]}" class="card card--{row["status"]}" '
        f'hx-get="/bench/poll/{row["id"]}" hx-trigger="every 2s" hx-swap="outerHTML">'
        f'<p class="card__prompt">{escape(row["prompt"][:140])}</p>'
        f'<progress max="100" value="{row["progress"]}"></progress></article>'
    )


@require_POST
def debit(request: HttpRequest) -> HttpResponse:
    """Lock the account row, update it, insert a creation and a ledger row, enqueue on
    commit — the SQL and Redis work of a create and nothing else."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "authentication_required"}, status=401)
    with transaction.atomic():
        account = (
            TokenAccount.objects.select_for_update().only("id", "balance").get(user=request.user)
        )
        TokenAccount.objects.filter(pk=account.pk).update(balance=F("balance") - 1)
        creation = Creation.objects.create(
            owner_id=request.user.pk, kind="image", prompt="floor", aspect_ratio="1:1", cost=1
        )
        LedgerEntry.objects.create(
            account_id=account.pk,
            kind=LedgerEntry.Kind.DEBIT,
            amount=-1,
            balance_after=account.balance - 1,
            creation=creation,
        )
        transaction.on_commit(lambda: bench_queue().enqueue("bench.jobs.noop"))
    return JsonResponse({"creation_id": str(creation.pk)}, status=202)
