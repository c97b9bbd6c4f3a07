"""Moderation in a real browser: bob reports alice's post from the feed through the Report
dialog; mona works the queue and takes it down; alice reads the decision and appeals;
otto reverses it and the post is back. Each page and state is checked with axe-core and
photographed."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from playwright.sync_api import Browser, Page, expect

from creations import services
from creations.models import Creation
from moderation.models import Report
from profiles.services import creator_signup
from sharing import services as sharing
from tests.browser.conftest import assert_accessible, serve_axe
from tests.browser.test_lifecycle_flow import make_drafts

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]


def log_in(browser: Browser, live_server, username: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(10_000)
    serve_axe(context)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"{username}-password-123")
    page.get_by_role("button", name=re.compile("Log in", re.I)).click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    return page


def moderator(username: str):
    user = get_user_model().objects.create_user(
        username=username, password=f"{username}-password-123", is_staff=True
    )
    user.user_permissions.add(Permission.objects.get(codename="moderate"))
    return user


def settle(page: Page) -> None:
    page.wait_for_timeout(600)
    page.evaluate("window.scrollTo(0, 0)")


def test_report_take_down_appeal_and_reversal(browser: Browser, live_server, screenshot):
    creator_signup(username="alice", password="alice-password-123")
    creator_signup(username="bob", password="bob-password-123")
    moderator("mona")
    moderator("otto")
    (draft,) = make_drafts("alice", "A lighthouse on a cliff at sunset")
    services.creation_publish(creation=draft, caption="My lighthouse")
    published = Creation.objects.get(pk=draft.pk)

    # bob reports the post from the feed, in the dialog.
    bob = log_in(browser, live_server, "bob")
    bob.goto("/")
    report = bob.get_by_role("link", name="Report this post by alice")
    report.click()
    dialog = bob.get_by_role("dialog", name="Report this post")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("The post by alice")
    expect(bob.locator("#report-dialog-category-spam")).to_be_focused()
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.locator("#report-dialog-error")).to_have_text("Choose what is wrong with it.")
    assert_accessible(bob, "the Report dialog, with its error")
    screenshot(bob, "moderation-01-report-dialog")
    dialog.get_by_label("Spam").check()
    dialog.get_by_label(re.compile("Anything our moderators should know")).fill("Shop links")
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.locator("#report-dialog-done")).to_be_visible()
    expect(dialog.get_by_role("button", name="Send report")).to_be_hidden()
    assert_accessible(bob, "the Report dialog, sent")
    screenshot(bob, "moderation-02-report-sent")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(report).to_be_focused()
    # A second report of the same post is refused, in words.
    report.click()
    dialog.get_by_label("Hate").check()
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.locator("#report-dialog-error")).to_contain_text("already reported")
    bob.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # mona works the queue.
    mona = log_in(browser, live_server, "mona")
    mona.goto("/staff/moderation")
    case = mona.locator("section.mod-case")
    expect(case).to_have_count(1)
    expect(case).to_contain_text("1 report")
    expect(case).to_contain_text("Shop links")
    case.get_by_role("button", name="Assign to me").click()
    expect(mona.locator("section.mod-case")).to_contain_text("Assigned to mona")
    mona.get_by_label("Add a note (staff only)").fill("Links to a shop; spam.")
    mona.get_by_role("button", name="Add note").click()
    expect(mona.locator("section.mod-case")).to_contain_text("Links to a shop; spam.")
    mona.wait_for_function("() => [...document.images].every(i => i.complete)")
    assert_accessible(mona, "the moderation queue")
    settle(mona)
    screenshot(mona, "moderation-03-queue")
    mona.get_by_label("Take the post down").check()
    mona.get_by_label(re.compile("^Reason")).fill("Spam: the caption advertises a shop.")
    mona.get_by_role("button", name="Decide").click()
    expect(mona.locator("#queue-empty")).to_be_visible()
    expect(mona.locator("#action-log")).to_contain_text("Post taken down")
    assert_accessible(mona, "the queue after a decision")
    screenshot(mona, "moderation-04-queue-decided")
    assert Creation.objects.get(pk=draft.pk).status == "taken_down"

    # alice is told, reads the decision and appeals.
    alice = log_in(browser, live_server, "alice")
    alice.goto("/notifications")
    told = alice.get_by_role("link", name=re.compile("Your post was taken down"))
    expect(told).to_contain_text("Spam: the caption advertises a shop.")
    told.click()
    expect(alice).to_have_url(re.compile(r"/moderation/decisions/"))
    expect(alice.locator(".decision__reason")).to_have_text("Spam: the caption advertises a shop.")
    expect(alice.get_by_text("bob")).to_have_count(0)
    alice.wait_for_function("() => [...document.images].every(i => i.complete)")
    assert_accessible(alice, "the decision page with its appeal form")
    settle(alice)
    screenshot(alice, "moderation-05-decision-and-appeal")
    alice.get_by_role("button", name="Send appeal").click()
    expect(alice.locator("#appeal-error")).to_have_text("Write the text first.")
    alice.get_by_label("Why the decision is wrong").fill("The shop is mine and sells my prints.")
    alice.get_by_role("button", name="Send appeal").click()
    expect(alice.get_by_text("Waiting for a decision.")).to_be_visible()
    assert_accessible(alice, "the decision page, appealed")
    settle(alice)
    screenshot(alice, "moderation-06-appealed")

    # mona cannot decide her own decision's appeal; otto reverses it.
    mona.goto("/staff/appeals")
    expect(mona.get_by_text("You took this decision")).to_be_visible()
    otto = log_in(browser, live_server, "otto")
    otto.goto("/staff/appeals")
    expect(otto.locator("section.mod-case")).to_contain_text("The shop is mine")
    assert_accessible(otto, "the appeals page")
    settle(otto)
    screenshot(otto, "moderation-07-appeals")
    otto.get_by_role("button", name="Reverse it").click()
    expect(otto.get_by_text("Reversed: the post is published again.")).to_be_visible()
    expect(otto.locator("#appeals-decided")).to_contain_text("Decision reversed")
    screenshot(otto, "moderation-08-appeal-reversed")

    back = Creation.objects.get(pk=draft.pk)
    assert (back.status, back.caption, back.first_published_at) == (
        "published",
        "My lighthouse",
        published.first_published_at,
    )
    alice.goto(f"/p/{draft.pk}")
    expect(alice.locator(".post__caption")).to_have_text("My lighthouse")
    alice.goto("/notifications")
    expect(alice.get_by_role("link", name=re.compile("Your appeal was successful"))).to_be_visible()


def test_a_comment_is_reported_from_its_thread(browser: Browser, live_server, screenshot):
    alice_user = creator_signup(username="alice", password="alice-password-123")
    creator_signup(username="bob", password="bob-password-123")
    (draft,) = make_drafts("alice", "A paper boat on a rainy window sill")
    sharing.share_with_person(creation=draft, owner=alice_user, username="bob")
    comment = sharing.comment_post(creation=draft, author=alice_user, text="Buy cheap pills")

    bob = log_in(browser, live_server, "bob")
    bob.goto(f"/creations/{draft.id}/shared")
    report = bob.get_by_role("link", name="Report alice’s comment")
    report.click()
    dialog = bob.get_by_role("dialog", name="Report this comment")
    expect(dialog).to_contain_text("The comment by alice")
    dialog.get_by_label("Spam").check()
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.locator("#report-dialog-done")).to_be_visible()
    assert_accessible(bob, "the Report dialog on a comment")
    bob.evaluate("window.scrollTo(0, 0)")
    screenshot(bob, "moderation-09-comment-reported")
    bob.keyboard.press("Escape")
    expect(report).to_be_focused()

    assert Report.objects.get().comment_id == comment.id


def test_a_comment_on_a_post_is_reported_removed_and_appealed(
    browser: Browser, live_server, screenshot
):
    from community import services as community
    from community.models import PostComment

    creator_signup(username="alice", password="alice-password-123")
    bob_user = creator_signup(username="bob", password="bob-password-123")
    moderator("mona")
    (draft,) = make_drafts("alice", "A kite over a green hill on a windy day")
    services.creation_publish(creation=draft, caption="Kite day")
    comment = community.comment_post(author=bob_user, post_id=draft.id, text="Cheap pills here")

    # alice reports bob's comment under her post, in the dialog.
    alice = log_in(browser, live_server, "alice")
    alice.goto(f"/p/{draft.id}")
    report = alice.get_by_role("link", name="Report bob’s comment")
    report.click()
    dialog = alice.get_by_role("dialog", name="Report this comment")
    expect(dialog).to_contain_text("The comment by bob")
    dialog.get_by_label("Spam").check()
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.locator("#report-dialog-done")).to_be_visible()
    assert_accessible(alice, "the Report dialog on a post's comment")
    settle(alice)
    screenshot(alice, "moderation-10-post-comment-reported")
    alice.keyboard.press("Escape")
    expect(report).to_be_focused()
    assert Report.objects.get().post_comment_id == comment.id

    # mona removes it from the queue.
    mona = log_in(browser, live_server, "mona")
    mona.goto("/staff/moderation")
    case = mona.locator("section.mod-case")
    expect(case).to_contain_text("Comment by bob")
    expect(case).to_contain_text("On a post by alice")
    expect(case.get_by_label("Take the post down")).to_have_count(0)
    assert_accessible(mona, "the queue with a post's comment")
    settle(mona)
    screenshot(mona, "moderation-11-queue-post-comment")
    mona.get_by_label("Remove the comment").check()
    mona.get_by_label(re.compile("^Reason")).fill("Spam: links to a pill shop.")
    mona.get_by_role("button", name="Decide").click()
    expect(mona.locator("#action-log")).to_contain_text("Comment removed")
    assert PostComment.objects.get(pk=comment.pk).is_deleted

    # bob reads why and appeals.
    bob = log_in(browser, live_server, "bob")
    bob.goto("/notifications")
    bob.get_by_role("link", name=re.compile("Your comment was removed")).click()
    expect(bob.locator(".decision__reason")).to_have_text("Spam: links to a pill shop.")
    expect(bob.locator(".decision")).to_contain_text("Your comment on a post by alice")
    bob.get_by_label("Why the decision is wrong").fill("It was a joke between friends.")
    bob.get_by_role("button", name="Send appeal").click()
    expect(bob.get_by_text("Waiting for a decision.")).to_be_visible()
    assert_accessible(bob, "the decision on a post's comment, appealed")
    settle(bob)
    screenshot(bob, "moderation-12-post-comment-appealed")


def test_a_suspended_creator_signs_in_and_appeals(browser: Browser, live_server, screenshot):
    from moderation import services as moderation

    alice_user = creator_signup(username="alice", password="alice-password-123")
    bob_user = creator_signup(username="bob", password="bob-password-123")
    mona = moderator("mona")
    (draft,) = make_drafts("alice", "A neon sign in a rainy alley at night")
    services.creation_publish(creation=draft, caption="Buy followers cheap")
    report = moderation.report_file(
        reporter=bob_user, target="post", item_id=draft.id, category="spam", note=""
    )
    action = moderation.case_decide(
        case_id=report.case_id, staff=mona, kind="suspend", reason="Selling fake followers."
    )
    alice_user.refresh_from_db()
    assert not alice_user.is_active

    alice = log_in(browser, live_server, "alice")
    expect(alice).to_have_url(re.compile(rf"/moderation/decisions/{action.pk}$"))
    expect(alice.locator("#suspended-note")).to_contain_text("Your account is suspended.")
    expect(alice.locator(".decision__reason")).to_have_text("Selling fake followers.")
    alice.wait_for_function("() => [...document.images].every(i => i.complete)")
    assert_accessible(alice, "a suspended creator's decision page")
    settle(alice)
    screenshot(alice, "moderation-13-suspended-decision")
    # Anything else leads back here.
    alice.goto("/create")
    expect(alice).to_have_url(re.compile(rf"/moderation/decisions/{action.pk}$"))
    alice.get_by_label("Why the decision is wrong").fill("The caption was a joke about bots.")
    alice.get_by_role("button", name="Send appeal").click()
    expect(alice.get_by_text("Waiting for a decision.")).to_be_visible()
    assert_accessible(alice, "a suspended creator's decision page, appealed")
    settle(alice)
    screenshot(alice, "moderation-14-suspended-appealed")
