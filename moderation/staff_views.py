"""The staff pages: the moderation queue (/staff/moderation) and appeals (/staff/appeals).

Open to staff with the permission `moderation.moderate` (not to every staff member); with
PHOENIX_STAFF_REQUIRE_2FA only in a session that passed a two-factor code (accounts'
middleware guards every /staff/ page)."""

from functools import wraps

from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services
from .models import NOTE_MAX, REASON_MAX, Action
from .services import ModerationRefused


def moderator_required(view):
    """Signed out: to the log-in. Signed in without the permission: 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not selectors.is_moderator(request.user):
            raise PermissionDenied("Moderators only.")
        return view(request, *args, **kwargs)

    return wrapped


def _back_to_case(case_id) -> HttpResponse:
    return redirect(f"{reverse('staff_moderation')}#case-{case_id}")


def _refused(request: HttpRequest, refusal: ModerationRefused) -> None:
    messages.error(request, refusal.message)


@never_cache
@require_GET
@moderator_required
def queue_page(request: HttpRequest) -> HttpResponse:
    mine = request.GET.get("assigned") == "me"
    context = {
        **admin.site.each_context(request),
        "title": "Moderation queue",
        "is_nav_sidebar_enabled": False,
        "cases": selectors.queue(assignee=request.user if mine else None),
        "open_count": selectors.open_case_count(),
        "mine": mine,
        "actions": Action.Kind.choices,
        "recent": selectors.recent_actions(),
        "note_max": NOTE_MAX,
        "reason_max": REASON_MAX,
    }
    return render(request, "moderation/queue.html", context)


@require_POST
@moderator_required
def case_assign(request: HttpRequest, case_id) -> HttpResponse:
    try:
        if request.POST.get("unassign"):
            services.case_unassign(case_id=case_id, staff=request.user)
        else:
            services.case_assign(case_id=case_id, staff=request.user)
    except ModerationRefused as refusal:
        _refused(request, refusal)
    return _back_to_case(case_id)


@require_POST
@moderator_required
def case_note(request: HttpRequest, case_id) -> HttpResponse:
    try:
        services.case_note_add(case_id=case_id, staff=request.user, text=request.POST.get("text"))
    except ModerationRefused as refusal:
        _refused(request, refusal)
    return _back_to_case(case_id)


@require_POST
@moderator_required
def case_decide(request: HttpRequest, case_id) -> HttpResponse:
    try:
        action = services.case_decide(
            case_id=case_id,
            staff=request.user,
            kind=request.POST.get("kind", ""),
            reason=request.POST.get("reason"),
        )
    except ModerationRefused as refusal:
        _refused(request, refusal)
        return _back_to_case(case_id)
    messages.success(request, f"Decided: {action.get_kind_display()}.")
    return redirect("staff_moderation")


@never_cache
@require_GET
@moderator_required
def appeals_page(request: HttpRequest) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": "Appeals",
        "is_nav_sidebar_enabled": False,
        "appeals": selectors.open_appeals(),
        "decided": selectors.recently_decided_appeals(),
        "reason_max": REASON_MAX,
    }
    return render(request, "moderation/appeals.html", context)


@require_POST
@moderator_required
def appeal_decide(request: HttpRequest, action_id) -> HttpResponse:
    outcome = request.POST.get("outcome")
    if outcome not in ("uphold", "reverse"):
        messages.error(request, "Choose Uphold or Reverse.")
        return redirect("staff_appeals")
    try:
        decided = services.appeal_decide(
            action_id=action_id,
            staff=request.user,
            reverse=outcome == "reverse",
            note=request.POST.get("note"),
        )
    except ModerationRefused as refusal:
        _refused(request, refusal)
        return redirect(f"{reverse('staff_appeals')}#appeal-{action_id}")
    if decided.reinstated:
        messages.success(request, "Reversed: the post is published again.")
    elif decided.reactivated:
        messages.success(request, "Reversed: the account is active again.")
    else:
        messages.success(request, f"Appeal {decided.appeal.get_status_display().lower()}.")
    return redirect("staff_appeals")
