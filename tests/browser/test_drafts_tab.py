"""Iterating on the drafts tab, desk and phone: a compact composer above the cards holds
the last prompt and its settings with cost and balance; Generate from it lands back on the
tab with focus on the new card, in view; the bulk actions appear only once something is
selected; failed and canceled cards sit in their own group below the drafts."""

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


@pytest.mark.parametrize("size", SIZES)
def test_iterate_without_leaving_the_drafts(open_page_as, screenshot, size, alice, make_creation):
    make_creation(owner=alice, status="failed", kind="video", prompt="A storm at sea")
    make_creation(owner=alice, status="draft", prompt="A red fox in the snow")
    page = open_page_as(alice, size=SIZES[size])
    page.goto(reverse("profile", args=[alice.username]) + "?tab=drafts")

    composer = page.locator("#composer")
    expect(composer.get_by_label("Prompt")).to_have_value("A red fox in the snow")
    expect(composer.get_by_label("Image · 1")).to_be_checked()
    expect(composer).to_contain_text("Cost 1 token · balance 99")
    # The bulk actions wait for a selection.
    expect(page.get_by_role("button", name="Move to trash")).to_be_hidden()
    # The failed video is in its own group, after the draft.
    heading = page.get_by_role("heading", name=re.compile("^Failed and canceled"))
    expect(heading).to_be_visible()
    order = page.evaluate(
        """() => [...document.querySelectorAll('#tab-items > .card, #tab-items > .grid__group')]
            .map(e => e.matches('.grid__group') ? 'heading' : e.dataset.status)"""
    )
    assert order == ["draft", "heading", "failed"]
    look(page, screenshot, f"drafts-composer-{size}")

    page.locator(".card__select").first.check()
    expect(page.get_by_role("button", name="Move to trash")).to_be_visible()
    page.locator(".card__select").first.uncheck()

    composer.get_by_label("Prompt").fill("A red fox in the snow, at dusk")
    composer.get_by_role("button", name=re.compile("^Generate")).click()
    page.wait_for_url(re.compile(r"tab=drafts&made=.*#creation-"))
    newest = Creation.objects.filter(owner=alice).order_by("-created_at").first()
    assert newest.prompt == "A red fox in the snow, at dusk"
    card = page.locator(f"#creation-{newest.id}")
    expect(card).to_be_focused()
    expect(card).to_be_in_viewport()
    expect(page.locator("#composer").get_by_label("Prompt")).to_have_value(
        "A red fox in the snow, at dusk"
    )
    look(page, screenshot, f"drafts-after-generate-{size}")
