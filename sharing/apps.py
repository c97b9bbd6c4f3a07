from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = "Sharing"

    def ready(self) -> None:
        from creations.events import creation_event

        from . import services

        # A draft that leaves the drafts (trashed, purged, published, scheduled, taken down)
        # stops being shared, once that change is committed.
        creation_event.connect(services.on_creation_event, dispatch_uid="sharing.end_shares")
