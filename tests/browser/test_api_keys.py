"""Settings → API keys in a real browser: make a key, copy it (shown once), use it from a
script, revoke it; axe-core on the page in each state."""

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, serve_axe
from tests.browser.test_creator_flow import sign_up

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]


@pytest.fixture
def page(page: Page) -> Page:
    serve_axe(page.context)
    return page


def test_make_a_key_use_it_and_revoke_it(page: Page, live_server, screenshot):
    sign_up(page)
    page.goto("/settings/api")
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    expect(page.get_by_text("No keys yet.")).to_be_visible()
    assert_accessible(page, "API keys (none)")
    screenshot(page, "api-keys-01-none")

    page.get_by_label("Name").fill("nightly batch")
    page.get_by_label("Create (generate, run again, cancel)").check()
    page.get_by_role("button", name="Make key").click()
    shown = page.locator("#new-key-value")
    expect(shown).to_have_text(re.compile(r"^phx_[0-9A-Za-z]{36}$"))
    key = shown.inner_text().strip()
    expect(page.locator("table.keys td").filter(has_text="nightly batch").first).to_be_visible()
    expect(page.get_by_role("cell", name="create, read", exact=True)).to_be_visible()
    assert_accessible(page, "API keys (new key shown)")
    screenshot(page, "api-keys-02-new-key-shown-once")

    # A script uses it: no cookie, no CSRF token.
    script = requests.get(
        f"{live_server.url}/api/tokens/balance",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert script.status_code == 200, script.text
    assert script.headers["x-ratelimit-remaining"]

    page.goto("/settings/api")
    expect(page.locator("#new-key-value")).to_have_count(0)  # shown once
    page.get_by_role("button", name="Revoke key nightly batch").click()
    expect(page.get_by_text("revoked: it no longer works")).to_be_visible()
    assert_accessible(page, "API keys (revoked)")
    screenshot(page, "api-keys-03-revoked")
    again = requests.get(
        f"{live_server.url}/api/tokens/balance",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert again.status_code == 401 and "WWW-Authenticate" in again.headers
