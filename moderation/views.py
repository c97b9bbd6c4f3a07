"""Pages of moderation for everyone signed in: the report form (what the Report dialog
enhances), a decision about you with its Appeal, and the reports you filed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import selectors, services
from .models import APPEAL_MAX, NOTE_MAX, Report, Target
from .refusals import status_of
from .services import ModerationRefused


def _safe_next(request: HttpRequest, fallback: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def report_post_page(request: HttpRequest, creation_id) -> HttpResponse:
    return report_page(request, Target.POST, creation_id)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def report_comment_page(request: HttpRequest, comment_id) -> HttpResponse:
    return report_page(request, selectors.comment_target(comment_id), comment_id)


def report_page(request: HttpRequest, target: str, item_id) -> HttpResponse:
    """The report form on a page of its own (the dialog does the same through the API)."""
    item = selectors.reportable_item(user=request.user, target=target, item_id=item_id)
    if item is None:
        raise Http404("No such item.")
    if target == Target.POST:
        fallback = reverse("post", args=[item.pk])
    elif target == Target.POST_COMMENT:
        fallback = f"{reverse('post', args=[item.post_id])}#comment-{item.pk}"
    else:
        fallback = reverse("shared_draft", args=[item.creation_id])
    back = _safe_next(request, fallback)
    context = {
        "target": target,
        "noun": "post" if target == Target.POST else "comment",
        "item": item,
        "categories": Report.Category.choices,
        "note_max": NOTE_MAX,
        "back": back,
        "chosen": request.POST.get("category", ""),
        "note": request.POST.get("note", ""),
    }
    if request.method == "POST":
        try:
            services.report_file(
                reporter=request.user,
                target=target,
                item_id=item_id,
                category=request.POST.get("category"),
                note=request.POST.get("note"),
            )
        except ModerationRefused as refusal:
            context["error"] = refusal.message
            return render(
                request, "moderation/report_page.html", context, status=status_of(refusal.code)
            )
        messages.success(request, "Thank you. Our moderators will look at your report.")
        return redirect(back)
    return render(request, "moderation/report_page.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def decision_page(request: HttpRequest, action_id) -> HttpResponse:
    """A decision about you: what, why, and your appeal (the form, or where it stands)."""
    decision = selectors.decision_for_subject(user=request.user, action_id=action_id)
    if decision is None:
        raise Http404("No such decision.")
    context = {
        "decision": decision,
        "action": decision.action,
        "appeal_max": APPEAL_MAX,
        "can_appeal": decision.action.may_be_appealed_at(timezone.now()),
    }
    if request.method == "POST":
        try:
            services.appeal_file(
                user=request.user, action_id=action_id, text=request.POST.get("text")
            )
        except ModerationRefused as refusal:
            context.update(error=refusal.message, text=request.POST.get("text", ""))
            return render(
                request, "moderation/decision.html", context, status=status_of(refusal.code)
            )
        messages.success(request, "Your appeal is sent. Another moderator will decide it.")
        return redirect("moderation_decision", action_id=action_id)
    return render(request, "moderation/decision.html", context)


@never_cache
@require_GET
@login_required
def my_reports(request: HttpRequest) -> HttpResponse:
    """The reports you filed and what came of them."""
    reports = list(selectors.reports_filed_by(request.user).order_by("-created_at")[:100])
    decided = selectors.reports_by_id(str(r.pk) for r in reports)
    for report in reports:
        report.decision = decided[str(report.pk)].decision
    return render(request, "moderation/my_reports.html", {"reports": reports})
