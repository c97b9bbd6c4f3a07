"""The migration that makes e-mail addresses unique (in any letter case) first checks that
no two accounts share one, and refuses with the addresses and what to do, instead of the
database's bare IntegrityError."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection

migration = importlib.import_module("profiles.migrations.0002_user_email_unique_ci")
User = get_user_model()


@pytest.fixture
def without_the_index(db):
    # As before the migration (DDL is transactional in PostgreSQL: the test's rollback
    # brings the index back).
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX profiles_user_email_unique_ci")


def test_accounts_sharing_an_address_in_any_case_are_named(without_the_index):
    first = User.objects.create_user("sam", email="Sam@Example.com")
    second = User.objects.create_user("sammy", email="sam@example.COM")
    User.objects.create_user("kim", email="kim@example.com")
    User.objects.create_user("staff1")  # no address: left out, like the index does
    User.objects.create_user("staff2")

    with pytest.raises(migration.SharedEmailAddresses) as refusal:
        migration.refuse_shared_addresses(apps, None)

    message = str(refusal.value)
    assert f"sam@example.com (accounts {first.pk}, {second.pk})" in message
    assert "kim@" not in message
    assert "Give each account its own address" in message


def test_distinct_addresses_pass(without_the_index):
    User.objects.create_user("sam", email="sam@example.com")
    User.objects.create_user("kim", email="kim@example.com")
    User.objects.create_user("staff1")
    User.objects.create_user("staff2")

    migration.refuse_shared_addresses(apps, None)
