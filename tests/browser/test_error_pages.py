"""The error pages a creator can meet, in a real browser at desk and phone sizes: the
site's navigation, what happened, a way back (and for 429 when to retry); a shared draft
that was published sends its viewer on to the post."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from creations import services as creation_services
from sharing import services as sharing_services
from tests.browser.experience import SIZES, look

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]


@pytest.mark.parametrize("size", SIZES)
def test_a_mistyped_link_gets_the_404_page_with_a_way_home(open_page_as, screenshot, size, alice):
    page = open_page_as(alice, size=SIZES[size])
    response = page.goto("/p/not-a-post-at-all")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("There is nothing here")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    look(page, screenshot, f"error-404-{size}")
    page.get_by_role("link", name="Go to the feed").click()
    expect(page).to_have_url(reverse("feed"))


@pytest.mark.parametrize("size", SIZES)
def test_a_form_sent_after_the_session_changed_gets_the_403_page(
    open_page_as, screenshot, size, db
):
    page = open_page_as(size=SIZES[size])
    page.goto(reverse("login"))
    page.context.clear_cookies()  # as if the page had been open while the cookies went
    page.get_by_label("Username").fill("someone")
    page.get_by_label("Password").fill("whatever-it-is")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This form has expired")
    expect(page.get_by_text("reload the page")).to_be_visible()
    look(page, screenshot, f"error-403-{size}")
    page.get_by_role("link", name="Reload the form").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")


@pytest.mark.parametrize("size", SIZES)
def test_too_many_sign_ups_get_the_429_page_with_when_to_retry(
    open_page_as, screenshot, size, settings, db
):
    settings.PHOENIX_SIGNUPS_PER_NETWORK = 1
    settings.PHOENIX_EMAILS_PER_NETWORK = 0  # these sign-ups spend no e-mail allowance
    page = open_page_as(size=SIZES[size])
    for name in ("one-more", "two-more"):
        page.context.clear_cookies()  # the first sign-up logged this browser in
        page.goto(reverse("signup"))
        page.get_by_label("Username").fill(f"{name}-{size}")
        page.get_by_label("E-mail").fill(f"{name}-{size}@example.com")
        page.get_by_label("Password", exact=True).fill("a-long-password-123")
        page.get_by_label("Password confirmation").fill("a-long-password-123")
        page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Slow down a little")
    expect(page.get_by_text("Try again in")).to_be_visible()
    look(page, screenshot, f"error-429-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_a_server_error_gets_the_500_page(open_page_as, screenshot, size, alice, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the feed broke")

    monkeypatch.setattr("community.views.selectors.feed_page", broken)
    page = open_page_as(alice, size=SIZES[size])
    response = page.goto(reverse("feed"))
    assert response.status == 500
    expect(page.get_by_role("heading", level=1)).to_have_text("Something went wrong on our side")
    look(page, screenshot, f"error-500-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_a_shared_draft_since_published_sends_its_viewer_to_the_post(
    open_page_as, screenshot, size, alice, bob, make_creation
):
    draft = make_creation(owner=alice, status="draft", prompt="a lighthouse at dawn")
    sharing_services.share_with_person(creation=draft, owner=alice, username="bob")
    creation_services.creation_publish(creation=draft, caption="Dawn over the bay")

    page = open_page_as(bob, size=SIZES[size])
    page.goto(reverse("shared_draft", args=[draft.id]))
    expect(page.get_by_role("heading", level=1)).to_have_text("This draft has been published")
    look(page, screenshot, f"shared-draft-published-{size}")
    page.get_by_role("link", name="See the post").click()
    expect(page).to_have_url(reverse("post", args=[draft.id]))
    expect(page.get_by_text("Dawn over the bay")).to_be_visible()
