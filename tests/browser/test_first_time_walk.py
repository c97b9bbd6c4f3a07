"""The first-time walk of issue 26, scripted in a real browser on a phone (390×844) with a
real worker: sign up → confirm → generate an image and a video → publish → share → run out
of tokens → be told how to buy more; no dead end on the way (every step is reached by
clicking what the page offers), axe-core clean at each stop."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from creations.models import Creation
from profiles.services import creator_signup
from tests.browser.experience import SIZES, look
from tests.conftest import sent_emails, staff_adjust, wait_for
from tests.tokens.conftest import ensure_packs
from tokens.selectors import balance_of

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]

PASSWORD = "Phoenix-rises-at-dawn-42"
DONE = 60_000  # ms: a real worker on the local provider


def test_the_first_time_walk_has_no_dead_end(open_page_as, screenshot, worker, settings):
    # The per-network e-mail limit counts in the cache's Redis across this run's sign-ups.
    settings.PHOENIX_EMAILS_PER_NETWORK = 0
    ensure_packs()
    creator_signup(username="friend", password="friend-password-123")
    # The worker from the start: it sends the confirmation e-mail too (sent_emails reads it).
    worker(delay=0.5)
    page = open_page_as(size=SIZES["phone"])

    # Sign up, from the log-in page's offer.
    page.goto(reverse("login"))
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("E-mail").fill("newcomer@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("link", name="Create", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Confirm your address"))).to_be_visible()
    look(page, screenshot, "walk-01-before-confirming")

    # Confirm: the link in the e-mail, then the button.
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", sent_emails()[-1].body)[0]
    page.goto(link)
    page.get_by_role("button", name="Confirm my e-mail").click()
    expect(page.locator("#nav-balance")).to_have_text("100 tokens")

    # An image from the create page; it lands on the drafts tab, focused.
    page.get_by_label("Prompt").fill("A red kite over the dunes")
    page.locator(".create-form__submit").click()
    page.wait_for_url(re.compile(r"tab=drafts&made="))
    image = Creation.objects.get(owner__username="newcomer", kind="image")
    image_card = page.locator(f"#creation-{image.id}")
    expect(image_card).to_have_attribute("data-status", "draft", timeout=DONE)

    # A video from the composer above the cards, without leaving the tab.
    composer = page.locator("#composer")
    composer.get_by_label("Video · 10").check()
    composer.get_by_label("Prompt").fill("Waves rolling onto a black sand beach")
    composer.get_by_role("button", name=re.compile("^Generate")).click()
    videos = Creation.objects.filter(owner__username="newcomer", kind="video")
    wait_for(videos.exists, what="the video submitted")
    video = videos.get()
    page.wait_for_url(re.compile(rf"#creation-{video.id}$"))
    video_card = page.locator(f"#creation-{video.id}")
    expect(video_card).to_be_focused()
    expect(video_card).to_have_attribute("data-status", "draft", timeout=DONE)
    look(page, screenshot, "walk-02-image-and-video")

    # Share the video with a friend.
    video_card.get_by_role("link", name=re.compile("^Share")).click()
    page.get_by_label("Share with a creator").fill("friend")
    page.get_by_role("button", name="Share", exact=True).click()
    expect(page.get_by_text("Shared with friend.")).to_be_visible()
    look(page, screenshot, "walk-03-shared")

    # Publish the image, from its card.
    page.goto(reverse("profile", args=["newcomer"]) + "?tab=drafts")
    image_card.locator("summary", has_text="Publish").click()
    expect(image_card.get_by_label("Caption")).to_be_focused()
    image_card.get_by_label("Caption").fill("My first kite")
    image_card.get_by_role("button", name="Post it").click()
    expect(page.locator("#toasts")).to_contain_text("Published")
    page.goto(reverse("post", args=[image.id]))
    expect(page.locator(".post__prompt")).to_contain_text("A red kite over the dunes")
    look(page, screenshot, "walk-04-published")

    # Run out of tokens: the create page says so once, and leads to buying more.
    staff_adjust(user=image.owner, amount=-balance_of(image.owner), reason="test: spent")
    page.get_by_role("link", name="Create", exact=True).click()
    expect(page.locator(".create-form__submit")).to_have_accessible_name("Out of tokens")
    look(page, screenshot, "walk-05-out-of-tokens")
    page.locator("#out-of-tokens").get_by_role("link", name="Buy tokens").click()
    expect(page.get_by_role("heading", name="Buy tokens", level=1)).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Buy ")).first).to_be_enabled()
    look(page, screenshot, "walk-06-buy")
