"""Kinds of notification whose words and destination belong to an app above this one
(moderation: a decision on someone's post, the outcome of a report, an appeal decided).

That app registers each kind here from its AppConfig.ready(); notifications never import
it. The row is written as any other (notification_create: once per event and person); what
it says, where opening it leads and whether it is e-mailed come from the registration.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .models import Notification


@dataclass(frozen=True)
class RegisteredKind:
    # The words of a page of notifications of this kind for their reader, by notification
    # id (one query for the whole page, whatever its size).
    texts: Callable[[Sequence[Notification]], dict]
    # Where opening one leads.
    url: Callable[[Notification], str]
    # E-mailed to the confirmed address whatever the preferences (a statement of reasons
    # is owed, not asked for) under this subject; "" for the bell alone.
    email_subject: str = ""
    # What the e-mail's link says it leads to.
    email_link_label: str = "Open it"


_REGISTERED: dict[str, RegisteredKind] = {}


def register(kind: str, registered: RegisteredKind) -> None:
    if kind not in Notification.Kind.values:
        raise ValueError(f"Unknown notification kind {kind!r}")
    _REGISTERED[kind] = registered


def registered(kind: str) -> RegisteredKind | None:
    return _REGISTERED.get(kind)
