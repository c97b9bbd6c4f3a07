"""Bulk actions on the profile's Drafts and Trash tabs: one action for the creations ticked,
each its own transaction, answered with a summary in words and the tabs refreshed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from creations import services
from creations.api import refusal_status
from creations.models import Creation
from creations.services import ActionRefused
from creations.views.common import profile_url, token_count
from tokens.selectors import balance_of

from .views import tabs_context

BULK_TABS = {"drafts": ("publish", "trash", "cancel"), "trash": ("restore", "purge")}


BULK_TABS = {"drafts": ("publish", "trash", "cancel"), "trash": ("restore", "purge")}
BULK_DONE = {
    "publish": "published",
    "trash": "moved to the trash",
    "cancel": "canceled",
    "restore": "restored",
    "purge": "deleted forever",
}


def skip_reason(code: str, creation: Creation | None) -> str:
    """Why one item of a bulk action was skipped, in a few words."""
    if creation is None or code == "not_found":
        return "not found"
    if creation.is_in_flight and code in ("not_publishable", "not_trashable"):
        return "still generating"
    if creation.is_trashed and code != "not_in_trash":
        return "in the trash"
    if code == "not_publishable":
        if creation.status in Creation.ENDED_WITHOUT_MEDIA:
            return "failed or canceled"
        return "already published or scheduled"
    if code == "not_cancelable":
        return "already finished"
    if code == "not_in_trash":
        return "not in the trash"
    return services.REFUSALS.get(code, code.replace("_", " "))


def bulk_summary(action: str, results: dict[str, str], creations: dict[str, Creation]) -> str:
    """A bulk action's outcome in words: "12 published, 2 skipped: still generating"."""
    done = [key for key, result in results.items() if result == "ok"]
    summary = f"{len(done)} {BULK_DONE[action]}"
    if action == "cancel" and done:
        summary += f", {token_count(sum(creations[key].cost for key in done))} refunded"
    reasons: dict[str, int] = {}
    for key, result in results.items():
        if result != "ok":
            reason = skip_reason(result, creations.get(key))
            reasons[reason] = reasons.get(reason, 0) + 1
    skipped = sum(reasons.values())
    if len(reasons) == 1:
        summary += f", {skipped} skipped: {next(iter(reasons))}"
    elif reasons:
        summary += f", {skipped} skipped: " + ", ".join(f"{n} {why}" for why, n in reasons.items())
    return summary + "."


@login_required
@require_POST
def creations_bulk(request: HttpRequest) -> HttpResponse:
    """One action for the creations ticked on a tab; each item is its own transaction and
    the answer is a summary in words. Without JavaScript, Delete forever asks first."""
    tab = request.POST.get("tab") if request.POST.get("tab") in BULK_TABS else "drafts"
    action = request.POST.get("action", "")
    ids = request.POST.getlist("ids")
    caption = request.POST.get("caption", "")
    summary, problem, status = "", "", 200
    try:
        if not ids:
            raise services.BulkRequestProblem("invalid_ids", "Select at least one first.")
        if action not in BULK_TABS[tab]:
            raise services.BulkRequestProblem("unknown_action", "Choose an action.")
        action, parsed, caption = services.parse_bulk_request(
            {"action": action, "ids": ids, "caption": caption}
        )
        if action == "publish":
            caption = services.clean_caption(caption)
    except services.BulkRequestProblem as bad:
        problem, status = bad.message, 400
    except ActionRefused as refusal:
        problem, status = refusal.message, refusal_status(refusal)
    else:
        if action == "purge" and not request.htmx and not request.POST.get("confirmed"):
            return render(
                request,
                "creations/confirm.html",
                {"action": "bulk_purge", "ids": ids, "count": len(parsed)},
            )
        results = services.creations_bulk(
            owner=request.user, action=action, ids=parsed, caption=caption
        )
        creations = {
            str(c.pk): c for c in Creation.objects.filter(owner=request.user, pk__in=parsed)
        }
        summary = bulk_summary(action, results, creations)
    if not request.htmx:
        if problem:
            messages.error(request, problem)
        else:
            messages.success(request, summary)
        return redirect(profile_url(request.user, tab))
    context = tabs_context(request, request.user, tab, fresh_selection=not problem)
    context.update(bulk_summary=summary, bulk_error=problem)
    if action == "cancel" and summary:
        context["nav_balance"] = balance_of(request.user)
    return render(request, "profiles/profile.html#bulk_done", context, status=status)
