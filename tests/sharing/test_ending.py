"""A draft that leaves the drafts stops being shared: trash, purge, publish, schedule and a
take-down, each through the real service, revoke every share after COMMIT; the access
checks refuse at once anyway; a restore or an unpublish brings no share back."""

from datetime import timedelta

import pytest
from django.utils import timezone

from creations import services as creations
from creations.models import Creation
from sharing import services
from sharing.models import Share, hash_token
from sharing.selectors import is_shared_with

from .conftest import client_for


def share_both_ways(draft, alice, carol):
    """Shared with bob by name, and a link carol opened. Returns carol's link."""
    services.share_with_person(creation=draft, owner=alice, username="bob")
    link = services.share_link_create(creation=draft)
    assert client_for(carol).get(f"/s/{link.token}").status_code == 302
    return link


def reach(user, draft) -> set[int]:
    client = client_for(user)
    return {
        client.get(f"/creations/{draft.id}/shared").status_code,
        client.get(f"/creations/{draft.id}/comments").status_code,
        client.get(f"/api/creations/{draft.id}/comments").status_code,
    }


def trash(draft):
    return creations.creation_trash(creation=draft)


def purge(draft):
    creations.creation_trash(creation=draft)
    return creations.creation_purge(creation=draft)


def publish(draft):
    return creations.creation_publish(creation=draft, caption="out now")


def schedule(draft):
    return creations.creation_publish(
        creation=draft, caption="soon", publish_at=timezone.now() + timedelta(hours=2)
    )


ENDINGS = {"trashed": trash, "purged": purge, "published": publish, "scheduled": schedule}


@pytest.mark.parametrize("event", ENDINGS)
def test_leaving_the_drafts_revokes_every_share(
    event, draft, alice, bob, carol, django_capture_on_commit_callbacks
):
    share_both_ways(draft, alice, carol)
    assert reach(bob, draft) == reach(carol, draft) == {200}

    with django_capture_on_commit_callbacks(execute=True):
        ENDINGS[event](draft)

    shares = Share.objects.filter(creation=draft)
    assert shares.count() == 2
    assert all(share.revoked_at is not None for share in shares)
    # A purge's trash comes first and ends the shares; the purge finds none left.
    expected = "trashed" if event == "purged" else event
    assert set(shares.values_list("revoked_reason", flat=True)) == {expected}
    assert reach(bob, draft) == reach(carol, draft) == {404}
    # A published post's media is public, as before; otherwise the share no longer opens it.
    public = event == "published"
    assert client_for(bob).get(f"/media/creations/{draft.id}/media").status_code == (
        200 if public else 404
    )


def test_a_take_down_revokes_what_is_left(
    alice, bob, make_creation, django_capture_on_commit_callbacks
):
    post = make_creation(owner=alice, status="published")
    # Not reachable through the services (only a draft may be shared): a row left behind.
    stray = Share.objects.create(creation=post, kind="person", recipient=bob)
    with django_capture_on_commit_callbacks(execute=True):
        creations.creation_take_down(creation=post, staff=None, reason="Breaks the rules.")
    stray.refresh_from_db()
    assert stray.revoked_reason == "taken_down"


def test_access_ends_with_the_change_itself_before_any_listener_runs(
    draft, alice, bob, carol, django_capture_on_commit_callbacks
):
    """No window between the change and the revoke: the shares end in the change's own
    transaction (and the checks require a draft anyway)."""
    share_both_ways(draft, alice, carol)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        trash(draft)
    assert callbacks  # the event is waiting for COMMIT; the shares ended already
    assert not Share.objects.filter(revoked_at__isnull=True).exists()
    assert set(Share.objects.values_list("revoked_reason", flat=True)) == {"trashed"}
    assert reach(bob, draft) == reach(carol, draft) == {404}
    assert client_for(bob).get(f"/media/creations/{draft.id}/media").status_code == 404


