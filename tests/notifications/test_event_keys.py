"""Once per event, and every event once: a draft shared again after a revoke, and a post
scheduled and published a second time (after an unpublish), are news again — while the
same event delivered twice, or seen on the card first, stays one notification."""

from creations import services
from creations.events import creation_event
from creations.models import Creation
from sharing import services as sharing
from sharing.signals import draft_shared

from .conftest import notifications_of, unread_of

HTMX = {"HX-Request": "true"}


def test_a_draft_shared_again_after_a_revoke_is_told_again(
    alice, bob, make_creation, django_capture_on_commit_callbacks
):
    draft = make_creation(owner=alice, status="draft")
    with django_capture_on_commit_callbacks(execute=True):
        first = sharing.share_with_person(creation=draft, owner=alice, username="bob")
    sharing.share_revoke(share=first)
    with django_capture_on_commit_callbacks(execute=True):
        second = sharing.share_with_person(creation=draft, owner=alice, username="bob")
    draft_shared.send(sender=type(second), share=second)  # delivered twice: nothing more

    told = notifications_of(bob, "draft_shared")
    assert [n.object_key for n in told] == [str(first.pk), str(second.pk)]
    assert unread_of(bob) == 2


def publish_when_due(creation) -> None:
    Creation.objects.filter(pk=creation.pk).update(publish_at=creation.created_at)
    assert services.creation_publish_due(creation_id=creation.pk)


def test_a_post_scheduled_and_published_twice_is_told_twice(
    alice, make_creation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post = make_creation(owner=alice, status="scheduled")
        publish_when_due(post)
        services.creation_unpublish(creation=post)
        services.creation_publish(creation=post, publish_at=post.created_at.replace(year=2999))
        publish_when_due(post)
        # The second publication's event delivered again: nothing more.
        post.refresh_from_db()
        creation_event.send(
            sender=Creation, event="published", creation=post, details={"scheduled": True}
        )

    assert len(notifications_of(alice, "post_published")) == 2


def test_the_card_poll_reads_the_publication_it_shows_and_writes_no_second_row(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post = make_creation(owner=alice, status="scheduled")
        publish_when_due(post)
        services.creation_unpublish(creation=post)
        services.creation_publish(creation=post, publish_at=post.created_at.replace(year=2999))
    # The second publication, its listener not run yet: the owner's scheduled card shows it.
    with django_capture_on_commit_callbacks(execute=False) as pending:
        publish_when_due(post)
    alice_client.get(f"/creations/{post.id}/card", {"shown": "scheduled"}, headers=HTMX)
    for callback in pending:
        callback()  # the event's own insert finds the row the poll wrote

    first, second = notifications_of(alice, "post_published")
    assert first.read_at is None  # the first publication, not seen on a card
    assert second.read_at is not None
