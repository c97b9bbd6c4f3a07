from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self) -> None:
        # Creations and tokens are lower layers: they send their signals after COMMIT and
        # know nothing of webhooks; the listeners are connected here.
        from accounts.signals import account_erasing
        from creations.events import creation_event
        from tokens.signals import balance_low

        from . import events

        creation_event.connect(events.on_creation_event, dispatch_uid="webhooks")
        balance_low.connect(events.on_balance_low, dispatch_uid="webhooks")
        account_erasing.connect(events.on_account_erasing, dispatch_uid="webhooks")
