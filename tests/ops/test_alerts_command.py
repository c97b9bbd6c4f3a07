"""`manage.py phoenix_alerts`: the same checks as the metrics page, exit status for cron."""

import subprocess
import sys

import pytest

from creations import services
from tests.conftest import ROOT, worker_environment

from .conftest import creation_in_state


def phoenix_alerts(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "phoenix_alerts", *args],
        cwd=ROOT,
        env=worker_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.django_db(transaction=True)
def test_it_exits_0_when_everything_is_green(alice):
    for _ in range(10):
        creation_in_state(owner=alice, status="draft", seconds=5)
    creation_in_state(owner=alice, status="failed", error_code="timed_out")  # 1 of 11, refunded

    result = phoenix_alerts()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "[OK] Every failure and cancel refunded" in result.stdout
    assert "[OK] Failed ≤ 10% of the window: 1 of 11 failed (9.1%)" in result.stdout
    assert "All alerts green." in result.stdout


@pytest.mark.django_db(transaction=True)
def test_it_exits_non_zero_when_a_failure_was_not_refunded(alice):
    for _ in range(10):
        creation_in_state(owner=alice, status="draft", seconds=5)
    creation_in_state(owner=alice, status="failed", error_code="timed_out", refunded=False)

    result = phoenix_alerts("--window", "24h")

    assert result.returncode != 0
    assert (
        "[ALERT] Every failure and cancel refunded: "
        "1 failed or canceled creation(s) without a refund"
    ) in result.stdout
    assert "unrefunded_failures" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_a_missed_success_target_is_printed_but_does_not_fail(alice):
    creation_in_state(owner=alice, status="draft", seconds=45)

    result = phoenix_alerts()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "[TARGET MISSED] 95% of images within 30 s" in result.stdout


@pytest.mark.django_db(transaction=True)
def test_cancels_are_not_failures_for_the_alert(alice):
    for _ in range(5):
        creation_in_state(owner=alice, status="draft", seconds=5)
    for _ in range(5):
        services.creation_cancel(creation=creation_in_state(owner=alice, status="pending"))

    result = phoenix_alerts()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "[OK] Failed ≤ 10% of the window: 0 of 10 failed (0.0%)" in result.stdout
    assert "[OK] Every failure and cancel refunded" in result.stdout
