"""The floors: what the same gunicorn, middleware and database can do with nothing of
Phoenix's own work on top. Only mounted by bench.settings."""

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
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
