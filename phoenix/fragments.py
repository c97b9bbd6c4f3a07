"""Fragments of a page rendered from their inputs only, and kept per process.

The drafts tab's forms (the composer, the search and chips, the boards) cost more CPU to
render through the template engine, on each page, than the rest of the page together
(make bench, issue 19), while their HTML changes only with a few values. A fragment is a
template (or partial) rendered with exactly the inputs it is given — no request, no
context processors, nothing else of the page — so its HTML is a function of them: the same
inputs give the same HTML, kept for the next page that asks. What must be new at each use
(the CSRF token, a form's idempotency key) is given as `fresh`: the kept HTML holds a
random stand-in for it, replaced by the real value (escaped) at each use.

Inputs must be values: strings, numbers, booleans, None, UUIDs, dates and times, and
tuples or frozen dataclasses of values. Model instances are refused: they compare and hash
by primary key, so two states of a row would share one kept fragment.

In a template (a builtin, like {% url %}):

    {% fragment "creations/_composer.html" composer=composer fresh_csrf_token=csrf_token %}

renders the template with `composer` and `csrf_token` only.
"""

import dataclasses
import datetime
import secrets
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model
from django.template import Library
from django.template.loader import get_template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = Library()

# Fragments kept per process (a few KB each); when full, it starts again empty.
LIMIT = 2000
FRESH_PREFIX = "fresh_"
_kept: dict[tuple, str] = {}
# Random, so that no text of a fragment can be one.
_STAND_IN = f"fresh{secrets.token_hex(12)}"


# Immutable, compared and hashed by value.
_PLAIN = (str, int, float, bool, Decimal, UUID, datetime.date, datetime.time, datetime.timedelta)


def _check_value(name: str, value) -> None:
    if value is None or isinstance(value, _PLAIN):
        return
    if isinstance(value, tuple | frozenset):
        for item in value:
            _check_value(name, item)
        return
    if (
        dataclasses.is_dataclass(value)
        and not isinstance(value, type)
        and type(value).__dataclass_params__.frozen
    ):
        for item in dataclasses.fields(value):
            _check_value(name, getattr(value, item.name))
        return
    kind = "a model instance" if isinstance(value, Model) else type(value).__name__
    raise TypeError(f"fragment input {name!r} is {kind}, not a value")


def _stand_in(name: str) -> str:
    return f"{_STAND_IN}{name}{_STAND_IN}"


def rendered(template_name: str, inputs: dict, *, fresh: dict | None = None) -> SafeString:
    """`template_name` rendered with `inputs` and `fresh` as its whole context."""
    fresh = fresh or {}
    key = (template_name, tuple(sorted(inputs.items())), tuple(sorted(fresh)))
    try:
        html = _kept.get(key)
    except TypeError:  # unhashable: say which input
        for name, value in inputs.items():
            _check_value(name, value)
        raise
    if html is None:
        for name, value in inputs.items():
            _check_value(name, value)
        stand_ins = {name: _stand_in(name) for name in fresh}
        html = get_template(template_name).render({**inputs, **stand_ins})
        rest = html
        for stand_in in stand_ins.values():
            rest = rest.replace(stand_in, "")
        # What is left of a stand-in that a filter changed (its case, its length).
        if _STAND_IN[:12] in rest.lower():
            raise ImproperlyConfigured(
                f"{template_name}: a fresh value went through a filter or a tag; a fragment "
                "may only write them out as they are"
            )
        if not settings.DEBUG:  # an edit of the template shows while developing
            if len(_kept) >= LIMIT:
                _kept.clear()
            _kept[key] = html
    for name, value in fresh.items():
        # The stand-in was written out as it is (letters and digits): the value in its
        # place is escaped here as the template would have.
        html = html.replace(_stand_in(name), conditional_escape(value))
    return mark_safe(html)  # nosec B308 B703 # rendered by the template engine, escaped


@register.simple_tag
def fragment(template_name: str, **inputs) -> SafeString:
    """{% fragment "name" input=value ... fresh_name=value ... %}: see the module."""
    fresh = {
        name.removeprefix(FRESH_PREFIX): value
        for name, value in inputs.items()
        if name.startswith(FRESH_PREFIX)
    }
    kept = {name: value for name, value in inputs.items() if not name.startswith(FRESH_PREFIX)}
    return rendered(template_name, kept, fresh=fresh)


def forget() -> None:
    _kept.clear()
