from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from phoenix.admin import ViewOnlyAdminMixin
from tokens.models import LedgerEntry
from tokens.selectors import creation_is_refunded, refund_exists

from . import services
from .models import Creation, InvalidTransition, ProviderSubmission
from .presenters import media_url

REFUND_PERMISSION = "tokens.refund_creation"
TAKE_DOWN_PERMISSION = "creations.take_down_creation"


class RefundedFilter(admin.SimpleListFilter):
    title = "refunded"
    parameter_name = "refunded"

    def lookups(self, request, model_admin):
        return [("yes", "Refunded"), ("no", "Not refunded")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(refunded=True)
        if self.value() == "no":
            return queryset.filter(refunded=False)
        return queryset


class TrashFilter(admin.SimpleListFilter):
    """Trash is not a status: a trashed creation keeps its status, so the status filter
    alone would list a trashed post among the published ones."""

    title = "trash"
    parameter_name = "trash"

    def lookups(self, request, model_admin):
        return [("no", "Not trashed"), ("trashed", "In the trash"), ("purged", "Purged")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.not_trashed()
        if self.value() == "trashed":
            return queryset.in_trash()
        if self.value() == "purged":
            return queryset.filter(purged_at__isnull=False)
        return queryset


class TakeDownForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown to the creator on their post, and recorded with your name.",
    )


class RefundReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=(
            "Recorded in the ledger with your name, and shown to the creator on their token "
            "history as “refunded by Phoenix staff: …” (your name is not)."
        ),
        error_messages={"required": "A refund needs a reason: nothing was refunded."},
    )


