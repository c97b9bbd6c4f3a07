"""tests/reliability/test_debit_race.py again, every connection through PgBouncer in
transaction mode (many creates at once against a balance that covers only some)."""

import pytest

from tests.reliability.test_debit_race import *  # noqa: F403

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("through_pgbouncer"),
    pytest.mark.slow,
]
