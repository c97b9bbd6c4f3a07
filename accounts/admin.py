from functools import wraps

from django.contrib import admin
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth.admin import UserAdmin

from community.membership import member_deactivate, member_reactivate

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


User = get_user_model()


class PhoenixUserAdmin(UserAdmin):
    """Django's user admin, but ticking "active" off (or on) moves the account's likes,
    comments and follows out of (or back into) the public figures in the same transaction
    (the admin's save is one)."""

    def save_model(self, request, obj, form, change):
        if not (change and "is_active" in form.changed_data):
            return super().save_model(request, obj, form, change)
        active = obj.is_active
        obj.is_active = not active  # as it is stored: the flip below moves the figures too
        super().save_model(request, obj, form, change)
        if active:
            member_reactivate(user_id=obj.pk)
        else:
            member_deactivate(user_id=obj.pk)
        obj.is_active = active


admin.site.unregister(User)
admin.site.register(User, PhoenixUserAdmin)
