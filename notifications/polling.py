"""The bell's poll (creations.polling): a version per user, bumped whenever a notification
for them is written or read (notifications.services), so that an unchanged bell is
answered 204 without the session, the user or the database."""

import re

from django.conf import settings
from django.urls import reverse

from creations import polling, versions

# A bell polls every PHOENIX_NOTIFICATIONS_POLL_SECONDS; it trusts its version this long.
STALE_AFTER_SECONDS = 600


def bell_check(request) -> polling.OwnerCheck:
    return polling.OwnerCheck.of(
        request, salt=polling.BELL_SALT, subject="bell", key_of=versions.bell_key
    )


def _bell_unchanged(match: re.Match, environ) -> bool:
    check = polling.OwnerCheck.of_query(
        polling.params_of(environ.get("QUERY_STRING", "")),
        salt=polling.BELL_SALT,
        subject="bell",
        key_of=versions.bell_key,
    )
    return polling.early_check(environ, check)


# The bell's poll before Django (phoenix.fast_polls, PHOENIX_FAST_POLLS).
FAST_POLLS = [(re.compile(r"/notifications/bell"), _bell_unchanged)]


def bell_version(user_id) -> int | None:
    (version,) = versions.read(versions.bell_key(user_id))
    return version if version is not None else versions.ensure(versions.bell_key(user_id))


def bell_poll(user_id, version: int | None = None) -> polling.OwnerPoll:
    """The bell's poll URL for a page about to count the unread ones (its version is read
    before the count, unless the caller read it already)."""
    if version is None:
        version = bell_version(user_id)
    return polling.owner_poll(
        reverse("notifications_bell"),
        salt=polling.BELL_SALT,
        subject="bell",
        owner_id=user_id,
        version=version,
        every=settings.PHOENIX_NOTIFICATIONS_POLL_SECONDS,
        stale_after=STALE_AFTER_SECONDS,
    )
