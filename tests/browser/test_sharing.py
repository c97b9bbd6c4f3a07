"""Sharing in a real browser: alice shares a draft with bob, bob finds it under "Shared
with me" and comments, alice sees the comment appear without a reload and replies."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from profiles.services import creator_signup
from tests.browser.test_lifecycle_flow import make_drafts

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]


def log_in(browser: Browser, live_server, username: str, *, width: int = 1280) -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"{username}-password-123")
    page.get_by_role("button", name=re.compile("Log in", re.I)).click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    return page


def settle(page: Page) -> None:
    page.wait_for_timeout(700)
    page.evaluate("window.scrollTo(0, 0)")


def test_alice_shares_a_draft_bob_comments_and_alice_replies_live(
    browser: Browser, live_server, screenshot
):
    creator_signup(username="alice", password="alice-password-123")
    creator_signup(username="bob", password="bob-password-123")
    (draft,) = make_drafts("alice", "A paper boat on a rainy window sill, soft morning light")

    alice = log_in(browser, live_server, "alice")
    alice.goto("/soho/alice?tab=drafts")
    alice.locator(f"#share-{draft.id}").click()
    expect(alice).to_have_url(re.compile(rf"/creations/{draft.id}/sharing$"))
    alice.fill("#share-username", "nobody-here")
    alice.get_by_role("button", name="Share", exact=True).click()
    expect(alice.locator("#share-error")).to_have_text("There is no creator called “nobody-here”.")
    alice.fill("#share-username", "bob")
    alice.get_by_role("button", name="Share", exact=True).click()
    expect(alice.locator("#share-panel .share__item")).to_have_count(1)
    expect(alice.locator("#share-panel .share__item")).to_contain_text("bob")
    settle(alice)
    screenshot(alice, "sharing-01-alice-shares-with-bob")

    alice.get_by_role("link", name="Open the shared page and its comments").click()
    expect(alice.locator("h1")).to_have_text("Your draft, as they see it")
    alice.evaluate("window.__sameDocument = true")

    bob = log_in(browser, live_server, "bob")
    bob.goto("/soho/bob")
    bob.get_by_role("link", name="Shared with me").click()
    expect(bob).to_have_url(re.compile(r"\?tab=shared$"))
    card = bob.locator(f"#shared-{draft.id}")
    expect(card).to_contain_text("by alice")
    bob.wait_for_function(
        "() => [...document.querySelectorAll('#tab-items img')].every(i => i.complete)"
    )
    settle(bob)
    screenshot(bob, "sharing-02-bob-shared-with-me")

    card.get_by_role("link", name=re.compile("Open and comment")).click()
    expect(bob.locator("h1")).to_have_text("A draft shared by alice")
    expect(bob.locator(".shared__media img")).to_be_visible()
    # The file reached bob's browser (and is an image): loaded, with a width of its own.
    # A property read, not a predicate: a string predicate is evaluated with eval(), which
    # the page's CSP refuses whenever it is not true at the first try.
    expect(bob.locator(".shared__media img")).to_have_js_property("complete", True)
    assert bob.evaluate("document.querySelector('.shared__media img').naturalWidth") > 0
    bob.evaluate("window.__sameDocument = true")
    bob.fill("#comment-text", "Love the light! <b>not bold</b>")
    expect(bob.locator("#comment-count")).to_have_text("31 / 1000")
    bob.get_by_role("button", name="Post comment").click()
    expect(bob.locator("#thread .comment")).to_have_count(1)
    expect(bob.locator("#thread .comment__text")).to_have_text("Love the light! <b>not bold</b>")
    expect(bob.locator("#comment-text")).to_have_value("")

    # alice's page was open all along: the thread polls, the comment arrives by itself.
    expect(alice.locator("#thread .comment")).to_have_count(1, timeout=10_000)
    assert alice.evaluate("window.__sameDocument") is True
    alice.fill("#comment-text", "Thanks bob! I will try a warmer version too.")
    alice.get_by_role("button", name="Post comment").click()
    expect(alice.locator("#thread .comment")).to_have_count(2)
    expect(alice.locator("#thread .comment").nth(0)).to_contain_text("owner")  # newest first
    settle(alice)
    screenshot(alice, "sharing-03-alice-sees-and-replies")

    expect(bob.locator("#thread .comment")).to_have_count(2, timeout=10_000)
    assert bob.evaluate("window.__sameDocument") is True
    settle(bob)
    screenshot(bob, "sharing-04-bob-sees-the-reply")

    phone = log_in(browser, live_server, "bob", width=390)
    phone.goto(f"/creations/{draft.id}/shared")
    expect(phone.locator("#thread .comment")).to_have_count(2)
    phone.wait_for_function("() => document.querySelector('.shared__media img').complete")
    settle(phone)
    screenshot(phone, "sharing-05-bob-phone-390")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    # alice revokes: bob's open page stops updating and says why; a reload is a 404.
    alice.goto(f"/creations/{draft.id}/sharing")
    alice.get_by_role("button", name=re.compile("Revoke")).click()
    expect(alice.locator("#share-panel")).to_contain_text("Only you.")
    expect(bob.locator("#thread")).to_contain_text("no longer shared with you", timeout=10_000)
    assert bob.goto(f"/creations/{draft.id}/shared").status == 404
    for page in (alice, bob, phone):
        page.context.close()


def test_bob_declines_nothing_but_blocks_alice_and_unblocks_her_in_settings(
    browser: Browser, live_server, screenshot
):
    from sharing import services
    from tests.browser.conftest import assert_accessible, serve_axe

    alice_user = creator_signup(username="alice", password="alice-password-123")
    creator_signup(username="bob", password="bob-password-123")
    (draft,) = make_drafts("alice", "A lighthouse in fog, long exposure")
    services.share_with_person(creation=draft, owner=alice_user, username="bob")

    bob = log_in(browser, live_server, "bob")
    serve_axe(bob.context)
    bob.goto(f"/creations/{draft.id}/shared")
    expect(bob.get_by_role("button", name="Decline this draft")).to_be_visible()
    settle(bob)
    screenshot(bob, "sharing-04-bob-can-decline-or-block")
    assert_accessible(bob, "shared draft with decline and block")

    bob.get_by_role("button", name="Block alice").click()
    expect(bob).to_have_url(re.compile(r"\?tab=shared$"))
    expect(bob.locator("body")).to_contain_text("You blocked alice")
    bob.goto("/settings/blocked")
    expect(bob.locator(".blocked-list li")).to_have_count(1)
    settle(bob)
    screenshot(bob, "sharing-05-blocked-people")
    assert_accessible(bob, "blocked people")
    bob.get_by_role("button", name="Unblock alice").click()
    expect(bob.locator("body")).to_contain_text("You unblocked alice.")
    expect(bob.locator(".blocked-list")).to_have_count(0)
