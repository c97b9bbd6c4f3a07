"""The draft card's HTML for the Drafts and Trash tabs, rendered once per state of a card.

Rendering a card through the template engine cost ~1 ms of CPU (about 50 variables, a dozen
tags), so a tab of a dozen cards cost more than everything else on the page (make bench,
issue 19). A finished card changes only when its row does, so each process keeps the HTML
of the cards it rendered, keyed on everything the template reads:

- every value of the row and of what the selectors attached (refunded, media URLs, ...):
  any change to the creation is a new key, so a card is never shown stale;
- the words that depend on the time ("3 minutes ago", "Expires in 2 days"), so they are as
  fresh as a render;
- the tab's flags that the template reads (fresh_selection).

The CSRF token is the request's, put into the cached HTML at each use (the cached HTML
holds a marker where `{% csrf_token %}` wrote it), and so is the showing key of its Run
again, Vary and Animate forms, new at each use. Cards that poll (pending, processing:
their hx-get may carry what the row does not) and cards offering Try again (a key per
showing, from the clock) get no HTML here: the tab renders them with the template, each
time, as before.
"""

import secrets

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.loader import get_template
from django.utils.safestring import mark_safe

from .models import Creation

CARD_TEMPLATE = "creations/card.html#card"
# Cards kept per process (a few KB each); when full, it starts again empty.
CACHE_SIZE = 2000
# Stands for the CSRF token inside cached HTML: random, so no text of a card can be it.
_CSRF_MARKER = f"csrf{secrets.token_hex(16)}"
# Stands for the card's showing key (its forms' idempotency keys), new at each use.
_SHOWING_MARKER = f"showing{secrets.token_hex(8)}"

_cache: dict[tuple, str] = {}
# What the instance holds beside the values the card shows.
_NOT_SHOWN = {"_state", "card_html"}


def _cacheable(creation: Creation) -> bool:
    return not creation.is_in_flight and not creation.can_retry


def _key(creation: Creation, fresh_selection: bool) -> tuple:
    row = repr([item for item in vars(creation).items() if item[0] not in _NOT_SHOWN])
    moments = (
        naturaltime(creation.created_at),
        naturaltime(creation.trashed_at) if creation.trashed_at else "",
        naturaltime(creation.expires_at) if creation.expires_soon else "",
    )
    return (creation.pk, row, moments, fresh_selection)


def _render(creation: Creation, fresh_selection: bool) -> str:
    # No request: the card reads nothing of it but the CSRF token, put in at each use.
    context = {
        "creation": creation,
        "csrf_token": _CSRF_MARKER,
        "showing_key": _SHOWING_MARKER,
        "fresh_selection": fresh_selection,
    }
    return get_template(CARD_TEMPLATE).render(context)


def cards_html(
    creations: list[Creation], csrf_token: str, *, fresh_selection: bool = False
) -> None:
    """Give each finished creation its card's HTML for this request (`card_html`), with
    the page's `csrf_token` (django.middleware.csrf.get_token: one for the page, as its
    template's, each costs 32 random characters); the others get none, and the tab renders
    them with the template as it is."""
    for creation in creations:
        if not _cacheable(creation):
            creation.card_html = None
            continue
        key = _key(creation, fresh_selection)
        html = _cache.get(key)
        if html is None:
            html = _render(creation, fresh_selection)
            if len(_cache) >= CACHE_SIZE:
                _cache.clear()
            _cache[key] = html
        # Escaped once, by the template, when it was rendered.
        html = html.replace(_CSRF_MARKER, csrf_token)
        html = html.replace(_SHOWING_MARKER, secrets.token_hex(8))
        creation.card_html = mark_safe(html)  # nosec B308 B703


def clear_cache() -> None:
    _cache.clear()
