"""A notification is written once per event: services called twice, a signal sent twice, a
job retried, delivered twice or failed again by recovery all leave one row."""

import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from creations import services
from creations.events import creation_event
from creations.jobs import recovery
from creations.models import Creation
from creations.validation import CreationRequest
from notifications.models import Notification
from notifications.services import notification_create
from profiles.services import creator_signup
from tests.conftest import run_worker_burst, start_worker, stop_worker, wait_for
from tests.creations import fakes

from .conftest import notifications_of, text_of, texts_of

SCRIPTED = "tests.creations.fakes:ScriptedProvider"


def test_the_service_called_twice_writes_one_row(alice, make_creation):
    draft = make_creation(owner=alice, status="draft", prompt="a quiet harbour")
    first = notification_create(recipient_id=alice.pk, kind="creation_finished", creation=draft)
    second = notification_create(recipient_id=alice.pk, kind="creation_finished", creation=draft)
    assert first is not None
    assert second is None
    assert texts_of(alice) == ["Your image is ready: “a quiet harbour”"]


def test_the_database_refuses_a_second_row_for_one_event(alice, make_creation):
    from django.db import IntegrityError

    draft = make_creation(owner=alice, status="draft")
    row = dict(recipient=alice, kind="creation_finished", creation=draft, object_key=str(draft.pk))
    Notification.objects.create(**row, text="one")
    with pytest.raises(IntegrityError):
        Notification.objects.create(**row, text="two")


def test_a_completed_event_sent_twice_notifies_the_owner_once(alice, make_creation):
    draft = make_creation(owner=alice, status="draft", kind="video", prompt="waves at night")
    for _ in range(2):
        creation_event.send(
            sender=Creation, event="completed", creation=draft, details={"seconds": 3.0}
        )
    [notification] = notifications_of(alice)
    assert notification.kind == "creation_finished"
    assert text_of(notification) == "Your video is ready: “waves at night”"
    assert notification.creation_id == draft.pk
    assert notification.read_at is None


