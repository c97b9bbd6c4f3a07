"""A comment on a shared draft tells its owner and past commenters from a job on "light",
sent after COMMIT: the request that posts it costs the same however many took part in the
thread, and the job, read when it runs, is safe to run twice."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from redis.exceptions import RedisError

from notifications.jobs.sending import NOTIFY_COMMENT, comment_job_id
from notifications.models import Notification
from phoenix import redis_clients
from profiles.services import creator_signup
from sharing import services as sharing
from tests.conftest import run_light_jobs
from tests.sharing.conftest import client_for

# The comments' jobs run here as on worker-light: each closes its database connection
# after, which only a transactional test survives.
pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true"}


def comments_url(draft) -> str:
    return f"/creations/{draft.pk}/comments"


def told_of_comments() -> set[str]:
    return set(
        Notification.objects.filter(kind="comment").values_list("recipient__username", flat=True)
    )


@pytest.fixture
def thread(alice, make_creation, django_capture_on_commit_callbacks):
    """alice's draft shared with `people` new creators, each of whom commented (their
    comments' jobs run): a thread of that many past commenters."""

    def make(people: int):
        draft = make_creation(owner=alice, status="draft")
        for n in range(people):
            person = creator_signup(username=f"p{people}-{n}", password="a-password-123")
            with django_capture_on_commit_callbacks(execute=True):
                sharing.share_with_person(creation=draft, owner=alice, username=person.username)
                sharing.comment_post(creation=draft, author=person, text=f"note {n}")
        run_light_jobs()
        Notification.objects.all().delete()
        return draft

    return make


def test_the_request_writes_no_notification_its_job_on_light_does(
    thread, alice, django_capture_on_commit_callbacks
):
    draft = thread(2)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice).post(comments_url(draft), {"text": "Thanks!"}, headers=HTMX)

    assert response.status_code == 201
    assert told_of_comments() == set()
    [job] = redis_clients.get_queue("light").get_jobs()
    assert job.func_name == NOTIFY_COMMENT
    comment_id = job.args[0]
    assert job.id == comment_job_id(comment_id)

    run_light_jobs()

    assert told_of_comments() == {"p2-0", "p2-1"}
    assert job.return_value(refresh=True) == 2


def test_posting_costs_the_same_queries_however_many_commented_before(
    thread, alice, django_capture_on_commit_callbacks
):
    def queries_to_post(draft) -> int:
        with CaptureQueriesContext(connection) as captured:
            with django_capture_on_commit_callbacks(execute=True):
                response = client_for(alice).post(
                    comments_url(draft), {"text": "Thanks!"}, headers=HTMX
                )
        assert response.status_code == 201
        return len(captured)

    small, large = thread(1), thread(6)
    few, many = queries_to_post(small), queries_to_post(large)

    assert few == many
    run_light_jobs()
    assert len(told_of_comments()) == 7


def test_the_job_run_twice_tells_nobody_twice(thread, alice, django_capture_on_commit_callbacks):
    draft = thread(2)
    with django_capture_on_commit_callbacks(execute=True):
        sharing.comment_post(creation=draft, author=alice, text="Thanks!")
    [job] = redis_clients.get_queue("light").get_jobs()
    run_light_jobs()

    redis_clients.get_queue("light").enqueue_job(job)  # RQ runs it again (a retry)
    run_light_jobs()

    assert job.return_value(refresh=True) == 0
    assert Notification.objects.filter(kind="comment").count() == 2


def test_a_comment_deleted_before_its_job_runs_tells_nobody(
    thread, alice, django_capture_on_commit_callbacks
):
    draft = thread(2)
    with django_capture_on_commit_callbacks(execute=True):
        comment = sharing.comment_post(creation=draft, author=alice, text="Oops, wrong draft")
    sharing.comment_delete(comment=comment, user=alice)

    run_light_jobs()

    assert told_of_comments() == set()


def test_with_redis_refusing_the_job_the_request_writes_them_itself(
    thread, alice, monkeypatch, django_capture_on_commit_callbacks
):
    draft = thread(2)

    def refuse(*args, **kwargs):
        raise RedisError("down")

    monkeypatch.setattr(redis_clients.get_queue("light").__class__, "enqueue", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        sharing.comment_post(creation=draft, author=alice, text="Thanks!")

    assert told_of_comments() == {"p2-0", "p2-1"}


def test_an_account_closed_before_the_job_runs_is_not_told(
    thread, alice, django_capture_on_commit_callbacks
):
    draft = thread(2)
    with django_capture_on_commit_callbacks(execute=True):
        sharing.comment_post(creation=draft, author=alice, text="Thanks!")
    get_user_model().objects.filter(username="p2-0").update(is_active=False)

    run_light_jobs()

    assert told_of_comments() == {"p2-1"}
