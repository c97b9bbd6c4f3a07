"""Who may see a creation beyond its owner, staff and the public: rules other apps add
(sharing: the people a draft is shared with), asked here by creations without importing
those apps (they sit above it). An app adds its rule in its AppConfig.ready()."""

from collections.abc import Callable

DraftReader = Callable[..., bool]  # (*, creation, user) -> may this user see this draft?

_draft_readers: list[DraftReader] = []


def add_draft_reader(reader: DraftReader) -> None:
    if reader not in _draft_readers:
        _draft_readers.append(reader)


def draft_readable_by(*, creation, user) -> bool:
    """Does a rule added by another app let `user` (not the owner) see this draft now?"""
    return any(reader(creation=creation, user=user) for reader in _draft_readers)
