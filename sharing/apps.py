from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = "Sharing"

    def ready(self) -> None:
        from creations import access
        from creations.events import creation_event, left_the_drafts

        from . import selectors, services

        # The creations services end the shares in the change's own transaction (trashed,
        # purged, published, scheduled, taken down, back to the drafts)...
        left_the_drafts.connect(services.on_left_the_drafts, dispatch_uid="sharing.shares_end")
        # ...and this backstop, after COMMIT, finds none left.
        creation_event.connect(services.on_creation_event, dispatch_uid="sharing.end_shares")
        # The people a draft is shared with may see its media, and those who opened a link
        # to a board it is on.
        access.add_draft_reader(selectors.is_shared_with)
        access.add_draft_reader(selectors.seen_through_board)
