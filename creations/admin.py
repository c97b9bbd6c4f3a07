from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from phoenix.admin import ViewOnlyAdminMixin
from tokens.models import LedgerEntry

from . import services
from .models import Creation
from .presenters import media_url

REFUND_PERMISSION = "tokens.refund_creation"


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


@admin.register(Creation)
class CreationAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Creations change only through their services (the actions below); deleting here
    would skip the service (files, state checks), and creators delete their own."""

    list_display = (
        "short_id",
        "owner_link",
        "kind",
        "status",
        "cost",
        "refunded",
        "age",
        "processing_time",
    )
    list_filter = ("status", "kind", ("created_at", admin.DateFieldListFilter), RefundedFilter)
    search_fields = ("owner__username", "prompt")
    list_select_related = ("owner",)
    actions = ["fail_and_refund", "refund"]
    readonly_fields = [
        "owner_link",
        "account_link",
        "refunded",
        "processing_time",
        "deadline",
        "ledger_rows",
        "media_name",
        "poster_name",
        *[f.name for f in Creation._meta.fields if f.name not in ("owner", "media", "poster")],
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
                ]
            },
        ),
        (
            "Timeline",
            {
                "fields": [
                    "created_at",
                    "requeued_at",
                    "processing_at",
                    "draft_at",
                    "published_at",
                    "failed_at",
                    "processing_time",
                    "deadline",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        refunds = LedgerEntry.objects.filter(creation_id=OuterRef("pk"), kind="refund")
        return super().get_queryset(request).annotate(refunded=Exists(refunds))

    def has_refund_permission(self, request) -> bool:
        return request.user.has_perm(REFUND_PERMISSION)

    @admin.display(description="creation", ordering="created_at")
    def short_id(self, obj: Creation) -> str:
        return f"{str(obj.id)[:8]} · {obj.prompt[:40]}"

    @admin.display(description="owner", ordering="owner__username")
    def owner_link(self, obj: Creation):
        url = reverse("admin:auth_user_change", args=[obj.owner_id])
        return format_html('<a href="{}">{}</a>', url, obj.owner.get_username())

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
        return services.creation_is_refunded(obj)

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
        entries = LedgerEntry.objects.filter(creation_id=obj.pk).order_by("created_at", "id")
        if not entries:
            return None
        return format_html(
            "{}",
            format_html_join(
                mark_safe("<br>"),  # noqa: S308 (a constant)
                '<a href="{}">{} {}</a> at {}',
                (
                    (
                        reverse("admin:tokens_ledgerentry_change", args=[e.pk]),
                        e.get_kind_display(),
                        f"{e.amount:+d}",
                        f"{e.created_at:%Y-%m-%d %H:%M:%S}",
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

    @admin.action(description="Fail and refund (pending or processing)", permissions=["refund"])
    def fail_and_refund(self, request, queryset):
        failed, made_sure, refused = 0, 0, []
        for creation in queryset.select_related("owner"):
            if creation.is_in_flight:
                # The one idempotent refund path: two staff members (or staff and the
                # recovery pass) racing here still refund once.
                if services.creation_fail(creation=creation, code="staff_refund"):
                    self.log_change(request, creation, "Failed and refunded by staff")
                    failed += 1
                elif creation.status in Creation.FINISHED:
                    refused.append(creation)  # it finished meanwhile: nothing to refund
                else:
                    made_sure += 1
            elif creation.status == Creation.Status.FAILED:
                services.creation_refund_failed(creation=creation)
                made_sure += 1
            else:
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
        refunded, already, refused = 0, 0, []
        for creation in queryset.select_related("owner"):
            if creation.status != Creation.Status.FAILED:
                refused.append(creation)
                continue
            if services.creation_is_refunded(creation):
                already += 1
                continue
            if services.creation_refund_failed(creation=creation):
                self.log_change(request, creation, "Refunded by staff")
                refunded += 1
            else:
                already += 1
        if refunded:
            self.message_user(request, f"Refunded {refunded} failed creation(s).")
        if already:
            self.message_user(
                request, f"{already} creation(s) were already refunded; nothing changed."
            )
        self._refuse(request, refused, "that have not failed (use Fail and refund for stuck ones)")
