"""What happened to a creation, told to whoever listens (the ops counters, notifications,
sharing) once the change is committed.

The services call `announce()` where a change is made; listeners connect to
`creation_event` in their app's ready(). A listener's failure is logged and never reaches
the creator's request or the job: the change itself is already committed.
"""

import logging
from functools import partial

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

# Sent with: event (one of EVENTS), creation (the instance as committed), and
# details (a dict: "code" for failed, "amount" for refunded, "seconds" for completed,
# "scheduled" for published — True when a scheduled post's time came).
creation_event = Signal()

# Sent inside the change's own transaction (not after COMMIT) when a creation stops being
# a shareable draft, or comes back to the drafts: with creation (the locked row) and reason.
# A listener's writes commit or roll back with the change (sharing ends the shares: a lost
# after-COMMIT listener could otherwise leave a share to revive later); its error aborts it.
left_the_drafts = Signal()

# Sent in the request when the owner's card poll renders news about their creation (it
# finished, failed, or a scheduled post went out), with owner, creation and shown (the
# status the page showed before). A listener (notifications) marks the news read and may
# answer the unread count the poll's bell then shows.
card_news_seen = Signal()


def news_seen(*, owner, creation, shown: str) -> int | None:
    """Tell the listeners the owner saw the card's news; the first count one answers."""
    for _receiver, answer in card_news_seen.send(
        sender=type(creation), owner=owner, creation=creation, shown=shown
    ):
        if answer is not None:
            return answer
    return None


EVENTS = (
    "completed",  # processing → draft, with media
    "failed",  # with its error code
    "refunded",  # a refund written for it (after a failure or a cancel), once
    "canceled",
    "published",  # now, or a scheduled post whose time came
    "scheduled",
    "unpublished",  # a post or a scheduled post back to the drafts
    "trashed",
    "restored",
    "purged",
    "taken_down",
    "reinstated",  # a take-down reversed: published again
)


def announce(event: str, creation, **details) -> None:
    """Tell the listeners after COMMIT (at once when no transaction is open)."""
    if event not in EVENTS:
        raise ValueError(f"Unknown creation event {event!r}")
    transaction.on_commit(partial(_send, event, creation, details))


def _send(event: str, creation, details: dict) -> None:
    for receiver, outcome in creation_event.send_robust(
        sender=type(creation), event=event, creation=creation, details=details
    ):
        if isinstance(outcome, Exception):
            log.error(
                "A listener (%r) failed on %s of %s",
                receiver,
                event,
                creation.pk,
                exc_info=(type(outcome), outcome, outcome.__traceback__),
            )
