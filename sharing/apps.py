from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = "Sharing"

    def ready(self) -> None:
        from creations.events import creation_event

        from . import services

        # A backstop: the creations services end the shares in the change's own transaction
        # (trashed, purged, published, scheduled, taken down); this finds none left.
        creation_event.connect(services.on_creation_event, dispatch_uid="sharing.end_shares")
