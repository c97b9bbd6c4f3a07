"""The keyboard, desk and phone: a skip link to the cards; after Generate focus is on the
new card (in view on a phone); opening Publish puts the cursor in its caption; a video card
adds one tab stop (Play), not the player's five, before its actions; "Publish at" asks for
minutes."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from creations.models import Creation
from tests.browser.experience import SIZES, look

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]


def drafts_url(user) -> str:
    return reverse("profile", args=[user.username]) + "?tab=drafts"


def test_the_skip_link_leads_to_the_cards(open_page_as, screenshot, alice, make_creation):
    make_creation(owner=alice, status="draft", prompt="A red fox")
    page = open_page_as(alice)
    page.goto(drafts_url(alice))
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the drafts")
    expect(skip).to_be_focused()
    look(page, screenshot, "keyboard-skip-to-cards-desk")
    page.keyboard.press("Enter")
    expect(page.locator("#tab-items")).to_be_focused()
    # The next Tab is inside the first card.
    page.keyboard.press("Tab")
    assert page.evaluate("() => !!document.activeElement.closest('#tab-items .card')")


@pytest.mark.parametrize("size", SIZES)
def test_after_generate_focus_is_on_the_new_card_in_view(
    open_page_as, screenshot, size, alice, worker
):
    page = open_page_as(alice, size=SIZES[size])
    page.goto(reverse("create"))
    page.get_by_label("Prompt").fill("A kite over the dunes")
    page.locator(".create-form__submit").click()
    page.wait_for_url(re.compile(r"tab=drafts&made=.*#creation-"))
    created = Creation.objects.get(owner=alice)
    card = page.locator(f"#creation-{created.id}")
    expect(card).to_be_focused()
    expect(card).to_be_in_viewport()
    look(page, screenshot, f"keyboard-after-generate-{size}")


def test_a_video_card_has_one_tab_stop_before_its_actions(
    open_page_as, screenshot, alice, make_creation
):
    video = make_creation(owner=alice, status="draft", kind="video", prompt="Waves")
    page = open_page_as(alice, size=SIZES["phone"])
    page.goto(drafts_url(alice))
    card = page.locator(f"#creation-{video.id}")
    play = card.get_by_role("button", name=re.compile("^Play the video"))
    play.focus()
    page.keyboard.press("Tab")
    # Straight on to the card's own controls (its checkbox), not into a player.
    assert page.evaluate("() => document.activeElement.matches('.card__select')")
    look(page, screenshot, "keyboard-video-card-phone")
    play.click()
    expect(card.locator("video")).to_have_attribute("controls", "")


def test_opening_publish_puts_the_cursor_in_the_caption_and_asks_minutes(
    open_page_as, alice, make_creation
):
    draft = make_creation(owner=alice, status="draft", prompt="A lighthouse")
    page = open_page_as(alice)
    page.goto(drafts_url(alice))
    card = page.locator(f"#creation-{draft.id}")
    card.locator("summary", has_text="Publish").click()
    expect(card.get_by_label("Caption")).to_be_focused()
    expect(card.get_by_label(re.compile("^Publish at"))).to_have_attribute("step", "60")
