"""django-rq's dashboard empties queues, deletes and requeues jobs: it needs its own
permission (django-rq's `django_rq.admin`, "Access admin page"), not just `is_staff`.

Registered over django-rq's own admin class from OpsConfig.ready() (the admin's autodiscover
has run by then: django.contrib.admin comes first in INSTALLED_APPS)."""

from functools import wraps

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django_rq import settings as django_rq_settings
from django_rq.admin import QueueAdmin
from django_rq.models import Dashboard

from phoenix.bearer import bearer_matches

PERMISSION = "django_rq.admin"


def _has_api_token(request) -> bool:
    """The dashboard's JSON and metrics views also take RQ_API_TOKEN as a bearer token."""
    return bearer_matches(request, django_rq_settings.get_api_token() or "")


def _permission_required(view):
    @wraps(view)
    def guarded(request, *args, **kwargs):
        user = request.user
        # Anonymous visitors get what django-rq gives them (the log-in page, or 401).
        if user.is_authenticated and not user.has_perm(PERMISSION):
            if not _has_api_token(request):
                raise PermissionDenied("The queue dashboard needs its own permission.")
        return view(request, *args, **kwargs)

    return guarded


class GuardedQueueAdmin(QueueAdmin):
    def has_module_permission(self, request) -> bool:
        return request.user.has_perm(PERMISSION)

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(PERMISSION)

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(PERMISSION)

    def get_urls(self):
        urls = super().get_urls()
        for pattern in urls:
            pattern.callback = _permission_required(pattern.callback)
        return urls


def protect_rq_dashboard() -> None:
    if admin.site.is_registered(Dashboard):
        admin.site.unregister(Dashboard)
    admin.site.register(Dashboard, GuardedQueueAdmin)
