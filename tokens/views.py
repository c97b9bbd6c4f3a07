"""The creator's own token pages."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .presenters import history_rows
from .selectors import balance_of, ledger_history_page


@require_GET
@never_cache
@login_required
def token_history(request: HttpRequest) -> HttpResponse:
    """The balance and every ledger row of the signed-in creator, newest first, paginated.
    Only ever their own: the rows are read from their account."""
    page = ledger_history_page(user=request.user, number=request.GET.get("page"))
    balance = balance_of(request.user)
    context = {
        "balance": balance,
        # The nav shows it too: read once (the context processor's lazy read is replaced).
        "token_balance": balance,
        "page": page,
        "rows": history_rows(page.object_list, owner=request.user),
    }
    return render(request, "tokens/history.html", context)
