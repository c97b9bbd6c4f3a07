"""The creator's own token pages: history with lots, buying a pack, a purchase's page."""

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import payments
from .api import purchase_return_urls
from .presenters import history_rows, lot_rows
from .selectors import (
    active_packs,
    balance_and_debt,
    balance_of,
    ledger_history_page,
    own_purchase,
    recent_purchases,
    spendable_lots,
)


@require_GET
@never_cache
@login_required
def token_history(request: HttpRequest) -> HttpResponse:
    """The balance, its lots and every ledger row of the signed-in creator, newest first,
    paginated. Only ever their own: the rows are read from their account."""
    page = ledger_history_page(user=request.user, number=request.GET.get("page"))
    balance, debt = balance_and_debt(request.user)
    context = {
        "balance": balance,
        "debt": debt,
        "lots": lot_rows(spendable_lots(user=request.user)),
        "purchases": recent_purchases(user=request.user),
        # The nav shows it too: read once (the context processor's lazy read is replaced).
        "token_balance": balance,
        "page": page,
        "rows": history_rows(page.object_list, owner=request.user),
    }
    return render(request, "tokens/history.html", context)


@require_http_methods(["GET", "POST"])
@never_cache
@login_required
def token_buy(request: HttpRequest) -> HttpResponse:
    """The packs; choosing one opens Stripe Checkout (a 303 to its page)."""
    problem, status = "", 200
    if request.method == "POST":
        try:
            started = payments.checkout_start(
                user=request.user,
                pack_slug=request.POST.get("pack"),
                return_urls=purchase_return_urls(request),
            )
        except payments.UnknownPack as unknown:
            problem, status = str(unknown), 400
        except payments.StripeUnavailable as down:
            problem, status = str(down), 503
        else:
            # 303: the browser follows with a GET, whatever the form's method was.
            response = redirect(started.checkout_url)
            response.status_code = 303
            return response
    balance, debt = balance_and_debt(request.user)
    context = {
        "packs": active_packs(),
        "balance": balance,
        "token_balance": balance,
        "debt": debt,
        "problem": problem,
        "canceled": "canceled" in request.GET,
        "test_mode": payments.is_test_mode(),
    }
    return render(request, "tokens/buy.html", context, status=status)


@require_GET
@never_cache
@login_required
def token_purchase(request: HttpRequest, purchase_id: UUID) -> HttpResponse:
    """Where Stripe sends the buyer back: polls (the #status partial) until the tokens are
    in, or the purchase ended another way."""
    purchase = own_purchase(user=request.user, purchase_id=purchase_id)
    if purchase is None:
        raise Http404("No such purchase.")
    balance = balance_of(request.user)
    context = {"purchase": purchase, "balance": balance, "token_balance": balance}
    if request.htmx:
        # The nav's balance changes with the tokens' arrival: swapped in beside the status.
        context["nav_balance"] = balance
        return render(request, "tokens/purchase.html#status", context)
    return render(request, "tokens/purchase.html", context)
