"""tests/reliability/test_recovery_races.py again, every connection through PgBouncer in
transaction mode (the recovery pass against a late job and against itself)."""

import pytest

from tests.reliability.test_recovery_races import *  # noqa: F403

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("through_pgbouncer"),
    pytest.mark.slow,
]
