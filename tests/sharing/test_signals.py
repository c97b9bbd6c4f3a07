"""draft_shared and comment_posted are sent once each, after COMMIT, and never for a
refused request or a rolled-back transaction (notifications listen to them)."""

import pytest
from django.db import transaction

from sharing import services, signals
from sharing.models import Comment, Share


@pytest.fixture
def received():
    heard = []

    def on_shared(sender, *, share, **kwargs):
        # Sent after COMMIT: the row is there for a listener on another connection too.
        heard.append(("draft_shared", share.pk, Share.objects.filter(pk=share.pk).exists()))

    def on_comment(sender, *, comment, **kwargs):
        heard.append(("comment_posted", comment.pk, Comment.objects.filter(pk=comment.pk).exists()))

    signals.draft_shared.connect(on_shared, dispatch_uid="test-shared")
    signals.comment_posted.connect(on_comment, dispatch_uid="test-comment")
    yield heard
    signals.draft_shared.disconnect(dispatch_uid="test-shared")
    signals.comment_posted.disconnect(dispatch_uid="test-comment")


@pytest.mark.django_db(transaction=True)
def test_each_signal_is_sent_once_after_commit(received, alice, bob, make_creation):
    draft = make_creation(owner=alice, status="draft")
    with transaction.atomic():
        share = services.share_with_person(creation=draft, owner=alice, username="bob")
        assert received == []  # not before COMMIT
    assert received == [("draft_shared", share.pk, True)]

    comment = services.comment_post(creation=draft, author=bob, text="hello")
    services.share_link_create(creation=draft)  # a link names nobody: no signal
    assert received == [("draft_shared", share.pk, True), ("comment_posted", comment.pk, True)]


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_for_a_refusal_or_a_rollback(received, alice, bob, make_creation):
    draft = make_creation(owner=alice, status="draft")
    with pytest.raises(services.SharingRefused):
        services.share_with_person(creation=draft, owner=alice, username="nobody")
    with pytest.raises(services.SharingRefused):
        services.comment_post(creation=draft, author=bob, text="   ")

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        services.share_with_person(creation=draft, owner=alice, username="bob")
        services.comment_post(creation=draft, author=alice, text="gone")
        raise Undo

    assert received == []
    assert not Share.objects.exists() and not Comment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_failing_listener_does_not_undo_or_break_the_share(alice, bob, make_creation):
    draft = make_creation(owner=alice, status="draft")

    def broken(sender, **kwargs):
        raise RuntimeError("notifications are down")

    signals.draft_shared.connect(broken, dispatch_uid="test-broken")
    try:
        share = services.share_with_person(creation=draft, owner=alice, username="bob")
    finally:
        signals.draft_shared.disconnect(dispatch_uid="test-broken")
    assert Share.objects.filter(pk=share.pk, revoked_at__isnull=True).exists()
