from django.contrib import admin

from phoenix.admin import ViewOnlyAdminMixin

from .models import Comment, LinkOpening, Share


@admin.register(Share)
class ShareAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["creation", "kind", "recipient", "created_at", "expires_at", "revoked_at"]
    list_filter = ["kind", "revoked_reason"]
    search_fields = ["recipient__username", "creation__owner__username"]
    # The token's hash opens nothing, but there is no reason to show it either.
    exclude = ["token_hash"]
    raw_id_fields = ["creation", "recipient"]


@admin.register(LinkOpening)
class LinkOpeningAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["share", "user", "opened_at"]
    raw_id_fields = ["share", "user"]


@admin.register(Comment)
class CommentAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["creation", "author", "created_at", "deleted_at"]
    search_fields = ["author__username", "text"]
    raw_id_fields = ["creation", "author", "deleted_by"]
