from django.contrib import admin

from .models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "owner", "events", "created_at", "disabled_at", "disabled_reason")
    list_filter = ("disabled_reason",)
    search_fields = ("url", "owner__username")
    # The secrets sign deliveries: never shown here.
    exclude = ("secret", "previous_secret")
    readonly_fields = ("owner", "previous_secret_expires_at", "failing_since", "last_success_at")

    def has_add_permission(self, request) -> bool:
        # Made by their owners only (the URL checked, a secret made and shown to them).
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event_type", "webhook_id", "endpoint", "state", "attempts", "status_code")
    list_filter = ("state", "event_type")
    search_fields = ("webhook_id",)
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
