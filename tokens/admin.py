from django.contrib import admin

from .models import LedgerEntry, TokenAccount


class LedgerEntryInline(admin.TabularInline):
    model = LedgerEntry
    fields = ("created_at", "kind", "amount", "balance_after", "creation", "reason", "staff")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TokenAccount)
class TokenAccountAdmin(admin.ModelAdmin):
    list_display = ("user", "balance", "updated_at")
    search_fields = ("user__username",)
    readonly_fields = ("user", "balance", "created_at", "updated_at")
    inlines = [LedgerEntryInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "account",
        "kind",
        "amount",
        "balance_after",
        "creation_id",
        "reason",
    )
    list_filter = ("kind",)
    search_fields = ("account__user__username", "reason")
    readonly_fields = [f.name for f in LedgerEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
