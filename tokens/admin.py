import datetime
import uuid

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from phoenix.admin import ViewOnlyAdminMixin

from . import payments
from .adjustments import (
    Asked,
    NotPending,
    SelfApproval,
    adjustment_approve,
    adjustment_ask,
    adjustment_reject,
)
from .models import AdjustmentRequest, CreditLot, LedgerEntry, Purchase, TokenAccount, TokenPack
from .services import AdjustmentTooLarge, BalanceWouldGoNegative, SelfAdjustment

ADJUST_PERMISSION = "tokens.adjust_balance"


def creation_link(entry: LedgerEntry):
    # Only the id: the ledger outlives deleted creations, and following the relation of
    # a deleted one would raise.
    if entry.creation_id is None:
        return None
    url = reverse("admin:creations_creation_change", args=[entry.creation_id])
    return format_html('<a href="{}">{}</a>', url, str(entry.creation_id)[:8])


class LedgerEntryInline(ViewOnlyAdminMixin, admin.TabularInline):
    model = LedgerEntry
    fields = ("created_at", "kind", "amount", "balance_after", "creation_ref", "reason", "staff")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("staff")

    @admin.display(description="creation")
    def creation_ref(self, obj: LedgerEntry):
        return creation_link(obj)


class AdjustBalanceForm(forms.Form):
    amount = forms.IntegerField(
        help_text="Signed: negative takes tokens away. The balance can never go below zero."
    )
    reason = forms.CharField(
        max_length=255,
        help_text=(
            "Shown to the creator on their token history as “By Phoenix staff: …” (your name "
            "is not), and recorded in the ledger with your name."
        ),
    )
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        help_text="For tokens added: a promo lot that expires this many days from now. "
        "Empty: they never expire.",
    )
    # New with every render: sending this form twice adjusts once.
    request_key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("An adjustment must change the balance.")
        bound = settings.PHOENIX_MAX_ADJUSTMENT
        if abs(amount) > bound:
            # Before the service (which says the same): a number past the database's own
            # range never reaches a query.
            raise forms.ValidationError(
                f"An adjustment is at most {bound:,} tokens either way ({amount:+,d} asked). "
                "Make larger corrections in several steps, each with its reason."
            )
        return amount

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("An adjustment needs a reason.")
        return reason


class CreditLotInline(ViewOnlyAdminMixin, admin.TabularInline):
    model = CreditLot
    fk_name = "account"
    fields = ("created_at", "category", "granted", "remaining", "frozen", "expires_at", "purchase")
    readonly_fields = fields
    ordering = ("-created_at",)
    extra = 0
    can_delete = False