@pytest.mark.parametrize("way_back", ["restore", "unpublish"])
def test_a_share_ended_by_the_draft_is_never_revived(
    way_back, draft, alice, bob, carol, django_capture_on_commit_callbacks
):
    link = share_both_ways(draft, alice, carol)
    with django_capture_on_commit_callbacks(execute=True):
        if way_back == "restore":
            trash(draft)
            creations.creation_restore(creation=draft)
        else:
            publish(draft)
            creations.creation_unpublish(creation=draft)
    draft.refresh_from_db()
    assert draft.status == "draft" and not draft.is_trashed
    assert reach(bob, draft) == reach(carol, draft) == {404}
    assert client_for(bob).get(f"/s/{link.token}").status_code == 404
    assert client_for(bob).get(f"/media/creations/{draft.id}/media").status_code == 404
    # The owner may share it again: a new share, the old ones stay ended.
    services.share_with_person(creation=draft, owner=alice, username="bob")
    assert reach(bob, draft) == {200}
    assert Share.objects.filter(token_hash=hash_token(link.token)).get().revoked_at is not None


def test_the_owners_panel_says_sharing_ended(draft, alice, bob, django_capture_on_commit_callbacks):
    services.share_with_person(creation=draft, owner=alice, username="bob")
    with django_capture_on_commit_callbacks(execute=True):
        publish(draft)
    panel = client_for(alice).get(f"/creations/{draft.id}/sharing").content.decode()
    assert "Only a draft can be shared" in panel
    assert "ended: the draft was published" in panel
    assert 'name="username"' not in panel


def unschedule(draft):
    return creations.creation_unschedule(creation=draft)


ROUND_TRIPS = {
    "trash, restore": (trash, lambda draft: creations.creation_restore(creation=draft)),
    "publish, unpublish": (publish, lambda draft: creations.creation_unpublish(creation=draft)),
    "schedule, unschedule": (schedule, unschedule),
}


@pytest.mark.parametrize("round_trip", ROUND_TRIPS)
def test_a_lost_listener_revives_no_share(
    round_trip, draft, alice, bob, carol, django_capture_on_commit_callbacks
):
    """The shares end in the change's own transaction: with no after-COMMIT listener run at
    all (a process killed between COMMIT and its callbacks), the draft back among the
    drafts is shared with nobody."""
    link = share_both_ways(draft, alice, carol)
    leave, come_back = ROUND_TRIPS[round_trip]
    with django_capture_on_commit_callbacks(execute=False):
        leave(draft)
        come_back(draft)
    draft.refresh_from_db()
    assert draft.status == "draft" and not draft.is_trashed
    assert reach(bob, draft) == reach(carol, draft) == {404}
    assert not is_shared_with(creation=draft, user=bob)
    assert not is_shared_with(creation=draft, user=carol)
    assert client_for(bob).get(f"/s/{link.token}").status_code == 404
    assert not Share.objects.filter(creation=draft, revoked_at__isnull=True).exists()


@pytest.mark.parametrize("way_back", ["restore", "unpublish", "unschedule"])
def test_the_way_back_ends_a_share_left_standing(way_back, draft, alice, bob):
    """Second guard: a share still active when the draft comes back (written behind the
    services' back here) is ended by the restore, unpublish or unschedule itself."""
    leave = {"restore": trash, "unpublish": publish, "unschedule": schedule}[way_back]
    come_back = {
        "restore": creations.creation_restore,
        "unpublish": creations.creation_unpublish,
        "unschedule": creations.creation_unschedule,
    }[way_back]
    leave(draft)
    stray = Share.objects.create(creation=draft, kind="person", recipient=bob)
    come_back(creation=draft)
    stray.refresh_from_db()
    assert stray.revoked_at is not None
    assert not is_shared_with(creation=draft, user=bob)
    assert client_for(bob).get(f"/creations/{draft.id}/shared").status_code == 404


@pytest.mark.parametrize("event", ["published", "taken_down"])
def test_due_publication_and_take_down_end_shares_in_their_transaction(
    event, alice, bob, make_creation
):
    creation = make_creation(
        owner=alice, status="scheduled" if event == "published" else "published"
    )
    stray = Share.objects.create(creation=creation, kind="person", recipient=bob)
    if event == "published":
        Creation.objects.filter(pk=creation.pk).update(publish_at=timezone.now())
        assert creations.creation_publish_due(creation_id=creation.pk)
    else:
        creations.creation_take_down(creation=creation, staff=None, reason="Breaks the rules.")
    stray.refresh_from_db()
    assert stray.revoked_reason == event
