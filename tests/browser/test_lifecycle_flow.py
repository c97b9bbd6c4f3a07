"""What a creator does after Generate, in a real browser against the live server: cancel a
video while it renders, delete and undo, bulk publish, schedule a post and watch RQ's
scheduler publish it, edit a caption, restore from the trash.

The browser runs in India's time zone (UTC+05:30, no daylight saving), so every time the
creator types or reads is a local one, and the server must store and show it in UTC.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from creations import services
from creations.models import Creation
from creations.validation import CreationRequest
from tests.browser.test_creator_flow import (
    WORKER_TIMEOUT,
    assert_no_reload,
    choose,
    land_on_new_card,
    sign_up,
)
from tests.conftest import run_worker_burst
from tokens.models import TokenAccount

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]

TIME_ZONE = "Asia/Kolkata"
OFFSET = timedelta(hours=5, minutes=30)


@pytest.fixture
def context_options() -> dict:
    return {"timezone_id": TIME_ZONE}


def make_drafts(username: str, *prompts: str) -> list[Creation]:
    """Real drafts (real images from the local provider), made through the services and
    a worker burst in this process, oldest first."""
    owner = get_user_model().objects.get(username=username)
    made = [
        services.creation_submit(user=owner, request=CreationRequest("image", prompt, "1:1"))[0]
        for prompt in prompts
    ]
    run_worker_burst()
    drafts = [Creation.objects.get(pk=creation.pk) for creation in made]
    assert {draft.status for draft in drafts} == {"draft"}
    return drafts


def open_tab(page: Page, username: str, tab: str) -> None:
    page.goto(f"/soho/{username}?tab={tab}")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#tab-items img')].every(img => img.complete)"
    )


def settle(page: Page) -> None:
    """Before a screenshot: toasts faded in, and the page at its top (a sticky header would
    be drawn mid-page in a full-page shot of a scrolled page)."""
    page.wait_for_timeout(900)
    page.evaluate("window.scrollTo(0, 0)")


def card_of(page: Page, creation: Creation):
    return page.locator(f"article#creation-{creation.id}")


def test_a_processing_video_is_canceled_and_refunded_on_the_card_and_in_the_nav(
    page: Page, worker, screenshot
):
    username = sign_up(page)
    choose(page, "video")
    page.fill("#prompt", "A slow pan across a glacier, which I did not mean to order")
    page.get_by_role("button", name=re.compile("Generate video")).click()
    card, creation_id = land_on_new_card(page, username)
    expect(page.locator("#nav-balance")).to_have_text("90 tokens")

    # The provider takes its time, so the video is still rendering when it is canceled.
    worker(delay=30)
    expect(card).to_have_attribute("data-status", "processing", timeout=WORKER_TIMEOUT)
    cancel = card.get_by_role("link", name=re.compile("^Cancel"))
    expect(cancel).to_have_text("Cancel · refund 10 tokens")
    settle(page)
    screenshot(page, "lifecycle-01-video-processing-with-cancel")

    cancel.click()
    # The in-page dialog, its buttons naming the outcome.
    dialog = page.get_by_role("dialog", name="Stop generating this video?")
    expect(dialog).to_contain_text("Your 10 tokens come back.")
    dialog.get_by_role("button", name="Stop generating").click()

    expect(card).to_have_attribute("data-status", "canceled")
    expect(card.locator(".badge--canceled")).to_have_text("Canceled · refunded")
    expect(card.locator(".receipt--refund")).to_have_text("+10 refunded")
    expect(card).to_contain_text("Canceled. Your tokens were refunded.")
    expect(page.locator("#nav-balance")).to_have_text("100 tokens")
    expect(page.locator(".balance-card__amount")).to_have_text("100 tokens")
    expect(page.locator("#announcer")).to_have_text("Canceled. 10 tokens refunded.")
    expect(card).to_be_focused()
    expect(card).not_to_have_attribute("hx-trigger", re.compile("."))
    # What is left to do with it: try again, edit the prompt, or delete it.
    expect(card.get_by_role("button", name="Try again · 10 tokens")).to_be_visible()
    expect(card.get_by_role("button", name="Delete")).to_be_visible()
    assert_no_reload(page)
    settle(page)
    screenshot(page, "lifecycle-02-video-canceled-refunded")

    # The stopped job never turns it into a draft, and it was refunded once.
    page.wait_for_timeout(3_000)
    creation = Creation.objects.get(pk=creation_id)
    assert creation.status == "canceled"
    assert creation.ledger_entries.filter(kind="refund").count() == 1
    assert TokenAccount.objects.get(user__username=username).balance == 100


def test_delete_moves_a_draft_to_the_trash_and_undo_puts_it_back_after_ten_seconds(
    page: Page, screenshot
):
    username = sign_up(page)
    older, newer = make_drafts(username, "A red kite over the hills", "A blue door in Jaipur")
    open_tab(page, username, "drafts")
    page.evaluate("window.__sameDocument = true")
    order = page.locator("#tab-items > article.card")
    expect(order).to_have_count(2)
    expect(order.first).to_have_id(f"creation-{newer.id}")

    card_of(page, newer).get_by_role("button", name="Delete").click()

    expect(card_of(page, newer)).to_have_count(0)
    toast = page.locator(".toast--undo")
    expect(toast).to_contain_text("Moved to the trash.")
    undo = toast.get_by_role("button", name="Undo")
    expect(undo).to_be_focused()
    expect(toast).to_have_css("opacity", "1")  # focused at once, and still shown
    expect(page.locator("#announcer")).to_have_text("Moved to the trash.")
    assert Creation.objects.get(pk=newer.pk).trashed_at is not None
    settle(page)
    screenshot(page, "lifecycle-03-deleted-with-undo")

    # Focus elsewhere, pointer away: the toast still has to be there ten seconds later.
    page.locator("#tab-title").focus()
    page.mouse.move(5, 5)
    page.wait_for_timeout(10_500)
    expect(undo).to_be_visible()
    expect(toast).to_have_css("opacity", "1")
    undo.click()

    expect(card_of(page, newer)).to_be_visible()
    expect(order.first).to_have_id(f"creation-{newer.id}")  # back in its own place
    expect(card_of(page, newer)).to_be_focused()
    expect(page.locator(".toast--undo")).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text("Restored.")
    restored = Creation.objects.get(pk=newer.pk)
    assert (restored.status, restored.trashed_at) == ("draft", None)
    assert_no_reload(page)
    settle(page)
    screenshot(page, "lifecycle-04-undo-put-it-back")
    assert Creation.objects.get(pk=older.pk).trashed_at is None


def test_three_drafts_are_published_at_once_with_one_caption(page: Page, screenshot):
    username = sign_up(page)
    drafts = make_drafts(username, "Dawn over the ghats", "Noon at the fort", "Dusk on the lake")
    owner = get_user_model().objects.get(username=username)
    pending, _ = services.creation_submit(
        user=owner, request=CreationRequest("image", "Still in the queue", "1:1")
    )
    open_tab(page, username, "drafts")
    page.evaluate("window.__sameDocument = true")
    bulk = page.locator("#bulk-form")
    count = bulk.locator("[data-bulk-count]")
    publish = bulk.get_by_role("button", name="Publish", exact=True)
    caption = bulk.get_by_label("Caption for all")
    # Nothing selected: the bar only says how to start, its actions wait for a selection.
    expect(count).to_have_text("None selected. Tick the cards to act on several at once.")
    expect(publish).to_be_hidden()
    expect(caption).to_be_hidden()
    settle(page)
    screenshot(page, "lifecycle-05a-drafts-nothing-selected")

    # Newest first: the pending one, then the drafts from the last made to the first.
    page.get_by_label("Select “Dusk on the lake”").click()
    expect(publish).to_be_visible()
    expect(publish).to_be_enabled()
    page.get_by_label("Select “Dawn over the ghats”").click(modifiers=["Shift"])
    expect(count).to_have_text("3 selected")
    # And the pending one, from the keyboard.
    page.get_by_label("Select “Still in the queue”").focus()
    page.keyboard.press("Space")
    expect(count).to_have_text("4 selected")
    expect(page.get_by_label("Select all on this page")).to_be_checked()
    caption.fill("A day in three pictures")
    settle(page)
    screenshot(page, "lifecycle-05-bulk-selection")

    publish.click()

    summary = page.locator(".bulk__summary")
    expect(summary).to_have_text("3 published, 1 skipped: still generating.")
    expect(summary).to_be_focused()
    expect(page.locator("#tab-items > article.card")).to_have_count(1)
    expect(card_of(page, pending)).to_be_visible()
    expect(page.get_by_label("Select “Still in the queue”")).not_to_be_checked()  # a new selection
    expect(count).to_contain_text("None selected")
    expect(publish).to_be_hidden()  # and the actions wait for it again
    assert_no_reload(page)
    settle(page)
    screenshot(page, "lifecycle-06-bulk-published")
    for draft in drafts:
        draft.refresh_from_db()
        assert (draft.status, draft.caption) == ("published", "A day in three pictures")
    assert Creation.objects.get(pk=pending.pk).status == "pending"

    page.get_by_role("link", name="Posts", exact=True).click()
    expect(page.locator(".post")).to_have_count(3)
    # And in the feed, each with the caption (published together: one moment, no order).
    page.goto("/")
    for draft in reversed(drafts):
        post = page.locator(f"#post-{draft.id}")
        expect(post).to_be_visible()
        expect(post).to_contain_text("A day in three pictures")
    settle(page)
    screenshot(page, "lifecycle-06a-bulk-published-in-the-feed")


def minute_ahead(page: Page, *, at_least_seconds: int) -> tuple[str, float]:
    """What a creator picks in "Publish at" (hours and minutes, the browser's local time):
    the first whole minute at least `at_least_seconds` from now. With how many seconds
    are left until then."""
    typed, seconds_left = page.evaluate(
        """margin => {
            const d = new Date(Date.now() + margin * 1000);
            if (d.getSeconds() || d.getMilliseconds()) {
                d.setSeconds(0, 0);
                d.setMinutes(d.getMinutes() + 1);
            }
            const p = n => String(n).padStart(2, "0");
            const typed = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}` +
                `T${p(d.getHours())}:${p(d.getMinutes())}`;
            return [typed, (d.getTime() - Date.now()) / 1000];
        }""",
        at_least_seconds,
    )
    return typed, seconds_left


def minutes_ago(page: Page, minutes: int) -> str:
    """A whole minute in the browser's local time, `minutes` ago."""
    return page.evaluate(
        """minutes => {
            const d = new Date(Date.now() - minutes * 60000);
            const p = n => String(n).padStart(2, "0");
            return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}` +
                `T${p(d.getHours())}:${p(d.getMinutes())}`;
        }""",
        minutes,
    )


def test_a_draft_scheduled_for_the_next_minute_is_published_by_the_scheduler(
    page: Page, worker, screenshot
):
    username = sign_up(page)
    (draft,) = make_drafts(username, "Fireworks over the harbour")
    worker(delay=0, scheduler=True)
    open_tab(page, username, "drafts")
    page.evaluate("window.__sameDocument = true")
    card = card_of(page, draft)

    card.locator("summary", has_text="Publish").click()
    card.get_by_label("Caption").fill("Happy new year")
    # (ICU still names the zone by its old spelling.)
    expect(card.locator("[data-tz-hint]")).to_have_text(
        re.compile(r"Your time zone: Asia/(Kolkata|Calcutta) \(UTC\+05:30\)\.$")
    )
    # "Publish at" takes hours and minutes: the soonest is the next whole minute, with a
    # margin for the request to reach the server before it.
    publish_at = card.get_by_label("Publish at")
    expect(publish_at).to_have_attribute("step", "60")
    typed, seconds_left = minute_ahead(page, at_least_seconds=10)
    publish_at.fill(typed)
    expect(publish_at).to_have_value(typed)
    assert publish_at.evaluate("field => field.validity.valid")  # the browser lets it go
    expect(card.get_by_role("button", name="Schedule")).to_be_visible()
    settle(page)
    screenshot(page, "lifecycle-07-schedule-form")
    card.get_by_role("button", name="Schedule").click()

    expect(card).to_have_attribute("data-status", "scheduled")
    local = datetime.fromisoformat(typed)
    expect(card.locator(".card__schedule")).to_have_text(
        f"Publishes {local:%a %H:%M}"  # the creator's own time, not the server's UTC
    )
    expect(card).to_be_focused()
    expect(card.get_by_role("button", name="Unschedule")).to_be_visible()
    scheduled = Creation.objects.get(pk=draft.pk)
    assert scheduled.status == "scheduled"
    assert scheduled.publish_at == (local - OFFSET).replace(tzinfo=UTC)
    assert scheduled.caption == "Happy new year"
    settle(page)
    screenshot(page, "lifecycle-08-scheduled-card")

    # RQ's scheduler publishes it; the card asks for itself at that time.
    expect(card).to_have_attribute(
        "data-status", "published", timeout=int((seconds_left + 30) * 1000)
    )
    expect(card.get_by_role("link", name="See the post")).to_be_visible()
    expect(page.locator("#announcer")).to_have_text("Your image is published.")
    assert_no_reload(page)
    settle(page)
    screenshot(page, "lifecycle-09-scheduled-then-published")
    published = Creation.objects.get(pk=draft.pk)
    assert published.status == "published"
    assert published.published_at >= published.publish_at

    page.goto("/")
    expect(page.locator(".post").first).to_have_id(f"post-{draft.id}")
    expect(page.locator(".post").first).to_contain_text("Happy new year")


def test_a_time_in_the_past_is_refused_on_the_form_and_nothing_changes(page: Page, screenshot):
    username = sign_up(page)
    (draft,) = make_drafts(username, "A kite caught in a tree")
    open_tab(page, username, "drafts")
    page.evaluate("window.__sameDocument = true")
    card = card_of(page, draft)

    card.locator("summary", has_text="Publish").click()
    card.get_by_label("Caption").fill("Stuck again")
    typed = minutes_ago(page, 2)
    card.get_by_label("Publish at").fill(typed)
    card.get_by_role("button", name="Schedule").click()

    error = card.locator(".publish .form-error")
    expect(error).to_have_text("Publish at is in the past.")
    expect(error).to_have_attribute("role", "alert")
    # The form stays open with what was typed, ready to be corrected.
    expect(card).to_have_attribute("data-status", "draft")
    expect(card.get_by_label("Publish at")).to_be_visible()
    expect(card.get_by_label("Publish at")).to_have_value(typed)
    expect(card.get_by_label("Caption")).to_have_value("Stuck again")
    expect(card.get_by_role("button", name="Schedule")).to_be_visible()
    assert_no_reload(page)
    settle(page)
    screenshot(page, "lifecycle-10-schedule-in-the-past")
    unchanged = Creation.objects.get(pk=draft.pk)
    assert (unchanged.status, unchanged.publish_at, unchanged.published_at) == (
        "draft",
        None,
        None,
    )
    assert unchanged.caption == draft.caption


def test_the_owner_edits_a_caption_on_the_posts_tab_and_manages_the_post_page(
    page: Page, screenshot
):
    username = sign_up(page)
    (draft,) = make_drafts(username, "Monsoon clouds over Mumbai")
    services.creation_publish(creation=draft, caption="Clouds, with a typo in teh caption")
    page.goto(f"/soho/{username}")
    page.evaluate("window.__sameDocument = true")
    post = page.locator(f"#post-{draft.id}")
    expect(post).to_contain_text("Clouds, with a typo in teh caption")

    post.get_by_text("Edit caption", exact=True).click()
    field = post.get_by_label("Caption")
    expect(field).to_have_value("Clouds, with a typo in teh caption")
    field.fill("Clouds, with the typo fixed")
    settle(page)
    screenshot(page, "lifecycle-11-edit-caption")
    post.get_by_role("button", name="Save caption").click()

    expect(post.locator(".post__caption")).to_have_text("Clouds, with the typo fixed")
    expect(post).to_be_focused()
    expect(page.locator("#announcer")).to_have_text("Caption saved.")
    assert Creation.objects.get(pk=draft.pk).caption == "Clouds, with the typo fixed"
    assert_no_reload(page)
    settle(page)
    screenshot(page, "lifecycle-12-caption-saved")

    # The post's own page, linked from its time; unpublishing there lands on the drafts.
    post.locator("a.post__time").click()
    expect(page).to_have_url(re.compile(rf"/p/{draft.id}$"))
    expect(page.locator(".post__caption")).to_have_text("Clouds, with the typo fixed")
    settle(page)
    screenshot(page, "lifecycle-13-post-page-for-its-owner")
    page.get_by_role("button", name="Unpublish").click()
    expect(page).to_have_url(
        re.compile(rf"/soho/{username}\?tab=drafts(&made=[0-9a-f-]+#creation-[0-9a-f-]+)?$")
    )
    expect(page.locator("#toasts")).to_contain_text("Unpublished. It is back in your drafts.")
    expect(card_of(page, draft)).to_have_attribute("data-status", "draft")


def test_restore_and_delete_forever_from_the_trash(page: Page, screenshot):
    username = sign_up(page)
    keep, lose = make_drafts(username, "A lantern festival", "A blurry test shot")
    for creation in (keep, lose):
        services.creation_trash(creation=creation)
    open_tab(page, username, "trash")
    page.evaluate("window.__sameDocument = true")
    expect(page.locator("#tab-items > article.card")).to_have_count(2)
    expect(card_of(page, keep).locator(".badge--trash")).to_have_text("In the trash")
    settle(page)
    screenshot(page, "lifecycle-14-trash-tab")

    card_of(page, keep).get_by_role("button", name="Restore").click()

    expect(card_of(page, keep)).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text("Restored to your drafts.")
    expect(card_of(page, lose)).to_be_focused()  # focus moves on to the next card
    restored = Creation.objects.get(pk=keep.pk)
    assert (restored.status, restored.trashed_at) == ("draft", None)
    settle(page)
    screenshot(page, "lifecycle-15-restored-from-the-trash")

    card_of(page, lose).get_by_role("link", name="Delete forever").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete forever").click()
    expect(card_of(page, lose)).to_have_count(0)
    expect(page.locator("#tab-items")).to_have_attribute("data-tab", "trash")
    expect(page.locator("#toasts")).to_contain_text("Deleted forever.")
    purged = Creation.objects.get(pk=lose.pk)
    assert purged.purged_at is not None and purged.prompt == "" and not purged.media
    assert_no_reload(page)
    settle(page)
    screenshot(page, "lifecycle-16-trash-emptied")

    page.get_by_role("link", name="Drafts", exact=True).click()
    expect(card_of(page, keep)).to_have_attribute("data-status", "draft")


def test_a_post_taken_down_by_staff_shows_its_reason_to_its_owner_only(
    page: Page, browser, live_server, screenshot
):
    username = sign_up(page)
    (draft,) = make_drafts(username, "A poster of somebody else's film")
    services.creation_publish(creation=draft, caption="My poster")
    staff = get_user_model().objects.create_user("moderator", password="x", is_staff=True)
    services.creation_take_down(creation=draft, staff=staff, reason="Copyright complaint")

    page.goto(f"/soho/{username}")
    post = page.locator(f"#post-{draft.id}")
    expect(post.locator(".post__takedown")).to_contain_text("Reason: Copyright complaint.")
    expect(post.get_by_role("button", name="Delete")).to_be_visible()
    expect(post.get_by_role("button", name="Unpublish")).to_have_count(0)
    settle(page)
    screenshot(page, "lifecycle-17-taken-down-post-for-its-owner")

    stranger = browser.new_context(base_url=live_server.url)
    try:
        assert stranger.request.get(f"/p/{draft.id}").status == 404
        assert "My poster" not in stranger.request.get(f"/soho/{username}").text()
    finally:
        stranger.close()
