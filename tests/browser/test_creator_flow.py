"""A creator's whole path in a real browser, against the live server and a real worker:
sign up, generate, watch the card finish without reloading, publish, find it in the feed."""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from creations import versions
from creations.models import Creation
from tests.conftest import sent_emails
from tokens.models import TokenAccount

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]

PASSWORD = "Phoenix-rises-at-dawn-42"
# Long enough for a real worker to start and finish a job.
WORKER_TIMEOUT = 45_000


def sign_up(page: Page, *, confirm: bool = True) -> str:
    """Sign up in the browser and (unless told not to) follow the link e-mailed to confirm
    the address, which brings the welcome tokens."""
    username = f"creator{uuid.uuid4().hex[:8]}"
    page.goto("/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_email", f"{username}@example.com")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/create$"))
    if confirm:
        confirm_email(page, f"{username}@example.com")
    return username


def confirm_email(page: Page, address: str) -> None:
    # Sent by a job, run in this process or by the test's worker: sent_emails sees both.
    [message] = [m for m in sent_emails() if m.to == [address]][-1:]
    page.goto(re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body)[0])
    page.get_by_role("button", name="Confirm my e-mail").click()
    expect(page).to_have_url(re.compile(r"/create$"))


def choose(page: Page, value: str) -> None:
    """Pick a radio chip by clicking its label, as a person would."""
    page.locator(f"label:has(input[value='{value}'])").click()


def land_on_new_card(page: Page, username: str):
    # The drafts tab, at the new card (#creation-<id>, which phoenix.js focuses).
    expect(page).to_have_url(
        re.compile(rf"/soho/{username}\?tab=drafts&made=[0-9a-f-]+#creation-[0-9a-f-]+$")
    )
    card = page.locator("article.card").first
    card_id = card.get_attribute("id")
    # Marks this document: if the page were reloaded, the mark would be gone.
    page.evaluate("window.__sameDocument = true")
    return page.locator(f"#{card_id}"), card_id.removeprefix("creation-")


def assert_no_reload(page: Page) -> None:
    assert page.evaluate("window.__sameDocument") is True


