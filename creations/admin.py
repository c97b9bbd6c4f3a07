from django.contrib import admin

from .models import Creation


@admin.register(Creation)
class CreationAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "kind", "status", "cost", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("owner__username", "prompt")
    raw_id_fields = ("owner",)
    readonly_fields = [f.name for f in Creation._meta.fields]

    def has_add_permission(self, request):
        return False
