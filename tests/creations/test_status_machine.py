import pytest

from creations import services
from creations.models import Creation, InvalidTransition
from creations.validation import CreationRequest

ALL = [status for status, _ in Creation.Status.choices]
ALLOWED = {
    ("pending", "processing"),
    ("pending", "failed"),
    ("processing", "draft"),
    ("processing", "failed"),
    ("draft", "published"),
}


@pytest.mark.parametrize("source", ALL)
@pytest.mark.parametrize("target", ALL)
def test_only_the_documented_transitions_are_allowed(source, target):
    creation = Creation(status=source)
    assert creation.can_become(target) == ((source, target) in ALLOWED)
    if (source, target) not in ALLOWED:
        with pytest.raises(InvalidTransition):
            creation.check_transition(target)


@pytest.fixture
def pending(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        creation, _ = services.creation_submit(
            user=alice, request=CreationRequest("image", "a fox", "1:1")
        )
    return creation


def test_publishing_a_pending_creation_raises_and_changes_nothing(pending):
    with pytest.raises(InvalidTransition):
        services.creation_publish(creation=pending, caption="hello")
    pending.refresh_from_db()
    assert (pending.status, pending.caption, pending.published_at) == ("pending", "", None)


def test_completing_a_pending_creation_raises_and_changes_nothing(pending):
    with pytest.raises(InvalidTransition):
        services.creation_complete(creation=pending, media="x.png", width=1, height=1)
    pending.refresh_from_db()
    assert (pending.status, pending.media.name) == ("pending", "")


def test_deleting_an_in_flight_creation_is_refused(pending):
    with pytest.raises(InvalidTransition):
        services.creation_delete(creation=pending)
    assert Creation.objects.filter(pk=pending.pk).exists()


def test_failing_a_draft_is_refused_and_refunds_nothing(pending):
    services.creation_claim(creation_id=pending.id)
    pending.refresh_from_db()
    assert services.creation_complete(creation=pending, media="x.png", width=1, height=1)
    assert services.creation_fail(creation=pending, code="generation_failed") is False
    pending.refresh_from_db()
    assert pending.status == "draft"
    assert pending.ledger_entries.filter(kind="refund").count() == 0


def test_a_claim_succeeds_once(pending):
    assert services.creation_claim(creation_id=pending.id) is not None
    assert services.creation_claim(creation_id=pending.id) is None
    pending.refresh_from_db()
    assert (pending.status, pending.attempts) == ("processing", 1)


def test_the_owner_lookup_is_404_for_anyone_else(pending, bob):
    from django.http import Http404

    assert services.creation_for_owner(owner=pending.owner, creation_id=pending.id) == pending
    with pytest.raises(Http404):
        services.creation_for_owner(owner=bob, creation_id=pending.id)
    with pytest.raises(Http404):
        services.creation_for_owner(owner=bob, creation_id="not-a-uuid")
