from functools import wraps

from django.contrib import admin
from django.contrib.auth import BACKEND_SESSION_KEY

from . import twofactor
from .models import DataExport, DeletedAccount
from .views import second_step

# The admin's own log-in form signs in at once: with two-factor sign-in on, that sign-in is
# undone and the code step asked for, as on the site's log-in.
_admin_login = admin.site.login


@wraps(_admin_login)
def login_then_code(request, extra_context=None):
    response = _admin_login(request, extra_context)
    user = request.user
    if (
        request.method == "POST"
        and response.status_code == 302
        and user.is_authenticated
        and twofactor.is_enabled(user)
    ):
        backend = request.session.get(BACKEND_SESSION_KEY, "")
        return second_step(request, user, response["Location"], backend)
    return response


admin.site.login = login_then_code


@admin.register(DeletedAccount)
class DeletedAccountAdmin(admin.ModelAdmin):
    list_display = ("user", "deleted_at", "forfeited", "purged_at")
    readonly_fields = ("user", "deleted_at", "forfeited", "purged_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DataExport)
class DataExportAdmin(admin.ModelAdmin):
    list_display = ("pk", "user", "status", "created_at", "expires_at")
    readonly_fields = ("user", "status", "file", "size", "created_at", "ready_at", "expires_at")

    def has_add_permission(self, request):
        return False
