"""The linters are part of the suite (so CI runs them with the README's test command):
ruff's checks and format, the import layers and cycles (import-linter, grimp), and bandit
at medium severity and up — `make lint`."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_make_lint_is_clean():
    result = subprocess.run(
        ["make", "--no-print-directory", "lint"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
