"""Comparing two pages that must say the same (a 404 for someone else's object and one
for an unknown id): the site's pages carry a CSRF token masked afresh on every render, and
the log-in link of an anonymous visitor's page names the path asked for, and the bell's
poll URL is signed with the moment of the render. Neither tells
anything about the object."""

import re

CSRF_VALUES = (
    re.compile(r'("x-csrftoken": )"[^"]*"'),
    re.compile(r'(name="csrfmiddlewaretoken" value=)"[^"]*"'),
    # The bell's poll URL is signed with the time it was made.
    re.compile(r'(id="nav-bell-poll" hidden hx-get=)"[^"]*"'),
)


def same_page_text(response, *, path: str) -> bytes:
    """The response's body with its CSRF tokens blanked and `path` (the URL asked for)
    replaced by a placeholder, as bytes (a JSON body comes back unchanged)."""
    text = response.content.decode()
    for pattern in CSRF_VALUES:
        text = pattern.sub(r'\1""', text)
    if path:
        for form in (path, path.replace("/", "%2F")):
            text = text.replace(form, "{path}")
    return text.encode()
