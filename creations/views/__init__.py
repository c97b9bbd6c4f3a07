"""The creations' HTML views: pages (Create, media), cards (a card and the drafts poll),
actions (the owner's actions on a card or a post), common (what they share). The bulk
actions of the profile's tabs are profiles.bulk's; the feed and a post's page are
community's."""

from .actions import (
    creation_cancel,
    creation_caption,
    creation_delete,
    creation_keep,
    creation_prompt_visibility,
    creation_publish,
    creation_purge,
    creation_rerun,
    creation_restore,
    creation_unkeep,
    creation_unpublish,
    creation_unschedule,
)
from .cards import (
    creation_card,
    drafts_poll,
)
from .pages import (
    create_page,
    creation_media,
    submit_from_form,
)

__all__ = [
    "creation_media",
    "submit_from_form",
    "create_page",
    "creation_card",
    "drafts_poll",
    "creation_publish",
    "creation_prompt_visibility",
    "creation_unschedule",
    "creation_cancel",
    "creation_delete",
    "creation_restore",
    "creation_purge",
    "creation_rerun",
    "creation_keep",
    "creation_unkeep",
    "creation_caption",
    "creation_unpublish",
]
