"""Staff take a published post down in the admin: its own permission, a reason asked on
a page of its own, a LogEntry, a per-item report, and the post gone from every public URL
at once."""

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse

from creations.models import Creation

from .conftest import creation_in_state

CHANGELIST = reverse("admin:creations_creation_changelist")
TAKE_DOWN = "creations.take_down_creation"


def take_down(client, *creations, reason: str | None = None):
    """The action's first POST (from the list) or, with a reason, the confirmation page's."""
    data = {"action": "take_down", "_selected_action": [str(c.pk) for c in creations]}
    if reason is not None:
        data.update(post="yes", reason=reason)
    return client.post(CHANGELIST, data, follow=True)


@pytest.fixture
def moderator(staff_user):
    return staff_user(TAKE_DOWN, username="moderator")


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


def public_urls(post: Creation) -> list[str]:
    return [
        reverse("post", args=[post.pk]),
        reverse("creation_media", args=[post.pk, "media"]),
        reverse("creation_media", args=[post.pk, "poster"]),
    ]


def test_the_action_asks_for_the_reason_first_and_changes_nothing_yet(
    moderator_client, alice, make_creation
):
    post = make_creation(owner=alice, status="published")
    draft = make_creation(owner=alice, status="draft")

    response = take_down(moderator_client, post, draft)

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "admin/creations/creation/take_down.html"
    page = response.content.decode()
    assert 'name="reason"' in page
    assert 'name="post" value="yes"' in page
    assert page.count('name="_selected_action"') == 2
    assert (
        "will be taken down" in page
        and "will be refused: not a published or scheduled post" in page
    )
    assert "Take down 1 post" in page
    post.refresh_from_db()
    assert post.status == "published"


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_take_down_without_a_reason_is_asked_again_and_changes_nothing(
    moderator_client, alice, make_creation, reason
):
    post = make_creation(owner=alice, status="published")

    response = take_down(moderator_client, post, reason=reason)

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    post.refresh_from_db()
    assert (post.status, post.takedown_reason, post.taken_down_at) == ("published", "", None)
    assert not LogEntry.objects.filter(object_id=str(post.pk)).exists()


def test_it_takes_published_posts_down_with_the_reason_and_reports_each_item(
    moderator_client, moderator, alice, bob, make_creation
):
    post = make_creation(owner=alice, status="published", kind="video")
    other_post = make_creation(owner=bob, status="published")
    draft = make_creation(owner=alice, status="draft")
    pending = make_creation(owner=bob, status="pending")

    response = take_down(
        moderator_client, post, other_post, draft, pending, reason="  Copyright claim #42 "
    )

    assert response.redirect_chain[-1][0].startswith(CHANGELIST)
    for creation in (post, other_post):
        creation.refresh_from_db()
        assert creation.status == "taken_down"
        assert creation.takedown_reason == "Copyright claim #42"
        assert creation.taken_down_by == moderator
        assert creation.taken_down_at is not None
        entry = LogEntry.objects.get(object_id=str(creation.pk), user=moderator)
        assert "Copyright claim #42" in entry.get_change_message()
    for creation, status in ((draft, "draft"), (pending, "pending")):
        creation.refresh_from_db()
        assert (creation.status, creation.takedown_reason) == (status, "")
        assert not LogEntry.objects.filter(object_id=str(creation.pk)).exists()
    taken, refused = [str(m) for m in response.context["messages"]]
    assert taken.startswith("Took down 2 post(s): ")
    assert str(post.pk)[:8] in taken and str(other_post.pk)[:8] in taken
    assert refused.startswith("Refused for 2 creation(s) that are not published or scheduled posts")
    assert f"{str(draft.pk)[:8]} (draft)" in refused
    assert f"{str(pending.pk)[:8]} (pending)" in refused


def test_a_post_taken_down_twice_is_refused_the_second_time(
    moderator_client, moderator, alice, make_creation
):
    post = make_creation(owner=alice, status="published")
    take_down(moderator_client, post, reason="spam")

    response = take_down(moderator_client, post, reason="another reason")

    post.refresh_from_db()
    assert (post.status, post.takedown_reason) == ("taken_down", "spam")
    assert LogEntry.objects.filter(object_id=str(post.pk)).count() == 1
    assert "Refused for 1 creation(s) that are not published or scheduled posts" in "".join(
        str(m) for m in response.context["messages"]
    )


def test_staff_without_the_permission_neither_see_nor_run_it(
    client, plain_staff, refunder, alice, make_creation
):
    post = make_creation(owner=alice, status="published")
    for user in (plain_staff, refunder):
        client.force_login(user)

        listing = client.get(CHANGELIST).content.decode()
        asked = take_down(client, post)
        sent = take_down(client, post, reason="no permission")

        assert 'value="take_down"' not in listing
        for response in (asked, sent):
            assert "admin/creations/creation/take_down.html" not in [
                t.name for t in response.templates
            ]
        post.refresh_from_db()
        assert post.status == "published"
    assert not LogEntry.objects.filter(object_id=str(post.pk)).exists()


def test_staff_with_the_permission_see_the_action(moderator_client, alice, make_creation):
    make_creation(owner=alice, status="published")
    page = moderator_client.get(CHANGELIST).content.decode()
    assert 'value="take_down"' in page
    # The refund actions need their own permission.
    assert 'value="refund"' not in page


def test_a_taken_down_post_is_gone_from_every_public_url_at_once(
    moderator_client, alice, bob, make_creation, figure
):
    post = make_creation(owner=alice, status="published", kind="video", caption="look")
    kept = make_creation(owner=alice, status="published", caption="still here")
    anonymous, other, owner = Client(), Client(), Client()
    other.force_login(bob)
    owner.force_login(alice)
    pages = ["/", f"/soho/{alice.username}"]

    def shown_to(client) -> dict[str, bool]:
        seen = {page: str(post.pk) in client.get(page).content.decode() for page in pages}
        seen.update({url: client.get(url).status_code == 200 for url in public_urls(post)})
        return seen

    for client in (anonymous, other):
        assert all(shown_to(client).values())

    take_down(moderator_client, post, reason="Against the content policy")

    for client in (anonymous, other):
        assert not any(shown_to(client).values()), shown_to(client)
        # The rest of the creator's posts stay.
        for page in pages:
            assert str(kept.pk) in client.get(page).content.decode()
    # Its owner still sees it, with its files (and the reason, on their Posts tab).
    for url in public_urls(post):
        assert owner.get(url).status_code == 200
    figure(
        "taken-down post: 0 of 5 public URLs (feed, creator page, post page, media, poster) "
        "for anonymous and for another creator"
    )


def test_the_change_page_shows_the_take_down_reason_who_and_when(
    moderator_client, moderator, alice, make_creation
):
    post = make_creation(owner=alice, status="published")
    take_down(moderator_client, post, reason="Impersonation report")
    post.refresh_from_db()

    page = moderator_client.get(reverse("admin:creations_creation_change", args=[post.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Impersonation report" in html
    assert reverse("admin:auth_user_change", args=[moderator.pk]) in html
    assert ">moderator<" in html
    assert "Take-down" in html


def test_the_take_down_section_is_left_out_for_other_creations(moderator_client, alice):
    draft = creation_in_state(owner=alice, status="draft")
    page = moderator_client.get(reverse("admin:creations_creation_change", args=[draft.pk]))
    assert page.status_code == 200
    assert "Take-down" not in page.content.decode()
