from django.contrib import admin, messages

from phoenix.admin import ViewOnlyAdminMixin

from . import services
from .models import Comment, LinkOpening, Share

# Moderation: whoever may take a post down may also take a shared draft down and remove
# any comment.
MODERATE_PERMISSION = "creations.take_down_creation"


class ModerationActionsMixin:
    def has_moderate_permission(self, request) -> bool:
        return request.user.has_perm(MODERATE_PERMISSION)


@admin.register(Share)
class ShareAdmin(ModerationActionsMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["creation", "kind", "recipient", "created_at", "expires_at", "revoked_at"]
    list_filter = ["kind", "revoked_reason"]
    search_fields = ["recipient__username", "creation__owner__username"]
    # The token's hash opens nothing, but there is no reason to show it either.
    exclude = ["token_hash"]
    raw_id_fields = ["creation", "recipient"]
    actions = ["take_down_drafts"]

    @admin.action(
        description="Take the drafts of the selected shares down (end every share of each)",
        permissions=["moderate"],
    )
    def take_down_drafts(self, request, queryset):
        creations = {
            share.creation_id: share.creation for share in queryset.select_related("creation")
        }
        ended = sum(services.shares_take_down(creation=c) for c in creations.values())
        self.message_user(
            request,
            f"{len(creations)} shared draft(s) taken down: {ended} share(s) ended.",
            messages.SUCCESS,
        )


@admin.register(LinkOpening)
class LinkOpeningAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["share", "user", "opened_at"]
    raw_id_fields = ["share", "user"]


@admin.register(Comment)
class CommentAdmin(ModerationActionsMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["creation", "author", "created_at", "deleted_at"]
    search_fields = ["author__username", "text"]
    raw_id_fields = ["creation", "author", "deleted_by"]
    actions = ["remove_comments"]

    @admin.action(description="Remove the selected comments", permissions=["moderate"])
    def remove_comments(self, request, queryset):
        removed = sum(
            services.comment_remove_by_staff(comment=comment, staff=request.user)
            for comment in queryset
        )
        self.message_user(request, f"{removed} comment(s) removed.", messages.SUCCESS)
