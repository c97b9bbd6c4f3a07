"""Reports sent at the same moment: the database's partial unique indexes decide, and the
loser is answered as a second report is."""

import pytest

from moderation.models import Case, Report
from profiles.services import creator_signup
from tests.conftest import run_at_once

from .conftest import client_for, post_json, report_url


@pytest.mark.django_db(transaction=True)
def test_the_same_person_reporting_twice_at_once_files_one_report(alice, bob, make_creation):
    post = make_creation(owner=alice, status="published")

    def send() -> int:
        return post_json(client_for(bob), report_url(post), {"category": "spam"}).status_code

    for _ in range(5):
        Report.objects.all().delete()
        Case.objects.all().delete()
        assert sorted(run_at_once([send, send, send])) == [201, 409, 409]
        assert Report.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_first_reports_by_several_people_at_once_open_one_case(alice, make_creation):
    post = make_creation(owner=alice, status="published")
    reporters = [creator_signup(username=f"r{i}", password="r-password-123") for i in range(4)]

    def send(user):
        return lambda: post_json(client_for(user), report_url(post), {"category": "spam"})

    responses = run_at_once([send(user) for user in reporters])

    assert [r.status_code for r in responses] == [201] * 4
    case = Case.objects.get()
    assert case.reports.count() == 4
