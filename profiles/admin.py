from functools import wraps

from django.contrib import admin

from . import throttle
from .forms import AdminLoginForm
from .models import EmailDomainRule, PendingWelcome

# Staff accounts can move tokens: their log-in is throttled like everybody's, and the
# browser they log in with is remembered as everybody's is, so a stranger's guessing
# cannot lock them out of it either.
admin.site.login_form = AdminLoginForm
_admin_login = admin.site.login


@wraps(_admin_login)
def login_remembering_the_browser(request, extra_context=None):
    response = _admin_login(request, extra_context)
    if request.method == "POST" and response.status_code == 302 and request.user.is_authenticated:
        throttle.remember_device(request, response, request.user)
    return response


# AdminSite.get_urls() routes login/ to self.login: this instance's wins over the class's.
admin.site.login = login_remembering_the_browser


@admin.register(EmailDomainRule)
class EmailDomainRuleAdmin(admin.ModelAdmin):
    list_display = ("domain", "blocked", "note", "updated_at")
    list_filter = ("blocked",)
    search_fields = ("domain",)

    def save_model(self, request, obj, form, change):
        obj.domain = obj.domain.strip().strip(".").lower()
        super().save_model(request, obj, form, change)


@admin.register(PendingWelcome)
class PendingWelcomeAdmin(admin.ModelAdmin):
    """Creators whose welcome grant waits for room under the daily cap (read only: the
    hourly catch-up grants them)."""

    list_display = ("user", "created_at")
    ordering = ("created_at",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
