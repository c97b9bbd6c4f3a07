import uuid

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from phoenix.admin import ViewOnlyAdminMixin

from .models import LedgerEntry, TokenAccount
from .services import (
    AdjustmentTooLarge,
    AlreadyApplied,
    BalanceWouldGoNegative,
    SelfAdjustment,
    account_adjust,
)

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


@admin.register(TokenAccount)
class TokenAccountAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Balances move only through tokens.services: the Adjust balance form below."""

    list_display = ("user", "balance", "updated_at")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    readonly_fields = ("user", "balance", "created_at", "updated_at", "full_ledger")
    inlines = [LedgerEntryInline]

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
                entry = account_adjust(
                    user=account.user,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    staff=request.user,
                    request_key=form.cleaned_data["request_key"] or None,
                )
            except (BalanceWouldGoNegative, AdjustmentTooLarge) as error:
                form.add_error("amount", str(error))
            except SelfAdjustment as error:
                form.add_error(None, str(error))
            except AlreadyApplied as applied:
                self.message_user(
                    request,
                    f"This adjustment was already applied ({applied.entry.amount:+d}); "
                    "the form was sent twice, nothing changed the second time.",
                    messages.WARNING,
                )
                return redirect("admin:tokens_tokenaccount_change", account.pk)
            else:
                self.log_change(
                    request, account, f"Adjusted balance by {entry.amount:+d}: {entry.reason}"
                )
                self.message_user(
                    request,
                    f"Adjusted {account.user} by {entry.amount:+d}; "
                    f"the balance is now {entry.balance_after}.",
                    messages.SUCCESS,
                )
                return redirect("admin:tokens_tokenaccount_change", account.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust the balance of {account.user}",
            "opts": self.opts,
            "original": account,
            "form": form,
        }
        return TemplateResponse(request, "admin/tokens/tokenaccount/adjust_balance.html", context)


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
