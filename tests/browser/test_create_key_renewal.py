"""A create whose answer was lost keeps its idempotency key (sending the same thing again
must not debit twice); sending different words with it is refused once, in words a
creator understands, and the next press of Generate creates them."""

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, Route, expect

from creations.models import Creation
from tokens.selectors import balance_of

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]

KEY_REUSED = "This was already sent with different words; press Generate again to create it."


@pytest.fixture
def alice_page(browser: Browser, live_server, alice):
    client = Client()
    client.force_login(alice)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(10_000)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    yield context.new_page()
    context.close()


def lose_the_first_answer(page: Page) -> None:
    """The first create reaches Phoenix and is made, but its answer never comes back."""
    lost = []

    def handle(route: Route) -> None:
        if not lost:
            lost.append(route.fetch())
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/generate/creation", handle)


def test_after_a_lost_answer_and_new_words_generate_works_again(
    alice_page: Page, alice, screenshot
):
    page = alice_page
    lose_the_first_answer(page)
    page.goto("/create")
    page.fill("#prompt", "A lighthouse at dusk")
    page.get_by_role("button", name=re.compile("Generate image")).click()
    error = page.locator("#create-error")
    expect(error).to_have_text(re.compile("Could not reach Phoenix"))
    assert Creation.objects.filter(owner=alice).count() == 1  # it was made

    page.fill("#prompt", "A lighthouse at dawn")
    page.get_by_role("button", name=re.compile("Generate image")).click()

    expect(error).to_have_text(KEY_REUSED)
    expect(page.locator("#prompt")).to_have_value("A lighthouse at dawn")
    # The viewport as tall as the page: the sticky Generate button in its own place.
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": height})
    screenshot(page, "create-key-reused")

    page.get_by_role("button", name=re.compile("Generate image")).click()

    expect(page).to_have_url(
        re.compile(r"/soho/alice\?tab=drafts(&made=[0-9a-f-]+#creation-[0-9a-f-]+)?$")
    )
    prompts = sorted(Creation.objects.filter(owner=alice).values_list("prompt", flat=True))
    assert prompts == ["A lighthouse at dawn", "A lighthouse at dusk"]
    assert balance_of(alice) == 100 - 2 * settings.PHOENIX_COSTS["image"]
