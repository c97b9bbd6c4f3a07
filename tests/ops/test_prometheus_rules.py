"""ops/prometheus/alerts.yml: valid rules, each alert shown firing on a synthetic series
(alerts.test.yml), and every metric they read is one /metrics exports."""

import re
import shutil
import subprocess
from pathlib import Path

from django.urls import reverse

from tests.conftest import ROOT

RULES = ROOT / "ops" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "ops" / "prometheus" / "alerts.test.yml"


def promtool(*args: str | Path) -> subprocess.CompletedProcess:
    # Debian's prometheus package; `make deploy-deps` installs it.
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: run `make deploy-deps`"
    return subprocess.run(
        [binary, *map(str, args)], capture_output=True, text=True, timeout=60, cwd=RULES.parent
    )


def test_the_rules_are_valid():
    result = promtool("check", "rules", RULES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 13 rules found" in result.stdout


def test_each_alert_fires_on_its_synthetic_series():
    result = promtool("test", "rules", RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    tested = set(re.findall(r"alertname: (\w+)", RULE_TESTS.read_text()))
    defined = set(re.findall(r"- alert: (\w+)", RULES.read_text()))
    assert tested == defined


def test_the_rules_read_only_metrics_that_are_exported(client, plain_staff):
    client.force_login(plain_staff)
    exported = client.get(reverse("prometheus_metrics")).content.decode()
    rules = "\n".join(
        line for line in RULES.read_text().splitlines() if not line.lstrip().startswith("#")
    )
    names = set(re.findall(r"\b(phoenix_\w+)", rules))
    assert names >= {"phoenix_creations_failed_total", "phoenix_creation_seconds_bucket"}
    for name in names:
        assert re.search(rf"^{name}[{{ ]", exported, re.MULTILINE), name