def test_an_image_goes_from_queued_to_a_draft_and_is_published_to_the_feed(
    page: Page, worker, screenshot
):
    username = sign_up(page)
    expect(page.locator("#nav-balance")).to_have_text("100 tokens")
    page.fill("#prompt", "A lighthouse on a cliff at sunset, warm light, crashing waves")
    choose(page, "16:9")
    expect(page.locator("[data-after]")).to_have_text("99")
    expect(page.locator("#prompt-count")).to_have_text("61 / 1000")
    screenshot(page, "01-create-image-form")

    page.get_by_role("button", name=re.compile("Generate image")).click()

    card, creation_id = land_on_new_card(page, username)
    expect(card).to_have_attribute("data-status", "pending")
    expect(card.locator(".badge")).to_have_text("Queued")
    expect(card).to_contain_text("Next in line")
    expect(card).to_contain_text("−1 token")
    expect(page.locator("#nav-balance")).to_have_text("99 tokens")
    screenshot(page, "02-image-pending")

    worker(delay=2)

    expect(card).to_have_attribute("data-status", "draft", timeout=WORKER_TIMEOUT)
    image = card.locator("img")
    expect(image).to_have_attribute("src", f"/media/creations/{creation_id}/media")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 1280", arg=image.element_handle()
    )
    assert image.evaluate("img => img.getBoundingClientRect().height") <= 300
    expect(card.locator("a.card__image-link")).to_have_attribute("target", "_blank")
    expect(card).not_to_have_attribute("hx-trigger", re.compile("."))
    expect(page.locator("#announcer")).to_have_text("Your image is ready.")
    assert_no_reload(page)
    screenshot(page, "03-image-draft")

    card.get_by_text("Publish", exact=True).click()
    caption = card.locator("textarea[name=caption]")
    expect(caption).to_be_visible()
    caption.fill("First light over the cliffs.")
    expect(card.locator(".counter")).to_have_text("28 / 2200")
    screenshot(page, "04-publish-caption")
    card.get_by_role("button", name="Post it").click()

    expect(card).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text("Published.")
    assert Creation.objects.get(pk=creation_id).status == "published"
    screenshot(page, "05-published-toast")

    # Tabs switch with HTMX and push the URL; the post is on top of the Posts tab.
    page.get_by_role("link", name="Posts", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/soho/{username}\?tab=posts$"))
    expect(page.locator(".post").first).to_have_id(f"post-{creation_id}")
    assert_no_reload(page)
    screenshot(page, "06-profile-posts-tab")

    page.goto("/")
    first_post = page.locator(".post").first
    expect(first_post).to_have_id(f"post-{creation_id}")
    expect(first_post).to_contain_text("First light over the cliffs.")
    expect(first_post.locator(".post__author")).to_have_attribute("href", f"/soho/{username}")
    screenshot(page, "07-feed-with-post")


def test_a_video_shows_progress_then_plays_with_poster_and_duration(page: Page, worker, screenshot):
    username = sign_up(page)
    choose(page, "video")
    expect(page.locator("[data-cost-label]")).to_have_text("10 tokens")
    choose(page, "portrait")
    page.fill("#prompt", "Slow drift through a misty pine forest at dawn")
    screenshot(page, "08-create-video-form")
    page.get_by_role("button", name=re.compile("Generate video")).click()

    card, creation_id = land_on_new_card(page, username)
    expect(card).to_have_attribute("data-status", "pending")
    expect(card).to_contain_text("−10 tokens")
    screenshot(page, "09-video-pending")

    # The provider spends four seconds before encoding, so two-second polls see it working.
    worker(delay=4)

    expect(card).to_have_attribute("data-status", "processing", timeout=WORKER_TIMEOUT)
    # The next poll still falls inside the four seconds and shows the job moving.
    expect(card.locator(".badge--processing")).to_have_text(re.compile(r"Processing · [1-9]\d*%"))
    expect(card.locator("[role=progressbar]")).to_be_visible()
    screenshot(page, "10-video-processing")

    expect(card).to_have_attribute("data-status", "draft", timeout=WORKER_TIMEOUT)
    video = card.locator("video")
    expect(video).to_have_attribute("poster", f"/media/creations/{creation_id}/poster")
    # One Play button until played; then the player's own controls.
    card.get_by_role("button", name=re.compile("^Play the video")).click()
    expect(video).to_have_attribute("controls", "")
    expect(card.locator(".duration-badge")).to_have_text(re.compile(r"^\d+s$"))
    poster = page.request.get(f"/media/creations/{creation_id}/poster")
    assert poster.ok and poster.headers["content-type"] == "image/jpeg"
    page.wait_for_function(
        "v => v.readyState >= 1 && v.networkState !== v.NETWORK_LOADING",
        arg=video.element_handle(),
    )
    assert video.evaluate("v => v.videoHeight > v.videoWidth")  # portrait
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("v => v.currentTime > 0.5", arg=video.element_handle())
    video.evaluate("v => { v.pause(); v.currentTime = 0; }")
    assert_no_reload(page)
    screenshot(page, "11-video-draft")


def test_a_blocked_prompt_ends_as_a_red_card_with_the_refund(page: Page, worker, screenshot):
    username = sign_up(page)
    page.fill("#prompt", "A battlefield full of gore")
    page.get_by_role("button", name=re.compile("Generate image")).click()

    card, creation_id = land_on_new_card(page, username)
    expect(page.locator("#nav-balance")).to_have_text("99 tokens")
    worker(delay=2)

    expect(card).to_have_attribute("data-status", "failed", timeout=WORKER_TIMEOUT)
    expect(card).to_have_class(re.compile(r"\bcard--failed\b"))
    expect(card).to_contain_text("The safety filter blocked this prompt.")
    expect(card.locator(".receipt--refund")).to_have_text("+1 refunded")
    expect(page.locator("#nav-balance")).to_have_text("100 tokens")
    expect(page.locator(".balance-card__amount")).to_have_text("100 tokens")
    background = card.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(254, 242, 242)"
    assert_no_reload(page)
    screenshot(page, "12-blocked-prompt-failed")
    assert TokenAccount.objects.get(user__username=username).balance == 100

    card.get_by_role("link", name="Edit prompt").click()
    expect(page.locator("#prompt")).to_have_value("A battlefield full of gore")
    page.go_back()

    # Delete moves it to the trash at once (Undo takes it back), with no question first.
    card = page.locator(f"article#creation-{creation_id}")
    card.get_by_role("button", name="Delete").click()
    expect(card).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text("Moved to the trash.")
    assert Creation.objects.get(pk=creation_id).trashed_at is not None


def test_errors_show_inline_and_a_double_click_creates_once(page: Page, settings, screenshot):
    settings.PHOENIX_WELCOME_TOKENS = 5
    username = sign_up(page)
    prompt = "A paper boat on a rainy street"

    # A video is beyond the balance: its option is disabled, with the reason.
    video = page.locator("input[name=type][value=video]")
    expect(video).to_be_disabled()
    expect(page.locator("#cost-video")).to_have_text("10 tokens: you have 5")
    page.fill("#prompt", prompt)
    # Whatever the page says, the server refuses (a stale page, a hand-made request), and
    # the refusal shows inline.
    video.evaluate(
        """input => {
            input.disabled = false;
            input.checked = true;
            input.dispatchEvent(new Event("change", {bubbles: true}));
            input.form.querySelector("button[type=submit]").disabled = false;
        }"""
    )
    page.get_by_role("button", name=re.compile("Out of tokens|Generate")).click()

    error = page.locator("#create-error")
    expect(error).to_have_text("This needs 10 tokens and you have 5.")
    expect(page.locator("#prompt")).to_have_value(prompt)
    expect(page).to_have_url(re.compile(r"/create$"))
    screenshot(page, "13-create-error-inline")

    # Back to an image with the keyboard, then double-click Generate.
    video.focus()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("input[name=type][value=image]")).to_be_checked()
    page.locator("#prompt").focus()
    page.get_by_role("button", name=re.compile("Generate image")).dblclick()

    # The drafts tab, at the new card (#creation-<id>, which phoenix.js focuses).
    expect(page).to_have_url(
        re.compile(rf"/soho/{username}\?tab=drafts&made=[0-9a-f-]+#creation-[0-9a-f-]+$")
    )
    expect(page.locator("article.card")).to_have_count(1)
    assert Creation.objects.filter(owner__username=username).count() == 1
    assert TokenAccount.objects.get(user__username=username).balance == 4


