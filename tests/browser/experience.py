"""What the first-time-experience browser tests share (with the open_page_as fixture of
conftest): the two sizes, and a look that screenshots the page and runs axe-core."""

from playwright.sync_api import Page

from tests.browser.conftest import assert_accessible

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}
SIZES = {"desk": DESK, "phone": PHONE}


def look(page: Page, screenshot, name: str) -> None:
    """Screenshot the page (test-output/screenshots/<name>.png) and fail on any serious
    or critical axe-core violation."""
    screenshot(page, name)
    assert_accessible(page, name)
