"""The deployment drills: every test here that touches the database ends, like the
reliability suite, by checking the money and the state machine."""

import copy

import pytest
from django.db import connection, connections

from tests.reliability.conftest import *  # noqa: F403 - its invariants check and fixtures

from .engines import PgBouncer


@pytest.fixture
def pgbouncer():
    """A PgBouncer in transaction mode in front of the test PostgreSQL."""
    db = connection.settings_dict
    bouncer = PgBouncer(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.stop()


@pytest.fixture
def through_pgbouncer(transactional_db, pgbouncer, monkeypatch):
    """Every database connection of the test — its own, its threads', and the RQ workers
    it starts — goes through a PgBouncer in transaction mode, set up as settings.py sets
    it up for DATABASE_PGBOUNCER=1."""
    db = connection.settings_dict  # shared by every thread's connection
    saved = copy.deepcopy(db)
    bouncer = pgbouncer
    connections.close_all()
    db.update(HOST="127.0.0.1", PORT=str(bouncer.port), DISABLE_SERVER_SIDE_CURSORS=True)
    db["OPTIONS"] = {
        k: v for k, v in db["OPTIONS"].items() if k not in ("options", "prepare_threshold")
    }
    # Worker subprocesses build their settings from the environment.
    monkeypatch.setenv("DATABASE_PGBOUNCER", "1")
    try:
        yield bouncer
        assert bouncer.client_logins(db["NAME"]) > 0, bouncer.log_tail()
    finally:
        connections.close_all()
        db.clear()
        db.update(saved)
