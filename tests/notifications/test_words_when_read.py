"""A notification quotes a draft's prompt or a comment only while its reader may still see
them: after a revoke, an expiry, a trash, a purge or a deleted comment, neither the page
nor the API shows the words — and a page of notifications costs the same few queries
however many it lists."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from creations import services as creations
from sharing import services as sharing
from sharing.models import Share
from tests.conftest import run_light_jobs

from .conftest import notifications_of

# The comments' jobs run here as on worker-light: each closes its database connection
# after, which only a transactional test survives.
pytestmark = pytest.mark.django_db(transaction=True)

PROMPT = "Lighthouse beyond the orchard"
COMMENT = "The orchard light is perfect"


def seen_by(client) -> str:
    """Everything the reader is shown: the notifications page and the API's list."""
    page = client.get("/notifications")
    api = client.get("/api/notifications")
    assert page.status_code == api.status_code == 200
    return page.content.decode() + api.content.decode()


@pytest.fixture
def conversation(alice, bob, carol, make_creation, django_capture_on_commit_callbacks):
    """alice's draft shared with bob and carol; carol commented, then bob: bob was told of
    the share, alice and carol of bob's comment."""
    with django_capture_on_commit_callbacks(execute=True):
        draft = make_creation(owner=alice, status="draft", prompt=PROMPT)
        to_bob = sharing.share_with_person(creation=draft, owner=alice, username="bob")
        sharing.share_with_person(creation=draft, owner=alice, username="carol")
        sharing.comment_post(creation=draft, author=carol, text="Lovely")
        comment = sharing.comment_post(creation=draft, author=bob, text=COMMENT)
    run_light_jobs()  # the comments' notifications
    assert [n.kind for n in notifications_of(bob)] == ["draft_shared", "comment"]
    assert [n.kind for n in notifications_of(carol)] == ["draft_shared", "comment"]
    return draft, to_bob, comment


def test_while_they_may_see_it_the_words_are_quoted(conversation, alice, bob, client_of):
    assert PROMPT in seen_by(client_of(bob))
    assert COMMENT in seen_by(client_of(alice))
    assert COMMENT in seen_by(client_of("carol"))
    assert "bob commented on your draft" in seen_by(client_of(alice))


def end_bob_share(draft, share, comment, user):
    sharing.share_revoke(share=share)


def expire_bob_share(draft, share, comment, user):
    Share.objects.filter(pk=share.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def trash_it(draft, share, comment, user):
    creations.creation_trash(creation=draft)


def purge_it(draft, share, comment, user):
    creations.creation_trash(creation=draft)
    creations.creation_purge(creation=draft)


@pytest.mark.parametrize(
    "ending",
    [end_bob_share, expire_bob_share, trash_it, purge_it],
    ids=["revoked", "expired", "trashed", "purged"],
)
def test_once_a_share_ends_the_former_sharee_reads_no_words(
    ending, conversation, alice, bob, client_of
):
    draft, share, comment = conversation
    ending(draft, share, comment, alice)

    shown = seen_by(client_of(bob))
    assert PROMPT not in shown
    assert "alice shared a draft with you" in shown  # what happened, without the words


def test_after_a_purge_nobody_reads_the_words_not_even_the_owner(conversation, alice, client_of):
    draft, share, comment = conversation
    purge_it(draft, share, comment, alice)
    for name in ("alice", "bob", "carol"):
        shown = seen_by(client_of(name))
        assert PROMPT not in shown and COMMENT not in shown, name


def test_a_deleted_comment_is_no_longer_quoted(conversation, alice, bob, client_of):
    draft, share, comment = conversation
    sharing.comment_delete(comment=comment, user=bob)
    for name in ("alice", "carol"):
        shown = seen_by(client_of(name))
        assert COMMENT not in shown, name
        assert "bob commented on" in shown


def test_a_comment_is_not_quoted_to_a_commenter_no_longer_reached(
    conversation, alice, carol, client_of
):
    draft, share, comment = conversation
    carol_share = Share.objects.get(creation=draft, recipient=carol)
    sharing.share_revoke(share=carol_share)
    assert COMMENT not in seen_by(client_of(carol))
    assert COMMENT in seen_by(client_of(alice))  # the owner still sees her draft's thread


def test_a_page_costs_the_same_queries_however_many_it_lists(
    alice, bob, carol, make_creation, client_of, django_capture_on_commit_callbacks
):
    """The share checks and the comments are read once for the page, not per row."""
    reader = client_of(bob)

    def queries() -> tuple[int, int]:
        counts = []
        for url in ("/notifications", "/api/notifications"):
            with CaptureQueriesContext(connection) as captured:
                assert reader.get(url).status_code == 200
            counts.append(len(captured))
        return tuple(counts)

    def one_more_round() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            for owner, name in ((alice, "alice"), (carol, "carol")):
                draft = make_creation(owner=owner, status="draft", prompt=f"{name}'s sketch")
                sharing.share_with_person(creation=draft, owner=owner, username="bob")
                sharing.comment_post(creation=draft, author=bob, text="Mine first")
                sharing.comment_post(creation=draft, author=owner, text="A reply")
        run_light_jobs()

    one_more_round()
    few = queries()
    for _ in range(4):
        one_more_round()
    assert len(notifications_of(bob)) == 20
    assert queries() == few
