from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        from creations.events import card_news_seen, creation_event
        from sharing.signals import comment_posted, draft_shared
        from tokens.signals import tokens_given

        from . import services

        creation_event.connect(services.on_creation_event, dispatch_uid="notifications")
        card_news_seen.connect(services.on_card_news_seen, dispatch_uid="notifications")
        draft_shared.connect(services.on_draft_shared, dispatch_uid="notifications")
        comment_posted.connect(services.on_comment_posted, dispatch_uid="notifications")
        tokens_given.connect(services.on_tokens_given, dispatch_uid="notifications")
