"""The fake Stripe is a Procfile line: started outside local development it does nothing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "env", [{"DEBUG": "0"}, {"DEBUG": "1", "STRIPE_SECRET_KEY": "sk_live_51abc"}]
)
def test_the_fake_stripe_refuses_to_run_outside_local_development(env):
    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "STRIPE_SECRET_KEY")}
    result = subprocess.run(
        [sys.executable, "-m", "tokens.fake_stripe", "--port", "0", "--webhook-secret", "x"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert "only in local development" in result.stderr
