"""Actions that ask first use an in-page dialog, desk and phone: its buttons name the
outcome ("Stop generating" / "Keep it"), Escape closes it and focus goes back to the card;
a stale Undo is disabled and says why rather than ending in an error."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from creations import services
from creations.models import Creation
from tests.browser.experience import SIZES, look

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]


def drafts_url(user) -> str:
    return reverse("profile", args=[user.username]) + "?tab=drafts"


def toast_covers_buttons(page) -> list[str]:
    """The card buttons and links (in view) that a toast lies over."""
    return page.evaluate(
        """() => {
            const toasts = [...document.querySelectorAll("#toasts .toast")]
                .map(t => t.getBoundingClientRect());
            const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom
                && b.top < a.bottom;
            return [...document.querySelectorAll(".card button, .card a.button, .card summary")]
                .filter(b => b.offsetParent !== null)
                .filter(b => toasts.some(t => hit(t, b.getBoundingClientRect())))
                .map(b => b.textContent.trim());
        }"""
    )


@pytest.mark.parametrize("size", SIZES)
def test_cancel_asks_in_page_and_escape_keeps_it(
    open_page_as, screenshot, size, alice, make_creation
):
    video = make_creation(owner=alice, status="pending", kind="video", prompt="Waves at dusk")
    page = open_page_as(alice, size=SIZES[size])
    page.goto(drafts_url(alice))
    card = page.locator(f"#creation-{video.id}")
    cancel = card.get_by_role("link", name="Cancel · refund 10 tokens")

    cancel.click()
    dialog = page.get_by_role("dialog", name="Stop generating this video?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Your 10 tokens come back.")
    expect(dialog.get_by_role("button", name="Keep it")).to_be_focused()
    look(page, screenshot, f"dialog-cancel-{size}")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(card).to_be_focused()
    assert Creation.objects.get(pk=video.pk).status == "pending"

    cancel.click()
    dialog.get_by_role("button", name="Keep it").click()
    expect(card).to_be_focused()
    assert Creation.objects.get(pk=video.pk).status == "pending"

    other = make_creation(owner=alice, status="draft", prompt="A second card")
    page.reload()
    card.get_by_role("link", name="Cancel · refund 10 tokens").click()
    dialog.get_by_role("button", name="Stop generating").click()
    expect(card).to_have_attribute("data-status", "canceled")
    expect(page.locator("#nav-balance")).to_have_text("99 tokens")  # the other card's 1 spent
    # A toast (Delete's, with Undo) covers none of the cards' buttons, whatever the scroll.
    page.locator(f"#creation-{other.pk}").get_by_role("button", name="Delete").click()
    expect(page.locator("#toasts .toast")).to_have_count(1)
    for scroll in (0, 10_000):
        page.evaluate("(y) => window.scrollTo(0, y)", scroll)
        assert toast_covers_buttons(page) == [], (size, scroll, other.pk)


def test_delete_forever_asks_in_page(open_page_as, screenshot, alice, make_creation):
    trashed = make_creation(owner=alice, status="draft", prompt="A red fox")
    services.creation_trash(creation=trashed)
    page = open_page_as(alice, size=SIZES["phone"])
    page.goto(reverse("profile", args=[alice.username]) + "?tab=trash")
    page.locator(f"#creation-{trashed.id}").get_by_role("link", name="Delete forever").click()
    dialog = page.get_by_role("dialog", name="Delete this image forever?")
    expect(dialog.get_by_role("button", name="Delete forever")).to_be_visible()
    look(page, screenshot, "dialog-delete-forever-phone")
    dialog.get_by_role("button", name="Delete forever").click()
    expect(page.locator(f"#creation-{trashed.id}")).to_have_count(0)
    assert Creation.objects.get(pk=trashed.pk).purged_at is not None


@pytest.mark.parametrize("size", SIZES)
def test_a_stale_undo_is_disabled_and_says_why(
    open_page_as, screenshot, size, alice, make_creation
):
    draft = make_creation(owner=alice, status="draft", prompt="A lighthouse")
    page = open_page_as(alice, size=SIZES[size])
    page.goto(drafts_url(alice))
    page.locator(f"#creation-{draft.id}").get_by_role("button", name="Delete").click()
    undo = page.locator("#toasts").get_by_role("button", name="Undo")
    expect(undo).to_be_visible()
    # Meanwhile, in another tab, it was deleted forever.
    services.creation_purge(creation=Creation.objects.get(pk=draft.pk))
    undo.click()
    toast = page.locator("#toasts .toast").last
    expect(toast).to_contain_text("Nothing to undo")
    expect(toast.get_by_role("button", name="Undo")).to_be_disabled()
    expect(page.locator(".toast--error")).to_have_count(0)
    look(page, screenshot, f"undo-stale-{size}")
