"""What the bench reads from Phoenix's pages: the URL each card and the bell poll, as the
browser will request it."""

import html
import re
import urllib.parse

_ARTICLE = re.compile(r"<article\b[^>]*>", re.S)
_ATTRIBUTE = re.compile(r'([\w:-]+)="([^"]*)"')


def card_poll_urls(page: str) -> dict[str, str]:
    """{creation id: the URL its card polls}, read from the hx-get of every polling card of
    a page, exactly as the browser will request it (whatever its shape: a version, a
    signed token...)."""
    urls = {}
    for tag in _ARTICLE.findall(page):
        attributes = {name: html.unescape(value) for name, value in _ATTRIBUTE.findall(tag)}
        card_id = attributes.get("id", "")
        if card_id.startswith("creation-") and "hx-get" in attributes:
            if "every" in attributes.get("hx-trigger", "") or "data-poll" in tag:
                urls[card_id.removeprefix("creation-")] = attributes["hx-get"]
    return urls


_BELL_POLL = re.compile(r'<span id="nav-bell-poll"[^>]*\bhx-get="([^"]*)"', re.S)


def bell_poll_url(page: str) -> str | None:
    """The URL the nav bell polls on a page, as the browser will request it."""
    found = _BELL_POLL.search(page)
    return html.unescape(found.group(1)) if found else None


def stale_poll_url(url: str) -> str:
    """The same poll asked with a version the server has moved past (v=0), so that it must
    render the card; a URL without a version renders it anyway. The rest of the URL stays
    byte for byte."""
    parts = urllib.parse.urlsplit(url)
    query = re.sub(r"(^|&)v=[^&]*", r"\1v=0", parts.query)
    return urllib.parse.urlunsplit(parts._replace(query=query))
