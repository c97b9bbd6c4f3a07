from django.urls import path

from . import views

urlpatterns = [
    path("settings/webhooks", views.webhook_settings, name="webhook_settings"),
    path(
        "settings/webhooks/<uuid:endpoint_id>/delete", views.webhook_delete, name="webhook_delete"
    ),
    path(
        "settings/webhooks/<uuid:endpoint_id>/rotate", views.webhook_rotate, name="webhook_rotate"
    ),
    path(
        "settings/webhooks/<uuid:endpoint_id>/enable", views.webhook_enable, name="webhook_enable"
    ),
    path(
        "settings/webhooks/deliveries/<uuid:delivery_id>/resend",
        views.webhook_resend,
        name="webhook_resend",
    ),
]
