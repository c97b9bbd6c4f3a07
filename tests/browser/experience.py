"""What the first-time-experience browser tests share: a page at a desk's or a phone's
size, logged in by session cookie or anonymous, with axe-core served to it; and a check
that takes the screenshot and runs axe at both sizes."""

from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page

from tests.browser.conftest import assert_accessible, serve_axe

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}
SIZES = {"desk": DESK, "phone": PHONE}


@pytest.fixture
def open_page_as(browser: Browser, live_server) -> Iterator[Callable[..., Page]]:
    contexts = []

    def open_page(user=None, *, size=DESK, **options) -> Page:
        context = browser.new_context(viewport=size, base_url=live_server.url, **options)
        context.set_default_timeout(10_000)
        serve_axe(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
            )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def look(page: Page, screenshot, name: str) -> None:
    """Screenshot the page (test-output/screenshots/<name>.png) and fail on any serious
    or critical axe-core violation."""
    screenshot(page, name)
    assert_accessible(page, name)
