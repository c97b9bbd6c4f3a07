"""The queue dashboard (django-rq's, under the admin) needs its own permission: a staff
member without it sees neither the dashboard nor its link, and cannot empty a queue."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from creations import queues

DASHBOARD = "/admin/django_rq/dashboard/"
READS = [
    DASHBOARD,
    f"{DASHBOARD}queues/0/",
    f"{DASHBOARD}queues/0/failed/",
    f"{DASHBOARD}stats.json",
    f"{DASHBOARD}metrics/",
]


@pytest.fixture
def moderator(db, client):
    """Staff who take posts down and refund, but do not operate the queues."""
    user = get_user_model().objects.create_user(
        username="moderator", password="moderator-password-123", is_staff=True
    )
    user.user_permissions.add(Permission.objects.get(codename="take_down_creation"))
    return user


@pytest.fixture
def operator(db):
    user = get_user_model().objects.create_user(
        username="operator", password="operator-password-123", is_staff=True
    )
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="django_rq", codename="admin")
    )
    return user


@pytest.mark.parametrize("url", READS)
def test_staff_without_the_queue_permission_are_refused_the_dashboard(client, moderator, url):
    client.force_login(moderator)
    assert client.get(url).status_code == 403


def test_staff_without_the_queue_permission_cannot_empty_a_queue(client, moderator):
    queue = queues.get_queue("default")
    queue.enqueue("creations.jobs.recover_creations")
    client.force_login(moderator)

    response = client.post(f"{DASHBOARD}queues/{_index('default')}/empty/", {"post": "yes"})

    assert response.status_code == 403
    assert queue.count == 1


def test_the_dashboard_link_is_hidden_from_staff_without_the_permission(client, moderator):
    client.force_login(moderator)
    assert "django_rq" not in client.get("/admin/").content.decode()


@pytest.mark.parametrize("url", READS)
def test_staff_with_the_queue_permission_use_the_dashboard(client, operator, url):
    client.force_login(operator)
    assert client.get(url).status_code == 200


def test_an_anonymous_visitor_is_sent_to_the_log_in(client, db):
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def _index(name: str) -> int:
    from django_rq.settings import get_queues_list

    return [q["name"] for q in get_queues_list()].index(name)