@admin.register(Creation)
class CreationAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Creations change only through their services (the actions below); deleting here
    would skip the service (files, state checks), and creators delete their own."""

    list_display = (
        "short_id",
        "owner_link",
        "kind",
        "status",
        "trash",
        "cost",
        "refunded",
        "age",
        "processing_time",
    )
    list_filter = (
        "status",
        TrashFilter,
        "kind",
        ("created_at", admin.DateFieldListFilter),
        RefundedFilter,
    )
    search_fields = ("owner__username", "prompt")
    list_select_related = ("owner",)
    actions = ["fail_and_refund", "refund", "take_down"]
    readonly_fields = [
        "owner_link",
        "account_link",
        "refunded",
        "processing_time",
        "deadline",
        "ledger_rows",
        "media_name",
        "poster_name",
        "taken_down_by_link",
        *[
            f.name
            for f in Creation._meta.fields
            if f.name not in ("owner", "media", "poster", "taken_down_by", "source_image")
        ],
    ]
    fieldsets = [
        (None, {"fields": ["id", "owner_link", "account_link", "kind", "status", "prompt"]}),
        ("Money", {"fields": ["cost", "refunded", "ledger_rows", "idempotency_key"]}),
        (
            "Result",
            {
                "fields": [
                    "media_name",
                    "poster_name",
                    "width",
                    "height",
                    "duration_seconds",
                    "aspect_ratio",
                    "orientation",
                    "caption",
                    "progress",
                    "attempts",
                    "error_code",
                    "error_message",
                    "provider_task_id",
                ]
            },
        ),
        # Issue 21: its seed, its batch and what it was run again from (the input still is
        # a private file: its name only, as media_name shows the media's).
        ("Seed and lineage", {"fields": ["seed", "batch_id", "batch_index", "parent"]}),
        (
            "Take-down",
            {"fields": ["takedown_reason", "taken_down_by_link", "taken_down_at"]},
        ),
        (
            "Timeline",
            {
                "fields": [
                    "created_at",
                    "requeued_at",
                    "processing_at",
                    "draft_at",
                    "canceled_at",
                    "failed_at",
                    "publish_at",
                    "published_at",
                    "redrafted_at",
                    "trashed_at",
                    "purged_at",
                    "processing_time",
                    "deadline",
                ]
            },
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is not None and obj.taken_down_at is None:
            return [fieldset for fieldset in self.fieldsets if fieldset[0] != "Take-down"]
        return self.fieldsets

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(refunded=refund_exists())

    def has_refund_permission(self, request) -> bool:
        return request.user.has_perm(REFUND_PERMISSION)

    def has_take_down_permission(self, request) -> bool:
        return request.user.has_perm(TAKE_DOWN_PERMISSION)

    @admin.display(description="creation", ordering="created_at")
    def short_id(self, obj: Creation) -> str:
        return f"{str(obj.id)[:8]} · {obj.prompt[:40]}"

    @admin.display(description="owner", ordering="owner__username")
    def owner_link(self, obj: Creation):
        url = reverse("admin:auth_user_change", args=[obj.owner_id])
        return format_html('<a href="{}">{}</a>', url, obj.owner.get_username())

    @admin.display(description="taken down by")
    def taken_down_by_link(self, obj: Creation):
        if obj.taken_down_by_id is None:
            return None
        url = reverse("admin:auth_user_change", args=[obj.taken_down_by_id])
        return format_html('<a href="{}">{}</a>', url, obj.taken_down_by.get_username())

    @admin.display(description="trash", ordering="trashed_at")
    def trash(self, obj: Creation) -> str:
        if obj.is_purged:
            return f"purged {obj.purged_at:%Y-%m-%d}"
        if obj.is_trashed:
            return f"in the trash since {obj.trashed_at:%Y-%m-%d %H:%M}"
        return ""

    @admin.display(description="token account")
    def account_link(self, obj: Creation):
        account_id = getattr(getattr(obj.owner, "token_account", None), "pk", None)
        if account_id is None:
            return None
        url = reverse("admin:tokens_tokenaccount_change", args=[account_id])
        return format_html('<a href="{}">{}</a>', url, obj.owner.token_account)

    @admin.display(boolean=True, ordering="refunded")
    def refunded(self, obj: Creation) -> bool:
        if hasattr(obj, "refunded"):
            return obj.refunded
        return creation_is_refunded(obj)

    @admin.display(description="age", ordering="created_at")
    def age(self, obj: Creation) -> str:
        return timesince(obj.created_at, timezone.now())

    @admin.display(description="processing time")
    def processing_time(self, obj: Creation) -> str | None:
        seconds = obj.processing_seconds
        return None if seconds is None else f"{seconds:.1f} s"

    # Stored names only: storage URLs bypass the access-checked media view.
    @admin.display(description="media")
    def media_name(self, obj: Creation) -> str | None:
        return obj.media.name or None

    @admin.display(description="poster")
    def poster_name(self, obj: Creation) -> str | None:
        return obj.poster.name or None

    @admin.display(description="ledger rows")
    def ledger_rows(self, obj: Creation):
        entries = (
            LedgerEntry.objects.filter(creation_id=obj.pk)
            .select_related("staff")
            .order_by("created_at", "id")
        )
        if not entries:
            return None
        return format_html(
            "{}",
            format_html_join(
                mark_safe("<br>"),  # noqa: S308  # nosec B308 # a constant, no input in it
                '<a href="{}">{} {}</a> at {}{}',
                (
                    (
                        reverse("admin:tokens_ledgerentry_change", args=[e.pk]),
                        e.get_kind_display(),
                        f"{e.amount:+d}",
                        f"{e.created_at:%Y-%m-%d %H:%M:%S}",
                        # Who refunded by hand, and why (automatic rows have no staff).
                        f" by {e.staff.get_username()}: {e.reason}" if e.staff_id else "",
                    )
                    for e in entries
                ),
            ),
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["media_preview"] = {
                "allowed": obj.media_visible_to(request.user),
                "is_video": obj.kind == Creation.Kind.VIDEO,
                "media_url": media_url(obj, "media"),
                "poster_url": media_url(obj, "poster"),
            }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _refuse(self, request, refused: list[Creation], why: str) -> None:
        if refused:
            self.message_user(
                request,
                f"Refused for {len(refused)} creation(s) {why}: "
                + ", ".join(f"{str(c.id)[:8]} ({c.status})" for c in refused),
                messages.ERROR,
            )

    def _refund_reason_page(self, request, form, creations, *, action: str, title: str):
        """The intermediate page of both refund actions: what each selected creation will
        get, and the reason, which the refund row records with the staff member's name."""
        outcomes = [(creation, refund_outcome(action, creation)) for creation in creations]
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "form": form,
            "action": action,
            "outcomes": outcomes,
            "doable": sum(1 for _, (will, _) in outcomes if will),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        # A reason left out is a bad request: the page again, with the message.
        status = 400 if form.is_bound else 200
        return TemplateResponse(
            request, "admin/creations/creation/refund_reason.html", context, status=status
        )

    @admin.action(description="Fail and refund (pending or processing)", permissions=["refund"])
    def fail_and_refund(self, request, queryset):
        creations = list(queryset.select_related("owner"))
        form = RefundReasonForm(request.POST if "post" in request.POST else None)
        if not form.is_valid():
            return self._refund_reason_page(
                request, form, creations, action="fail_and_refund", title="Fail and refund"
            )
        reason = form.cleaned_data["reason"]
        failed, made_sure, refused = 0, 0, []
        for creation in creations:
            if creation.can_become(Creation.Status.FAILED):
                # The one idempotent refund path: two staff members (or staff and the
                # recovery pass) racing here still refund once.
                if services.creation_fail_by_staff(
                    creation=creation, staff=request.user, reason=reason
                ):
                    self.log_change(request, creation, f"Failed and refunded by staff: {reason}")
                    failed += 1
                elif creation.status == Creation.Status.FAILED:
                    made_sure += 1  # failed meanwhile by someone else, its refund ensured
                else:
                    refused.append(creation)  # finished or canceled meanwhile
            elif creation.status == Creation.Status.FAILED:
                services.creation_refund_failed(
                    creation=creation, staff=request.user, reason=reason
                )
                made_sure += 1
            else:
                # Finished, or canceled (refunded when it was canceled).
                refused.append(creation)
        if failed:
            self.message_user(request, f"Failed and refunded {failed} creation(s).")
        if made_sure:
            self.message_user(
                request, f"{made_sure} creation(s) had already failed; their refund is ensured."
            )
        self._refuse(request, refused, "that are not pending or processing")

    @admin.action(description="Refund (failed but not refunded)", permissions=["refund"])
    def refund(self, request, queryset):
        creations = list(queryset.select_related("owner"))
        form = RefundReasonForm(request.POST if "post" in request.POST else None)
        if not form.is_valid():
            return self._refund_reason_page(
                request, form, creations, action="refund", title="Refund failed creations"
            )
        reason = form.cleaned_data["reason"]
        refunded, already, refused = 0, 0, []
        for creation in creations:
            # The service says which creations it refunds: failed ones only. A canceled one
            # was refunded when it was canceled; a stuck one is for Fail and refund.
            try:
                changed = services.creation_refund_failed(
                    creation=creation, staff=request.user, reason=reason
                )
            except InvalidTransition:
                refused.append(creation)
                continue
            if changed:
                self.log_change(request, creation, f"Refunded by staff: {reason}")
                refunded += 1
            else:
                already += 1
        if refunded:
            self.message_user(request, f"Refunded {refunded} failed creation(s).")
        if already:
            self.message_user(
                request, f"{already} creation(s) were already refunded; nothing changed."
            )
        self._refuse(
            request,
            refused,
            "that are not failed creations (use Fail and refund for stuck ones)",
        )

    @admin.action(description="Take down (published posts)", permissions=["take_down"])
    def take_down(self, request, queryset):
        """Asks for the reason on a page of its own (Django's intermediate action page),
        then takes each selected post down through the service and reports each."""
        creations = list(queryset.select_related("owner"))
        form = TakeDownForm(request.POST if "post" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            taken, refused = [], {}
            for creation in creations:
                try:
                    services.creation_take_down(
                        creation=creation, staff=request.user, reason=reason
                    )
                except services.ActionRefused as refusal:
                    refused.setdefault(refusal.code, []).append(creation)
                    continue
                self.log_change(request, creation, f"Taken down: {creation.takedown_reason}")
                taken.append(creation)
            if taken:
                self.message_user(
                    request,
                    f"Took down {len(taken)} post(s): " + ", ".join(str(c.id)[:8] for c in taken),
                    messages.SUCCESS,
                )
            for code, creations_refused in refused.items():
                self._refuse(request, creations_refused, TAKE_DOWN_REFUSALS.get(code, code))
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Take down posts",
            "opts": self.opts,
            "form": form,
            "creations": creations,
            "takeable": [c for c in creations if c.can_take_down],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/creations/creation/take_down.html", context)


def refund_outcome(action: str, creation: Creation) -> tuple[bool, str]:
    """What a refund action will do to the creation, as the page before it says: (whether
    it will move tokens, the words). The action itself asks the services again, under lock."""
    refunded = getattr(creation, "refunded", None)
    if refunded is None:
        refunded = creation_is_refunded(creation)
    cost = f"{creation.cost} token{'s' if creation.cost != 1 else ''}"
    if action == "fail_and_refund" and creation.can_become(Creation.Status.FAILED):
        return True, f"will be failed and {cost} refunded"
    if creation.status == Creation.Status.FAILED:
        if refunded:
            return False, "already refunded: nothing will change"
        return True, f"will be refunded {cost}"
    if action == "fail_and_refund":
        return False, f"will be refused: not pending or processing ({creation.status})"
    return False, f"will be refused: not a failed creation ({creation.status})"


TAKE_DOWN_REFUSALS = {
    "not_published_post": "that are not published or scheduled posts",
    "not_found": "that no longer exist",
}


@admin.register(ProviderSubmission)
class ProviderSubmissionAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Every task sent to a remote provider (Runway): "possibly submitted" ones may run and
    bill at the provider under an id we never learnt (look them up there by time), and
    cancels not yet acknowledged are retried with back-off."""

    list_display = (
        "started_at",
        "state",
        "creation",
        "task_id",
        "cancel_requested_at",
        "cancel_acknowledged_at",
        "cancel_attempts",
    )
    list_filter = ("state", ("cancel_acknowledged_at", admin.EmptyFieldListFilter))
    search_fields = ("task_id", "key", "creation__id")
    date_hierarchy = "started_at"
    list_select_related = ("creation",)
