"""More from one idea, in a real browser: 4 variations arrive as one grid, "Keep this one"
and its Undo, and an image draft animated into a video draft; axe-core on each page."""

import re

import pytest
from playwright.sync_api import Page, expect

from creations.models import Creation
from tests.browser.conftest import assert_accessible, serve_axe
from tests.browser.test_creator_flow import WORKER_TIMEOUT, choose, sign_up

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]


def settle(page: Page) -> None:
    page.wait_for_timeout(700)
    page.evaluate("window.scrollTo(0, 0)")


def test_four_variations_arrive_as_a_grid_keep_one_undo_and_animate_it(
    page: Page, worker, screenshot
):
    serve_axe(page.context)
    username = sign_up(page)
    page.fill("#prompt", "A paper crane over a misty lake, soft morning light")
    choose(page, "1:1")
    page.select_option("#count", "4")
    expect(page.locator("[data-cost-label]")).to_have_text("4 tokens")
    expect(page.locator("[data-after]")).to_have_text("96")
    submit = page.get_by_role("button", name=re.compile("Generate 4 images · 4 tokens"))
    expect(submit).to_be_visible()
    assert_accessible(page, "create form with variations")
    screenshot(page, "batch-01-create-4-variations")
    submit.click()

    expect(page).to_have_url(
        re.compile(rf"/soho/{username}\?tab=drafts(&made=[0-9a-f-]+#creation-[0-9a-f-]+)?$")
    )
    batch = page.locator("section.batch")
    expect(batch).to_have_count(1)
    cards = batch.locator("article.card")
    expect(cards).to_have_count(4)
    expect(batch.locator(".batch__title")).to_contain_text("4 variations of")
    screenshot(page, "batch-02-grid-pending")

    worker(delay=0.5)
    for index in range(4):
        expect(cards.nth(index)).to_have_attribute("data-status", "draft", timeout=WORKER_TIMEOUT)
    page.wait_for_function(
        "() => [...document.querySelectorAll('section.batch img')].every(i => i.complete)"
    )
    items = list(Creation.objects.filter(owner__username=username).order_by("batch_index"))
    seeds = [item.seed for item in items]
    assert seeds == [seeds[0] + i for i in range(4)]
    expect(cards.nth(0).locator(".card__seed code")).to_have_text(str(seeds[0]))
    settle(page)
    assert_accessible(page, "drafts tab with a batch of 4")
    screenshot(page, "batch-03-grid-drafts")

    kept = items[2]
    page.locator(f"#keep-{kept.id}").click()
    expect(page.locator("#toasts")).to_contain_text("Kept this one: 3 other variations")
    expect(batch.locator("article.card")).to_have_count(1)
    expect(batch.locator(f"#creation-{kept.id}")).to_be_visible()
    assert Creation.objects.filter(trashed_at__isnull=False).count() == 3
    settle(page)
    screenshot(page, "batch-04-kept-one")

    page.locator("#toasts").get_by_role("button", name="Undo").click()
    expect(page.locator("section.batch article.card")).to_have_count(4)
    expect(page.locator("#toasts")).to_contain_text("3 variations back in your drafts.")
    assert not Creation.objects.filter(trashed_at__isnull=False).exists()
    settle(page)
    screenshot(page, "batch-05-undo")

    # Animate the kept image: a video draft that starts from it.
    page.locator(f"#animate-{kept.id}").click()
    expect(page.locator("article.card--video")).to_have_count(1)
    video = Creation.objects.get(owner__username=username, kind="video")
    assert video.source_image.name
    card = page.locator(f"article#creation-{video.id}")
    expect(card).to_have_attribute("data-status", "draft", timeout=WORKER_TIMEOUT)
    expect(card.locator("video")).to_have_attribute("poster", f"/media/creations/{video.id}/poster")
    page.reload()
    settle(page)
    assert_accessible(page, "drafts tab with the animated video")
    screenshot(page, "batch-06-animated-video")
    expect(page.locator("#nav-balance")).to_have_text("86 tokens")