@admin.register(TokenAccount)
class TokenAccountAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Balances move only through tokens.services: the Adjust balance form below."""

    list_display = ("user", "balance", "debt", "updated_at")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    readonly_fields = ("user", "balance", "debt", "created_at", "updated_at", "full_ledger")
    inlines = [CreditLotInline, LedgerEntryInline]

    def has_adjust_permission(self, request) -> bool:
        return request.user.has_perm(ADJUST_PERMISSION)

    @admin.display(description="ledger")
    def full_ledger(self, obj: TokenAccount):
        url = reverse("admin:tokens_ledgerentry_changelist") + f"?account__id__exact={obj.pk}"
        return format_html('<a href="{}">All {} ledger rows</a>', url, obj.entries.count())

    def get_urls(self):
        return [
            path(
                "<path:object_id>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="tokens_tokenaccount_adjust",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            own = TokenAccount.objects.filter(pk=object_id, user_id=request.user.pk).exists()
        except (ValueError, ValidationError):
            own = False  # not an id at all: Django's view answers as for a missing account
        can_adjust = self.has_adjust_permission(request) and not own
        extra_context = {**(extra_context or {}), "can_adjust": can_adjust}
        return super().change_view(request, object_id, form_url, extra_context)

    def adjust_view(self, request, object_id):
        if not self.has_adjust_permission(request):
            raise PermissionDenied
        try:
            account = get_object_or_404(TokenAccount.objects.select_related("user"), pk=object_id)
        except (ValueError, ValidationError):
            raise Http404("No such token account.") from None
        form = AdjustBalanceForm(request.POST or None, initial={"request_key": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            try:
                days = form.cleaned_data.get("expires_in_days")
                asked = adjustment_ask(
                    account=account,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    staff=request.user,
                    request_key=form.cleaned_data["request_key"] or None,
                    expires_at=timezone.now() + datetime.timedelta(days=days) if days else None,
                )
            except (BalanceWouldGoNegative, AdjustmentTooLarge) as error:
                form.add_error("amount", str(error))
            except SelfAdjustment as error:
                form.add_error(None, str(error))
            else:
                self._tell_asked(request, account, asked)
                return redirect("admin:tokens_tokenaccount_change", account.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust the balance of {account.user}",
            "opts": self.opts,
            "original": account,
            "form": form,
        }
        context["approval_above"] = settings.PHOENIX_ADJUSTMENT_APPROVAL_ABOVE
        return TemplateResponse(request, "admin/tokens/tokenaccount/adjust_balance.html", context)

    def _tell_asked(self, request, account: TokenAccount, asked: Asked) -> None:
        adjustment = asked.request
        if asked.replayed:
            done = "applied" if adjustment.entry_id else f"asked for ({adjustment.status})"
            self.message_user(
                request,
                f"This adjustment was already {done} ({adjustment.amount:+d}); "
                "the form was sent twice, nothing changed the second time.",
                messages.WARNING,
            )
        elif adjustment.status == AdjustmentRequest.Status.PENDING:
            self.log_change(
                request, account, f"Asked to adjust by {adjustment.amount:+d}: {adjustment.reason}"
            )
            self.message_user(
                request,
                f"Adjustments over {settings.PHOENIX_ADJUSTMENT_APPROVAL_ABOVE:,} tokens need "
                f"a second staff member: {adjustment.amount:+d} for {account.user} waits for "
                "approval under Adjustments.",
                messages.WARNING,
            )
        else:
            entry = adjustment.entry
            self.log_change(
                request, account, f"Adjusted balance by {entry.amount:+d}: {entry.reason}"
            )
            self.message_user(
                request,
                f"Adjusted {account.user} by {entry.amount:+d}; "
                f"the balance is now {entry.balance_after}.",
                messages.SUCCESS,
            )


@admin.register(AdjustmentRequest)
class AdjustmentRequestAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """The staff audit view of adjustments: every one asked in the admin, who asked, who
    approved or rejected, and the ledger row it made. Waiting ones are approved or
    rejected here by another staff member with the adjust permission."""

    list_display = (
        "requested_at",
        "account",
        "amount",
        "reason",
        "requested_by",
        "status",
        "decided_by",
        "decided_at",
    )
    list_filter = ("status",)
    search_fields = ("account__user__username", "requested_by__username", "reason")
    list_select_related = ("account__user", "requested_by", "decided_by")
    readonly_fields = (
        "account",
        "amount",
        "reason",
        "expires_at",
        "requested_by",
        "requested_at",
        "status",
        "decided_by",
        "decided_at",
        "decision_note",
        "entry",
    )
    exclude = ("request_key",)
    change_form_template = "admin/tokens/adjustmentrequest/change_form.html"

    def has_view_permission(self, request, obj=None) -> bool:
        # Whoever may adjust sees the adjustments waiting for them.
        return super().has_view_permission(request, obj) or request.user.has_perm(ADJUST_PERMISSION)

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def get_urls(self):
        return [
            path(
                "<int:request_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="tokens_adjustmentrequest_decide",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        pending = AdjustmentRequest.objects.filter(
            pk=object_id if str(object_id).isdigit() else None,
            status=AdjustmentRequest.Status.PENDING,
        ).first()
        can_decide = pending is not None and request.user.has_perm(ADJUST_PERMISSION)
        extra_context = {
            **(extra_context or {}),
            "can_decide": can_decide,
            "asked_by_me": pending is not None and pending.requested_by_id == request.user.pk,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request, request_id: int):
        if request.method != "POST" or not request.user.has_perm(ADJUST_PERMISSION):
            raise PermissionDenied
        get_object_or_404(AdjustmentRequest, pk=request_id)
        try:
            if request.POST.get("decision") == "approve":
                adjustment = adjustment_approve(request_id=request_id, staff=request.user)
                self.message_user(
                    request,
                    f"Approved: {adjustment.account.user} adjusted by {adjustment.amount:+d}; "
                    f"the balance is now {adjustment.entry.balance_after}.",
                    messages.SUCCESS,
                )
            else:
                adjustment = adjustment_reject(
                    request_id=request_id,
                    staff=request.user,
                    note=request.POST.get("note", ""),
                )
                self.message_user(
                    request, f"{adjustment.get_status_display().capitalize()}.", messages.SUCCESS
                )
        except (SelfApproval, SelfAdjustment, NotPending, BalanceWouldGoNegative) as error:
            self.message_user(request, str(error), messages.ERROR)
        return redirect("admin:tokens_adjustmentrequest_change", request_id)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: the ledger is append-only for everyone, superusers included (and the
    database refuses UPDATE and DELETE of its rows anyway)."""

    list_display = (
        "created_at",
        "account",
        "kind",
        "amount",
        "balance_after",
        "creation_ref",
        "reason",
        "staff",
    )
    # "staff: not empty" lists what staff did by hand: adjustments, and refunds with the
    # staff member and the reason they gave (automatic refunds have no staff).
    list_filter = (
        "kind",
        ("staff", admin.EmptyFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("account__user", "staff")
    search_fields = ("account__user__username", "reason", "staff__username")
    fields = ["creation_ref" if f.name == "creation" else f.name for f in LedgerEntry._meta.fields]
    readonly_fields = fields

    @admin.display(description="creation")
    def creation_ref(self, obj: LedgerEntry):
        return creation_link(obj)


@admin.register(TokenPack)
class TokenPackAdmin(admin.ModelAdmin):
    """Packs on sale. A purchase keeps its own copy of tokens and price: editing a pack
    never changes what someone already bought."""

    list_display = ("name", "slug", "tokens", "price_label", "active", "ordering")
    list_editable = ("active", "ordering")
    prepopulated_fields = {"slug": ("name",)}

    def has_delete_permission(self, request, obj=None):
        # A pack that was bought stays (PROTECT); deactivate it instead.
        return (
            obj is not None
            and not obj.purchases.exists()
            and super().has_delete_permission(request, obj)
        )


@admin.register(Purchase)
class PurchaseAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Purchases change only through Stripe's events; staff can refund the unspent part."""

    list_display = (
        "created_at",
        "account",
        "pack",
        "amount_label",
        "status",
        "lot_remaining",
        "account_debt",
    )
    list_filter = ("status", "pack")
    list_select_related = ("account__user", "pack", "lot")
    search_fields = ("account__user__username", "checkout_session_id", "payment_intent_id", "id")
    readonly_fields = [f.name for f in Purchase._meta.fields] + ["lot_remaining", "account_debt"]
    actions = ["refund_unspent"]

    @admin.display(description="lot: unspent / frozen")
    def lot_remaining(self, obj: Purchase):
        lot = getattr(obj, "lot", None)
        return f"{lot.remaining} / {lot.frozen}" if lot else "—"

    @admin.display(description="account debt")
    def account_debt(self, obj: Purchase):
        return obj.account.debt

    def has_refund_permission(self, request) -> bool:
        return request.user.has_perm(ADJUST_PERMISSION)

    @admin.action(description="Refund the unspent tokens through Stripe", permissions=["refund"])
    def refund_unspent(self, request, queryset):
        for purchase in queryset.select_related("lot"):
            # A failed one with a payment: paid, but not as asked (never credited).
            unmatched = purchase.status == Purchase.Status.FAILED and purchase.payment_intent_id
            if purchase.status != Purchase.Status.FULFILLED and not unmatched:
                self.message_user(
                    request,
                    f"{purchase}: only a fulfilled purchase (or a payment that did not match "
                    "its purchase) is refunded.",
                    messages.WARNING,
                )
                continue
            try:
                amount = payments.purchase_refund_unspent(purchase=purchase)
            except payments.StripeUnavailable as down:
                self.message_user(request, f"{purchase}: {down}", messages.ERROR)
                continue
            if amount:
                self.log_change(request, purchase, f"Refund of {amount} asked from Stripe")
                self.message_user(
                    request,
                    f"{purchase}: refund of {amount} minor units asked from Stripe; the tokens "
                    "leave when Stripe confirms it.",
                    messages.SUCCESS,
                )
            else:
                self.message_user(request, f"{purchase}: nothing unspent to refund.", messages.INFO)
