from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = "Community"

    def ready(self) -> None:
        from notifications.presenters import register_comment_source

        from . import selectors

        # The bell quotes a comment on a post only while it may still be read.
        register_comment_source("post_comment", selectors.comments_for_notifications)
