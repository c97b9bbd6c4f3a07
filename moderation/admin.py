"""The action log in the admin, read-only: who decided what, when and why."""

from django.contrib import admin

from .models import Action, Appeal
from .selectors import is_moderator


class ReadOnly(admin.ModelAdmin):
    """Moderators read the log (the queue links to it); nobody edits it here."""

    def has_module_permission(self, request) -> bool:
        return is_moderator(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_moderator(request.user) or super().has_view_permission(request, obj)

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
