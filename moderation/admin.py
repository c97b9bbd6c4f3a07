"""The action log in the admin, read-only: who decided what, when and why."""

from django.contrib import admin

from .models import Action, Appeal


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Action)
class ActionAdmin(ReadOnly):
    list_display = ["created_at", "kind", "actor", "subject", "target", "reason", "reversed_at"]
    list_filter = ["kind", "target"]
    list_select_related = ["actor", "subject"]
    date_hierarchy = "created_at"


@admin.register(Appeal)
class AppealAdmin(ReadOnly):
    list_display = ["created_at", "action", "status", "decided_by", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["action", "decided_by"]
