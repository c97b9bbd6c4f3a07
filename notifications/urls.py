from django.urls import path

from . import views

# The JSON API (api/notifications…) is declared on api.router, mounted in phoenix/urls.py.
urlpatterns = [
    path("notifications", views.notifications, name="notifications"),
    # notifications/bell is at the top of phoenix/urls.py (a poll: first patterns first).
    path("notifications/read", views.notifications_read_all, name="notifications_read_all"),
    path("notifications/settings", views.notifications_settings, name="notifications_settings"),
    path(
        "notifications/<uuid:notification_id>/open",
        views.notification_open,
        name="notification_open",
    ),
]
