"""Staff with the moderation permission (the one that takes posts down) take a shared
draft down — every share ends, the owner keeps the draft — and remove any comment; staff
without it can do neither."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from sharing.models import Comment, Share

from .conftest import client_for
from .test_comments import HTMX, comments_url


def staff(name: str, *, moderator: bool):
    user = get_user_model().objects.create_user(username=name, is_staff=True)
    # Both read shares and comments in the admin; only a moderator acts on them.
    for codename in ("view_share", "view_comment"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    if moderator:
        user.user_permissions.add(Permission.objects.get(codename="take_down_creation"))
    return user


def act(user, model: str, action: str, ids) -> object:
    return client_for(user).post(
        f"/admin/sharing/{model}/",
        {"action": action, "_selected_action": [str(pk) for pk in ids]},
        follow=True,
    )


@pytest.fixture
def comment(shared_with_bob, draft, bob):
    client_for(bob).post(comments_url(draft), {"text": "a nasty remark"}, headers=HTMX)
    return Comment.objects.get(text="a nasty remark")


def test_a_moderator_takes_a_shared_draft_down_and_its_people_lose_it(
    shared_with_bob, draft, alice, bob, carol
):
    from sharing import services

    services.share_with_person(creation=draft, owner=alice, username="carol")
    moderator = staff("mod", moderator=True)

    response = act(moderator, "share", "take_down_drafts", [shared_with_bob.pk])

    assert "1 shared draft(s) taken down: 2 share(s) ended." in response.content.decode()
    assert not Share.objects.filter(creation=draft, revoked_at__isnull=True).exists()
    assert set(Share.objects.values_list("revoked_reason", flat=True)) == {"staff"}
    for person in (bob, carol):
        assert client_for(person).get(f"/creations/{draft.pk}/shared").status_code == 404
    draft.refresh_from_db()
    assert draft.status == "draft"  # the owner keeps it


def test_a_moderator_removes_any_comment_and_it_reads_as_deleted(comment, draft, alice):
    moderator = staff("mod", moderator=True)

    act(moderator, "comment", "remove_comments", [comment.pk])

    comment.refresh_from_db()
    assert (comment.text, comment.deleted_by) == ("", moderator)
    assert (
        "a nasty remark"
        not in client_for(alice).get(comments_url(draft), headers=HTMX).content.decode()
    )


def test_staff_without_the_permission_can_do_neither(comment, shared_with_bob):
    plain = staff("plain", moderator=False)

    act(plain, "comment", "remove_comments", [comment.pk])
    act(plain, "share", "take_down_drafts", [shared_with_bob.pk])

    comment.refresh_from_db()
    shared_with_bob.refresh_from_db()
    assert comment.text == "a nasty remark" and shared_with_bob.revoked_at is None
