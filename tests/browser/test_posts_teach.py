"""A post that teaches, desk and phone: its prompt with "Use this prompt" (which fills the
composer) and "Copy link"; its owner can hide the prompt."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.experience import SIZES, look

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]


@pytest.mark.parametrize("size", SIZES)
def test_a_post_teaches_its_prompt(open_page_as, screenshot, size, alice, bob, make_creation):
    post = make_creation(
        owner=alice, status="published", prompt="A kite over the dunes", caption="Windy"
    )
    page = open_page_as(bob, size=SIZES[size])
    page.goto(reverse("post", args=[post.id]))
    expect(page.locator(".post__prompt")).to_contain_text("“A kite over the dunes”")
    expect(page.get_by_role("button", name="Copy link to this post")).to_be_visible()
    look(page, screenshot, f"post-prompt-{size}")
    page.get_by_role("link", name="Use this prompt in the composer").click()
    expect(page.get_by_label("Prompt")).to_have_value("A kite over the dunes")


def test_the_owner_hides_the_prompt(open_page_as, screenshot, alice, make_creation):
    post = make_creation(owner=alice, status="published", prompt="A secret recipe")
    page = open_page_as(alice, size=SIZES["phone"])
    page.goto(reverse("post", args=[post.id]))
    page.get_by_role("button", name="Hide the prompt").click()
    expect(page.get_by_text("The prompt is hidden from others.")).to_be_visible()
    look(page, screenshot, "post-prompt-hidden-owner-phone")
