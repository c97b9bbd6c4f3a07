"""The token history in a real browser: reached from the balance in the nav, every kind of
row in words, links to where each creation is, and usable at phone width."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from creations import services
from profiles.services import creator_signup
from tokens.models import LedgerEntry
from tokens.services import account_adjust

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]

PASSWORD = "Phoenix-rises-at-dawn-42"


def a_history(make_creation):
    """A welcome grant, an image, a video failed and refunded, a canceled video, a staff
    refund, a staff adjustment and a creation deleted forever."""
    creator = creator_signup(username="ledgerfan", password=PASSWORD)
    staff = get_user_model().objects.create_user("treasurer", password=PASSWORD, is_staff=True)
    image = make_creation(owner=creator, prompt="A lighthouse on a cliff at sunset")
    failed = make_creation(
        owner=creator,
        kind="video",
        status="failed",
        code="provider_unavailable",
        prompt="Waves rolling onto a black sand beach, slow motion, golden hour light",
    )
    canceled = make_creation(
        owner=creator, kind="video", status="canceled", prompt="A paper boat in the rain"
    )
    forgotten = make_creation(owner=creator, kind="video", status="processing", prompt="Snow")
    services.creation_fail_by_staff(
        creation=forgotten,
        staff=staff,
        reason="Stuck after the worker restart on Monday",
    )
    account_adjust(
        user=creator, amount=5, reason="Sorry for Monday's outage", staff=staff, request_key="k1"
    )
    purged = make_creation(owner=creator, status="draft", prompt="A secret sketch")
    services.creation_trash(creation=purged)
    services.creation_purge(creation=purged)
    return creator, staff, image, failed, canceled


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_the_token_history_reads_well_on_a_desk_and_on_a_phone(
    page: Page, make_creation, screenshot
):
    creator, staff, image, failed, canceled = a_history(make_creation)
    log_in(page, creator.username)

    page.locator("a.balance").click()

    expect(page).to_have_url(re.compile(r"/tokens$"))
    expect(page.get_by_role("heading", name="Token history")).to_be_visible()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(LedgerEntry.objects.filter(account__user=creator).count())
    # Newest first: the purged image's debit, then the adjustment.
    expect(rows.first).to_contain_text("Creation deleted forever")
    expect(rows.nth(1)).to_contain_text("By Phoenix staff: Sorry for Monday's outage")
    expect(rows.last).to_contain_text("Welcome grant")
    expect(page.get_by_text("Refunded by Phoenix staff: Stuck after the worker")).to_be_visible()
    expect(page.get_by_text("Failed: The generator was unavailable")).to_be_visible()
    expect(page.get_by_text("Canceled, tokens refunded")).to_be_visible()
    expect(page.get_by_text("Creation deleted forever")).to_have_count(1)
    expect(page.locator("main")).not_to_contain_text(staff.username)
    expect(page.locator("main")).not_to_contain_text("A secret sketch")
    screenshot(page, "token-history-1280")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(rows.first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(rows.first.get_by_text("Balance after")).to_be_visible()
    screenshot(page, "token-history-390")

    # A row's link leads to the card on its tab.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="“A paper boat in the rain”").first.click()
    expect(page).to_have_url(re.compile(rf"\?tab=drafts#creation-{canceled.pk}$"))
    expect(page.locator(f"#creation-{canceled.pk}")).to_be_visible()
