"""The deployment drills: every test here that touches the database ends, like the
reliability suite, by checking the money and the state machine."""

from tests.reliability.conftest import *  # noqa: F403 - its invariants check and fixtures