def test_the_services_announce_after_commit_and_once(
    alice, make_creation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        processing = make_creation(owner=alice, status="processing")
    assert notifications_of(alice) == []  # nothing finished yet
    with django_capture_on_commit_callbacks(execute=True):
        services.creation_fail(creation=processing, code="timed_out")
        services.creation_fail(creation=processing, code="timed_out")  # again: nothing to do
    [failed] = notifications_of(alice)
    assert failed.kind == "creation_failed"
    assert text_of(failed) == "Your image failed, 1 token refunded: “a red fox in the snow”"


def test_a_scheduled_post_tells_its_owner_when_it_goes_out_not_when_posted_now(
    alice, make_creation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        now_post = make_creation(owner=alice, status="published", caption="Posted by hand")
        scheduled = make_creation(owner=alice, status="scheduled", caption="Dawn over the bay")
    Creation.objects.filter(pk=scheduled.pk).update(publish_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert services.creation_publish_due(creation_id=scheduled.pk)
        assert not services.creation_publish_due(creation_id=scheduled.pk)
    published = notifications_of(alice, "post_published")
    assert [n.creation_id for n in published] == [scheduled.pk]
    assert text_of(published[0]) == "Your scheduled post is published: “Dawn over the bay”"
    # Posted now by its owner: nothing to tell (only its "ready" from when it finished).
    assert [n.kind for n in Notification.objects.filter(creation=now_post)] == ["creation_finished"]


def test_canceling_tells_nobody(alice, make_creation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_creation(owner=alice, status="canceled")
    assert notifications_of(alice) == []


# ---------------------------------------------------------------------------------------
# Through real workers: the listeners run in the work horse, after the job's COMMIT.


@pytest.fixture
def dana(transactional_db):
    return creator_signup(username="dana", password="dana-password-123")


def submit(user, kind="image", prompt="a red fox") -> Creation:
    if kind == "image":
        request = CreationRequest("image", prompt, "1:1")
    else:
        request = CreationRequest("video", prompt, "", "landscape")
    creation, _ = services.creation_submit(user=user, request=request)
    return creation


@pytest.mark.django_db(transaction=True)
def test_a_video_finished_by_a_real_worker_notifies_once(dana):
    creation = submit(dana, kind="video", prompt="a slow river")
    worker = start_worker("--burst")
    assert worker.wait(timeout=90) == 0, worker.stderr.read().decode()
    worker.stderr.close()

    creation.refresh_from_db()
    assert creation.status == "draft"
    [notification] = notifications_of(dana)
    assert (notification.kind, notification.creation_id) == ("creation_finished", creation.pk)
    assert notification.read_at is None


@pytest.mark.django_db(transaction=True)
def test_a_retried_job_and_a_second_delivery_notify_once(dana, settings):
    """A job retried twice completes once; then its "completed" is delivered twice at the
    same moment (a second delivery of the job, say), the first still in its transaction
    when the second looks: the second finds nothing yet and inserts, and only the unique
    constraint makes it wait for the first and write nothing."""
    from creations.jobs.generation import creation_generate

    settings.PHOENIX_IMAGE_PROVIDER = SCRIPTED
    fakes.calls.clear()
    creation = submit(dana, prompt="transient:2")
    run_worker_burst()
    assert fakes.calls["transient:2"] == 3
    assert creation_generate(creation_id=creation.id) == "not_claimed"
    creation.refresh_from_db()
    Notification.objects.filter(recipient=dana).delete()  # the delivery again, from scratch

    first_wrote = threading.Event()
    errors = []

    def deliver(*, hold: bool) -> None:
        try:
            if hold:
                with transaction.atomic():
                    completed(creation)
                    first_wrote.set()
                    time.sleep(0.5)  # the second delivery looks, and inserts, meanwhile
            else:
                first_wrote.wait(timeout=10)
                completed(creation)
        except BaseException as error:  # noqa: BLE001 - re-raised below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, kwargs={"hold": hold}) for hold in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors

    assert [n.kind for n in notifications_of(dana)] == ["creation_finished"]


def completed(creation: Creation) -> None:
    creation_event.send(
        sender=Creation, event="completed", creation=creation, details={"seconds": 1.0}
    )


@pytest.mark.django_db(transaction=True)
def test_a_job_that_fails_notifies_once_with_its_refund(dana, settings):
    settings.PHOENIX_IMAGE_PROVIDER = SCRIPTED
    creation = submit(dana, prompt="safety")
    run_worker_burst()
    creation.refresh_from_db()
    assert creation.status == "failed"
    # Failing it again (recovery, staff) changes nothing, and tells nothing more.
    assert not services.creation_fail(creation=creation, code="generation_failed")

    [notification] = notifications_of(dana)
    assert notification.kind == "creation_failed"
    assert text_of(notification) == "Your image failed, 1 token refunded: “safety”"


@pytest.mark.django_db(transaction=True)
def test_a_killed_job_failed_by_recovery_and_recovered_again_notifies_once(dana):
    creation = submit(dana, kind="video", prompt="waves")
    worker = start_worker("--burst", PHOENIX_LOCAL_PROVIDER_DELAY="30")
    wait_for(lambda: Creation.objects.get(pk=creation.pk).status == "processing", what="processing")
    stop_worker(worker)
    later = timezone.now() + timedelta(
        seconds=settings.PHOENIX_JOB_TIMEOUT["video"] + settings.PHOENIX_DEADLINE_GRACE + 1
    )
    assert recovery.creations_recover(now=later)["failed"] == 1
    assert recovery.creations_recover(now=later)["failed"] == 0
    # A straggling "refunded" signal (a listener retried by hand, say) writes nothing either.
    creation.refresh_from_db()
    creation_event.send(
        sender=Creation, event="refunded", creation=creation, details={"amount": 10}
    )

    [notification] = notifications_of(dana)
    assert notification.kind == "creation_failed"
    assert text_of(notification) == "Your video failed, 10 tokens refunded: “waves”"
