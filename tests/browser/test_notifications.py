"""The bell in a real browser, against the live server and a real worker: it counts up when a
video finishes while the creator is on the feed, leads to the notifications page, and does
not count what the creator watched finish on the drafts tab."""

import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from notifications.models import Notification
from profiles.models import ConfirmedEmail
from profiles.services import creator_signup
from tests.browser.test_creator_flow import WORKER_TIMEOUT, choose, land_on_new_card

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]


@pytest.fixture(autouse=True)
def quick_bell(settings):
    """The bell asks every 2 s here (45 s in production), so the test does not wait long."""
    settings.PHOENIX_NOTIFICATIONS_POLL_SECONDS = 2


PASSWORD = "Phoenix-rises-at-dawn-42"


def sign_up(page: Page) -> str:
    """A creator with their welcome tokens, signed in through the login page."""
    username = f"creator{uuid.uuid4().hex[:8]}"
    creator_signup(username=username, password=PASSWORD)
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#nav-bell")).to_be_visible()
    return username


def bell(page: Page):
    return page.locator("#nav-bell")


def generate(page: Page, kind: str, prompt: str) -> None:
    page.goto("/create")
    choose(page, kind)
    page.fill("#prompt", prompt)
    page.get_by_role("button", name=re.compile(f"Generate {kind}")).click()


def test_the_bell_counts_a_video_that_finished_while_the_creator_was_on_the_feed(
    page: Page, worker, screenshot
):
    username = sign_up(page)
    expect(bell(page)).to_have_accessible_name("Notifications")
    generate(page, "video", "Waves rolling onto a black sand beach at dawn")
    land_on_new_card(page, username)

    page.get_by_role("link", name="Feed", exact=True).click()
    expect(page).to_have_url(re.compile(r"/$"))
    page.evaluate("window.__sameDocument = true")
    worker(delay=1)

    # No card polls here: the bell's own light poll brings the count.
    expect(bell(page)).to_have_accessible_name("Notifications, 1 unread", timeout=WORKER_TIMEOUT)
    expect(bell(page).locator(".bell__count")).to_have_text("1")
    assert page.evaluate("window.__sameDocument") is True
    screenshot(page, "notifications-01-bell-counts-on-the-feed")

    bell(page).click()
    expect(page).to_have_url(re.compile(r"/notifications$"))
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    item = page.locator(".notification").first
    expect(item).to_have_class(re.compile("notification--unread"))
    expect(item).to_contain_text("Your video is ready: “Waves rolling onto a black sand beach")
    expect(bell(page)).to_have_attribute("aria-current", "page")
    screenshot(page, "notifications-02-page-unread")

    item.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/soho/{username}\?tab=drafts#creation-"))
    expect(bell(page)).to_have_accessible_name("Notifications")
    notification = Notification.objects.get(recipient__username=username)
    assert notification.read_at is not None

    page.goto("/notifications")
    expect(page.locator(".notification--unread")).to_have_count(0)
    expect(page.locator("#unread-summary")).to_have_text("You are all caught up.")
    screenshot(page, "notifications-03-page-read")


def test_a_creation_watched_on_the_drafts_tab_does_not_count(page: Page, worker, screenshot):
    username = sign_up(page)
    generate(page, "image", "A paper lantern drifting over a lake")
    card, creation_id = land_on_new_card(page, username)
    worker(delay=2)

    expect(card).to_have_attribute("data-status", "draft", timeout=WORKER_TIMEOUT)
    # The card poll that showed it marked it read and refreshed the bell (out of band).
    expect(bell(page)).to_have_accessible_name("Notifications")
    notification = Notification.objects.get(creation_id=creation_id)
    assert notification.read_at is not None
    owner = get_user_model().objects.get(username=username)
    assert owner.notifications.filter(read_at__isnull=True).count() == 0
    screenshot(page, "notifications-04-watched-on-drafts-tab")


def test_the_empty_page_and_the_email_settings(page: Page, screenshot):
    username = sign_up(page)
    page.goto("/notifications")
    expect(page.get_by_text("No notifications yet.")).to_be_visible()
    page.get_by_label("E-mail me when a video is ready").check()
    page.get_by_role("button", name="Save e-mail settings").click()
    error = page.locator("#email-settings-error")
    expect(error).to_contain_text("no confirmed e-mail address yet")
    expect(error).to_be_focused()

    creator = get_user_model().objects.get(username=username)
    creator.email = "creator@example.com"
    creator.save()
    ConfirmedEmail.objects.create(user=creator, address=creator.email)
    page.goto("/notifications")
    expect(page.get_by_text("E-mails go to your confirmed address")).to_be_visible()
    page.get_by_label("E-mail me when a video is ready").check()
    page.get_by_role("button", name="Save e-mail settings").click()
    expect(page.locator("#toasts")).to_contain_text("E-mail settings saved.")
    expect(page.get_by_label("E-mail me when a video is ready")).to_be_checked()
    screenshot(page, "notifications-05-empty-with-settings")

    # On a phone the bell keeps its place in the nav bar.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(bell(page)).to_be_visible()
    box = bell(page).bounding_box()
    assert box["x"] + box["width"] <= 390
    screenshot(page, "notifications-06-phone")
