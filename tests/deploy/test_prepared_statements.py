"""The create path's hand-written statements (the debit's one statement, the in-flight
count) are prepared once per connection (phoenix.db); a rollback makes psycopg forget them,
and they are prepared again at their next run."""

import pytest
from django.db import connection, transaction

from phoenix.db import prepared_cursor
from tokens.models import LotDraw

DEBIT = f"INSERT INTO {LotDraw._meta.db_table}"
IN_FLIGHT = "AS in_flight"


@pytest.fixture(autouse=True)
def an_in_flight_limit(settings):
    settings.PHOENIX_MAX_IN_FLIGHT = 50


def runs_of_prepared(fragment: str) -> list[int]:
    """How often each prepared statement holding `fragment` has run on this connection."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            [f"%{fragment}%"],
        )
        return [runs for (runs,) in cursor.fetchall()]


def test_each_create_runs_the_one_prepared_debit_and_count(alice, make_creation):
    for _ in range(3):
        make_creation(owner=alice, status="pending")

    assert runs_of_prepared(DEBIT) == [3]
    assert runs_of_prepared(IN_FLIGHT) == [3]


def test_after_a_rollback_they_are_prepared_again(alice, make_creation):
    make_creation(owner=alice, status="pending")
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        1 / 0  # noqa: B018 - a rolled-back savepoint

    assert runs_of_prepared(DEBIT) == []
    make_creation(owner=alice, status="pending")
    assert runs_of_prepared(DEBIT) == [1]


def test_a_prepared_statement_is_in_the_query_log_as_written(db, django_assert_num_queries):
    with django_assert_num_queries(1) as queries, prepared_cursor() as cursor:
        cursor.execute("SELECT %s::int + %s::int", [1, 2])
        assert cursor.fetchone() == (3,)

    assert queries.captured_queries[0]["sql"] == "SELECT %s::int + %s::int"
    assert runs_of_prepared("$1::int + $2::int") == [1]


def test_a_failing_prepared_statement_raises_django_s_error(db):
    from django.db import DataError

    with pytest.raises(DataError), transaction.atomic(), prepared_cursor() as cursor:
        cursor.execute("SELECT 1 / %s::int", [0])
