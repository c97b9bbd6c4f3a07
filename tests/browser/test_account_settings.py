"""The account settings in a real browser: two-factor set-up and sign-in with the code,
"Download my data", and deleting the account; axe-core on every page on the way."""

import io
import json
import re
import zipfile
from datetime import datetime

import pyotp
import pytest
from playwright.sync_api import Page, expect

from accounts import twofactor
from tests.browser.conftest import assert_accessible, serve_axe
from tests.browser.test_creator_flow import PASSWORD, sign_up
from tests.conftest import run_worker_burst

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]


def code_from_the_app(secret: str, steps_ahead: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    step = totp.timecode(datetime.now()) + steps_ahead
    return totp.at(step * twofactor.STEP)


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


@pytest.fixture
def page(page: Page) -> Page:
    serve_axe(page.context)
    return page


def test_two_factor_set_up_then_sign_in_with_the_code(page: Page, screenshot):
    username = sign_up(page)
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    assert_accessible(page, "security settings (off)")
    screenshot(page, "settings-01-two-factor-set-up")

    secret = page.locator("code.secret").inner_text().strip()
    page.get_by_label("Code from the app").fill(code_from_the_app(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    codes = page.locator(".codes code")
    expect(codes).to_have_count(10)
    expect(page.locator("main")).to_contain_text("On.")
    assert_accessible(page, "security settings (recovery codes)")
    screenshot(page, "settings-02-recovery-codes")

    log_out(page)
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/code$"))
    expect(page.get_by_role("link", name="Log in")).to_be_visible()  # not signed in yet
    page.get_by_label("Code").fill("000000" if code_from_the_app(secret) != "000000" else "1")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".errorlist")).to_contain_text("not right")
    assert_accessible(page, "code step (wrong code)")
    screenshot(page, "settings-03-code-step-wrong-code")

    # The code set-up used is spent; the app's next one (accepted for clock drift) works.
    page.get_by_label("Code").fill(code_from_the_app(secret, steps_ahead=1))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.locator("#nav-balance")).to_have_text("100 tokens")


def test_download_my_data_then_delete_the_account(page: Page, screenshot):
    username = sign_up(page)
    page.goto("/settings/data")
    expect(page.get_by_role("heading", name="Delete my account")).to_be_visible()
    expect(page.locator("main")).to_contain_text("your 100 unspent tokens are forfeited")
    assert_accessible(page, "your data")

    page.get_by_role("button", name="Download my data").click()
    expect(page.locator("#toasts")).to_contain_text("We are preparing your data")
    expect(page.locator(".exports")).to_contain_text("being prepared")
    run_worker_burst()  # the export's job, as the worker would run it
    page.reload()
    link = page.get_by_role("link", name=re.compile(r"^Download \("))
    expect(link).to_be_visible()
    screenshot(page, "settings-04-export-ready")
    with page.expect_download() as download_info:
        link.click()
    path = download_info.value.path()
    with zipfile.ZipFile(io.BytesIO(open(path, "rb").read())) as archive:
        data = json.loads(archive.read("data.json"))
    assert data["profile"]["username"] == username

    # The bell has it too.
    page.goto("/notifications")
    expect(page.locator("main")).to_contain_text("Your data is ready to download")

    page.goto("/settings/data")
    page.get_by_label("Your password").fill("not my password")
    page.get_by_label(re.compile("I understand")).check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator(".errorlist")).to_contain_text("That password is not right")
    assert_accessible(page, "delete account (wrong password)")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label(re.compile("I understand")).check()
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header at the top of the picture
    screenshot(page, "settings-05-delete-account")
    page.get_by_role("button", name="Delete my account").click()

    expect(page.locator("#toasts")).to_contain_text("Your account is deleted")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    screenshot(page, "settings-06-deleted")
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".form-error")).to_be_visible()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
