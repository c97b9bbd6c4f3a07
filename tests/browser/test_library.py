"""The library in a real browser: alice searches her drafts as she types, narrows them with
chips (the URL follows, Back gives the earlier state), stars one, makes a board, puts two
cards on it and shares it; bob opens the board's link and sees those two, read-only."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from creations import services
from profiles.services import creator_signup
from tests.browser.conftest import assert_accessible, serve_axe
from tests.browser.test_lifecycle_flow import make_drafts
from tests.browser.test_sharing import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]


def settle(page: Page) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('#tab-items img')].every(img => img.complete)"
    )
    page.wait_for_timeout(700)
    page.evaluate("window.scrollTo(0, 0)")


def cards(page: Page):
    return page.locator("#tab-items article.card")


def test_alice_searches_filters_stars_and_shares_a_board(browser: Browser, live_server, screenshot):
    creator_signup(username="alice", password="alice-password-123")
    creator_signup(username="bob", password="bob-password-123")
    lighthouse, fox, harbour, post = make_drafts(
        "alice",
        "A lighthouse at dusk, long exposure",
        "A red fox asleep in fresh snow",
        "A harbour at night with a lighthouse beam",
        "Neon city street in the rain",
    )
    services.creation_publish(creation=post, caption="Rainy night walk")

    alice = log_in(browser, live_server, "alice")
    serve_axe(alice.context)
    alice.goto("/soho/alice?tab=drafts")
    expect(cards(alice)).to_have_count(3)

    # Typing searches by itself, after a pause: a part of a word is enough.
    alice.fill("#library-q", "lightho")
    expect(cards(alice)).to_have_count(2)
    expect(alice).to_have_url(re.compile(r"q=lightho"))
    expect(alice.locator("#library-q")).to_be_focused()
    expect(alice.locator(".library__status")).to_contain_text("matching “lightho”")
    # A whole word in another form, and the caption of a post: the whole library is searched.
    alice.fill("#library-q", "walks")
    expect(cards(alice)).to_have_count(1)
    expect(cards(alice).first).to_have_attribute("data-status", "published")
    alice.fill("#library-q", "")
    alice.locator("#library-q").press("Enter")
    expect(cards(alice)).to_have_count(3)

    # Star the fox, on its card.
    star = alice.locator(f"#star-{fox.id}")
    expect(star).to_have_attribute("aria-pressed", "false")
    star.click()
    expect(alice.locator(f"#star-{fox.id}")).to_have_attribute("aria-pressed", "true")

    # Chips: videos (none), then any type and starred only.
    alice.locator("label.chip", has_text="Video").click()
    expect(alice).to_have_url(re.compile(r"type=video"))
    expect(alice.locator("#tab-items .empty__title")).to_have_text("Nothing here matches.")
    alice.locator("label.chip", has_text="Any").first.click()
    expect(cards(alice)).to_have_count(3)
    expect(alice).not_to_have_url(re.compile(r"type=video"))
    alice.locator("label.chip", has_text="Starred only").click()
    expect(alice).to_have_url(re.compile(r"starred=1"))
    expect(cards(alice)).to_have_count(1)
    expect(cards(alice).first).to_have_id(f"creation-{fox.id}")
    settle(alice)
    screenshot(alice, "library-01-starred-chip")
    assert_accessible(alice, "the drafts tab with the starred chip")

    # Back: the page of the URL before (any type, not only starred), its chips as they were.
    alice.go_back()
    expect(alice).not_to_have_url(re.compile(r"starred=1"))
    expect(alice).not_to_have_url(re.compile(r"type=video"))
    # (The page of that URL comes from the server: on a busy machine it may take a while.)
    expect(cards(alice)).to_have_count(3, timeout=15_000)
    expect(alice.locator("#library-search input[name=starred]")).not_to_be_checked()

    # A board, from the sidebar; the two lighthouse cards go on it.
    alice.goto("/soho/alice?tab=drafts")
    alice.locator(".boards__new summary").click()
    alice.fill("#new-board-name", "Coast")
    alice.get_by_role("button", name="Make board").click()
    expect(alice.locator("#library-boards")).to_contain_text("Coast")
    for creation in (lighthouse, harbour):
        alice.locator(f"#select-{creation.id}").check()
    alice.select_option("#bulk-board", label="Coast")
    alice.get_by_role("button", name="Add to board").click()
    expect(alice.locator("#toasts")).to_contain_text("2 added to “Coast”.")
    alice.locator("#library-boards").get_by_role("link", name=re.compile("Coast")).click()
    expect(alice.locator(".board-head__title")).to_have_text("Board: Coast")
    expect(cards(alice)).to_have_count(2)
    settle(alice)
    screenshot(alice, "library-02-board")
    assert_accessible(alice, "a board on the drafts tab")
    alice.set_viewport_size({"width": 390, "height": 844})
    settle(alice)
    screenshot(alice, "library-02b-board-390")
    assert_accessible(alice, "a board on the drafts tab, on a phone")
    alice.set_viewport_size({"width": 1280, "height": 900})

    alice.get_by_role("link", name="Share by link").click()
    alice.get_by_role("button", name="Create link").click()
    link = alice.locator("#new-link").input_value()
    assert "/s/" in link
    settle(alice)
    screenshot(alice, "library-03-board-link")
    assert_accessible(alice, "a board's links")

    bob = log_in(browser, live_server, "bob")
    serve_axe(bob.context)
    bob.goto(link.split(live_server.url, 1)[-1])
    expect(bob.locator("h1")).to_have_text("Coast")
    items = bob.locator(".shared-board article")
    expect(items).to_have_count(2)
    expect(bob.locator(".shared-board")).not_to_contain_text("fox")
    bob.wait_for_function(
        "() => [...document.querySelectorAll('.shared-board img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    bob.wait_for_timeout(500)
    screenshot(bob, "library-04-bob-sees-the-board")
    assert_accessible(bob, "a shared board")
