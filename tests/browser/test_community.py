"""Community in a real browser: bob finds alice's post on Explore, likes it, comments on
its page, follows alice from her page and sees her post under Following; alice is told of
the comment. Every state is screenshotted and checked with axe-core."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from community.models import PostLike
from creations import services
from creations.models import Creation
from profiles.services import creator_signup
from tests.browser.conftest import assert_accessible, serve_axe
from tests.browser.test_lifecycle_flow import make_drafts
from tests.conftest import run_worker_burst

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
    serve_axe(context)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"{username}-password-123")
    page.get_by_role("button", name=re.compile("Log in", re.I)).click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    return page


def settle(page: Page) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('main img')].every(img => img.complete)"
    )
    page.wait_for_timeout(500)
    page.evaluate("window.scrollTo(0, 0)")


def publish(*drafts: Creation, captions: list[str]) -> None:
    for draft, caption in zip(drafts, captions, strict=True):
        services.creation_publish(creation=draft, caption=caption)


def test_bob_likes_comments_and_follows_on_alices_post(browser: Browser, live_server, screenshot):
    creator_signup(username="alice", password="alice-password-123")
    creator_signup(username="bob", password="bob-password-123")
    lighthouse, boat = make_drafts(
        "alice",
        "A lighthouse at dawn over a calm sea, soft pink light",
        "A paper boat on a rainy window sill",
    )
    publish(lighthouse, boat, captions=["Morning glow at the lighthouse", "Rainy day boat"])

    bob = log_in(browser, live_server, "bob")
    bob.goto("/explore")
    expect(bob.locator("h1")).to_have_text("Explore")
    expect(bob.locator("#explore-list article.post")).to_have_count(2)
    settle(bob)
    assert_accessible(bob, "Explore")
    screenshot(bob, "community-01-explore")

    # Like the older post: it climbs to the top of Explore at once.
    like = bob.locator(f"#like-{lighthouse.id}")
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()
    liked = bob.locator(f"#like-{lighthouse.id}")
    expect(liked).to_have_attribute("aria-pressed", "true")
    expect(liked.locator("[data-like-count]")).to_have_text("1")
    assert PostLike.objects.filter(post=lighthouse).count() == 1
    settle(bob)
    assert_accessible(bob, "Explore, liked")
    screenshot(bob, "community-02-liked")
    bob.reload()
    expect(bob.locator("#explore-list article.post").first).to_have_id(f"post-{lighthouse.id}")

    # Its page: comment.
    bob.goto(f"/p/{lighthouse.id}")
    bob.fill("#comment-text", "The light on the water is lovely!")
    bob.get_by_role("button", name="Post comment").click()
    expect(bob.locator("#comments .comment")).to_have_count(1)
    expect(bob.locator("#comments-title")).to_have_text("1 comment")
    expect(bob.locator("#comment-text")).to_have_value("")
    expect(bob.locator(f"#social-{lighthouse.id}")).to_contain_text("1 comment")
    settle(bob)
    assert_accessible(bob, "post page with a comment")
    screenshot(bob, "community-03-comment")

    # Alice's page: follow, then her posts under Following.
    bob.goto("/soho/alice")
    expect(bob.locator("#follow-button")).to_have_text("Follow")
    bob.locator("#follow-button").click()
    expect(bob.locator("#follow-button")).to_have_text("Following")
    expect(bob.locator("[data-followers]")).to_have_text("1")
    # Each of her posts with its likes and comments, as in the feed.
    expect(bob.locator(f"#like-{lighthouse.id} [data-like-count]")).to_have_text("1")
    expect(bob.locator(f"#like-{lighthouse.id}")).to_have_attribute("aria-pressed", "true")
    expect(bob.locator(f"#social-{lighthouse.id}")).to_contain_text("1 comment")
    expect(bob.locator(f"#like-{boat.id} [data-like-count]")).to_have_text("0")
    settle(bob)
    assert_accessible(bob, "profile, following")
    screenshot(bob, "community-04-following")
    bob.locator(f"#like-{boat.id}").click()
    expect(bob.locator(f"#like-{boat.id} [data-like-count]")).to_have_text("1")

    bob.goto("/?tab=following")
    expect(bob.locator("#feed-list article.post")).to_have_count(2)
    bob.fill("#feed-search", "boat")
    expect(bob.locator("#feed-list article.post")).to_have_count(1)
    expect(bob).to_have_url(re.compile(r"q=boat"))
    settle(bob)
    assert_accessible(bob, "feed search")
    screenshot(bob, "community-05-search")

    # Alice is told of the comment (by the job), and reads it on her bell's page.
    run_worker_burst()
    alice = log_in(browser, live_server, "alice")
    alice.goto("/notifications")
    expect(alice.locator("main")).to_contain_text(
        "bob commented on your post: “The light on the water is lovely!”"
    )
    settle(alice)
    assert_accessible(alice, "notifications")
    screenshot(alice, "community-06-alice-told")