def test_the_drafts_tab_is_usable_at_phone_width(page: Page, worker, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    username = sign_up(page)
    page.fill("#prompt", "Neon koi fish swimming through a night market")
    screenshot(page, "14-phone-create")
    page.locator("#prompt").press("Control+Enter")

    card, _ = land_on_new_card(page, username)
    worker(delay=0)
    expect(card).to_have_attribute("data-status", "draft", timeout=WORKER_TIMEOUT)
    page.wait_for_function("() => document.querySelector('article.card img').complete")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing overflows sideways
    screenshot(page, "15-phone-drafts")


def set_tab_hidden(page: Page, hidden: bool) -> None:
    """As if the creator switched to another tab (or back)."""
    page.evaluate(
        "hidden => Object.defineProperty(document, 'hidden', "
        "{configurable: true, get: () => hidden})",
        hidden,
    )


def pending_card_with_its_polls(page: Page, prompt: str):
    """A new creator's image card that stays pending (no worker), and the list its polls
    are recorded in as they are sent."""
    username = sign_up(page)
    page.fill("#prompt", prompt)
    page.get_by_role("button", name=re.compile("Generate image")).click()
    card, creation_id = land_on_new_card(page, username)
    polls: list[str] = []
    page.on(
        "request", lambda request: polls.append(request.url) if creation_id in request.url else None
    )
    return card, creation_id, polls


def test_a_pending_card_polls_only_while_the_tab_is_visible(page: Page):
    card, creation_id, polls = pending_card_with_its_polls(page, "A quiet harbour at night")

    set_tab_hidden(page, True)
    sent_before = len(polls)  # a poll may have gone out before the tab was hidden
    page.wait_for_timeout(5_000)
    hidden_polls = len(polls) - sent_before
    set_tab_hidden(page, False)
    page.wait_for_timeout(4_500)

    assert hidden_polls == 0
    assert len(polls) - sent_before >= 1
    expect(card).to_have_attribute("data-status", "pending")
    assert_no_reload(page)


def test_a_card_logged_out_elsewhere_stops_polling_and_says_so(page: Page):
    card, creation_id, polls = pending_card_with_its_polls(page, "A lighthouse in fog")

    page.context.clear_cookies()  # as if the creator logged out in another tab
    # While nothing changes, its polls are answered 204 without looking at the session
    # (creations.polling); the first change it would be shown is refused instead.
    versions.bump(versions.card_key(creation_id))
    expect(page.locator(f"#creation-{creation_id}")).to_contain_text(
        "This card stopped updating", timeout=6_000
    )
    refused = len(polls)
    page.wait_for_timeout(4_500)

    assert refused >= 1 and len(polls) == refused  # no poll after the refusal
    assert_no_reload(page)


def test_a_publish_that_fails_says_why_on_the_card(page: Page, worker):
    username = sign_up(page)
    page.fill("#prompt", "A paper boat on a puddle")
    page.get_by_role("button", name=re.compile("Generate image")).click()
    card, creation_id = land_on_new_card(page, username)
    worker(delay=0)
    expect(card).to_have_attribute("data-status", "draft", timeout=WORKER_TIMEOUT)

    page.context.clear_cookies()
    card.locator("summary", has_text="Publish").click()
    card.get_by_role("button", name="Post it").click()

    expect(card.locator(f"#card-error-{creation_id}")).to_be_visible()
    expect(card.locator(f"#card-error-{creation_id}")).not_to_have_text("")
    assert Creation.objects.get(pk=creation_id).status == "draft"
