"""BEFORE screenshots (temporary first version of this file)."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser

from profiles.services import creator_signup
from tokens.services import account_adjust

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]
PASSWORD = "Phoenix-rises-at-dawn-42"


def open_as(browser: Browser, live_server, user, *, width: int):
    client = Client()
    client.force_login(user)
    context = browser.new_context(
        viewport={"width": width, "height": 844 if width < 500 else 900},
        base_url=live_server.url,
    )
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": live_server.url}]
    )
    return context.new_page()


def test_before(browser, live_server, screenshot):
    newcomer = creator_signup(username="newcomer", password=PASSWORD)
    broke = creator_signup(username="broke", password=PASSWORD)
    staff = get_user_model().objects.create_user("treasurer", password=PASSWORD, is_staff=True)
    account_adjust(user=broke, amount=-broke.token_account.balance, reason="Spent", staff=staff)
    for width in (1280, 390):
        page = open_as(browser, live_server, newcomer, width=width)
        page.goto("/create")
        screenshot(page, f"ux-before-create-{width}")
        page.goto(reverse("profile", args=[newcomer.username]) + "?tab=drafts")
        screenshot(page, f"ux-before-drafts-{width}")
        page = open_as(browser, live_server, broke, width=width)
        page.goto("/create")
        screenshot(page, f"ux-before-out-of-tokens-{width}")
