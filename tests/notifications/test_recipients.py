"""Who is told: a creation's events its owner only; a share its recipient; a comment the
draft's owner and the others who commented and may still see it, never its author."""

import pytest

from creations import services
from creations.events import creation_event
from creations.models import Creation
from sharing import services as sharing
from sharing.signals import comment_posted, draft_shared
from tests.conftest import run_light_jobs

from .conftest import notifications_of, text_of, texts_of


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what the services leave for after COMMIT (the signals), as production does."""

    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


def test_a_creations_events_tell_its_owner_and_nobody_else(
    alice, bob, make_creation, run_on_commit
):
    run_on_commit(lambda: make_creation(owner=alice, status="draft"))
    run_on_commit(lambda: make_creation(owner=alice, status="failed"))
    scheduled = run_on_commit(lambda: make_creation(owner=alice, status="scheduled"))
    Creation.objects.filter(pk=scheduled.pk).update(publish_at=scheduled.created_at)
    run_on_commit(lambda: services.creation_publish_due(creation_id=scheduled.pk))

    assert sorted(n.kind for n in notifications_of(alice)) == [
        "creation_failed",
        "creation_finished",
        "creation_finished",  # the scheduled one was a draft first
        "post_published",
    ]
    assert notifications_of(bob) == []


def test_sharing_a_draft_tells_its_recipient_only(alice, bob, carol, make_creation, run_on_commit):
    draft = make_creation(owner=alice, status="draft", prompt="a fox under the aurora")
    share = run_on_commit(
        lambda: sharing.share_with_person(creation=draft, owner=alice, username="bob")
    )
    # The signal sent again (a retried listener) writes nothing more.
    draft_shared.send(sender=type(share), share=share)

    [notification] = notifications_of(bob)
    assert notification.kind == "draft_shared"
    assert notification.creation_id == draft.pk
    assert text_of(notification) == "alice shared a draft image with you: “a fox under the aurora”"
    assert notifications_of(alice) == []
    assert notifications_of(carol) == []


def test_a_link_share_names_nobody_and_tells_nobody(alice, bob, make_creation, run_on_commit):
    draft = make_creation(owner=alice, status="draft")
    link = run_on_commit(lambda: sharing.share_link_create(creation=draft))
    draft_shared.send(sender=type(link.share), share=link.share)
    assert notifications_of(alice) == notifications_of(bob) == []


# Transactional: the comment's job closes its database connection after it, as on worker-light.
@pytest.mark.django_db(transaction=True)
def test_a_comment_tells_the_owner_and_the_other_commenters_not_its_author(
    alice, bob, carol, make_creation, run_on_commit
):
    draft = make_creation(owner=alice, status="draft")
    for name in ("bob", "carol"):
        run_on_commit(
            lambda n=name: sharing.share_with_person(creation=draft, owner=alice, username=n)
        )
    first = run_on_commit(
        lambda: sharing.comment_post(creation=draft, author=bob, text="Love the colours!")
    )
    assert notifications_of(alice, "comment") == []  # written by the comment's job
    run_light_jobs()
    assert texts_of(alice, "comment") == ["bob commented on your draft: “Love the colours!”"]
    assert notifications_of(carol, "comment") == []  # has not commented yet
    assert notifications_of(bob, "comment") == []  # its author

    second = run_on_commit(
        lambda: sharing.comment_post(creation=draft, author=carol, text="Agreed, lovely.")
    )
    run_light_jobs()
    reply = run_on_commit(
        lambda: sharing.comment_post(creation=draft, author=alice, text="Thank you both")
    )
    run_light_jobs()
    # The signal sent twice (its job run twice) writes nothing more.
    comment_posted.send(sender=type(reply), comment=reply)
    run_light_jobs()

    assert [n.comment_id for n in notifications_of(alice, "comment")] == [first.pk, second.pk]
    assert [n.comment_id for n in notifications_of(bob, "comment")] == [second.pk, reply.pk]
    assert [n.comment_id for n in notifications_of(carol, "comment")] == [reply.pk]
    assert text_of(notifications_of(carol, "comment")[0]) == (
        "alice commented on a draft shared with you: “Thank you both”"
    )


# Transactional: the comment's job closes its database connection after it, as on worker-light.
@pytest.mark.django_db(transaction=True)
def test_a_commenter_whose_share_was_revoked_is_not_told_what_follows(
    alice, bob, carol, make_creation, run_on_commit
):
    draft = make_creation(owner=alice, status="draft")
    to_bob = run_on_commit(
        lambda: sharing.share_with_person(creation=draft, owner=alice, username="bob")
    )
    run_on_commit(lambda: sharing.share_with_person(creation=draft, owner=alice, username="carol"))
    run_on_commit(lambda: sharing.comment_post(creation=draft, author=bob, text="First!"))
    run_light_jobs()
    sharing.share_revoke(share=to_bob)

    run_on_commit(lambda: sharing.comment_post(creation=draft, author=carol, text="A secret note"))
    run_light_jobs()

    assert notifications_of(bob, "comment") == []
    assert texts_of(alice, "comment") == [
        "bob commented on your draft: “First!”",
        "carol commented on your draft: “A secret note”",
    ]


def test_an_event_for_someone_elses_creation_never_reaches_another_creator(
    alice, bob, make_creation
):
    """The listener takes the recipient from the creation itself, whoever sends it."""
    draft = make_creation(owner=alice, status="draft")
    creation_event.send(
        sender=Creation, event="completed", creation=draft, details={"seconds": 1.0}
    )
    assert notifications_of(bob) == []
    assert len(notifications_of(alice)) == 1
