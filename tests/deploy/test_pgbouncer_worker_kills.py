"""tests/reliability/test_worker_kills.py again, every connection through PgBouncer in
transaction mode (real forking RQ workers killed in the middle of a job)."""

import pytest

from tests.reliability.test_worker_kills import *  # noqa: F403

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("through_pgbouncer"),
    pytest.mark.slow,
]
