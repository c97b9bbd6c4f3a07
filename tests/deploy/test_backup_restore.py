"""The backup of docs/deploy.md restores: a custom-format pg_dump, restored into a scratch
database, passes `migrate --check` and reconciles to the token."""

import subprocess
import sys

import psycopg
import pytest
from django.db import connection

from creations.models import Creation
from tests.conftest import ROOT, worker_environment
from tokens.models import LedgerEntry, TokenAccount

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env or None)


def test_a_nightly_dump_restores_into_a_database_that_reconciles(
    alice, bob, make_creation, tmp_path, figure
):
    for status in ("published", "draft", "failed", "canceled", "scheduled"):
        make_creation(owner=alice, status=status)
    make_creation(owner=bob, status="draft", kind="video")
    db = connection.settings_dict
    server = ["-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"]]
    dump = tmp_path / "phoenix.dump"
    scratch = f"{db['NAME']}_restore"

    dumped = run("pg_dump", *server, "--format=custom", f"--file={dump}", db["NAME"])
    assert dumped.returncode == 0, dumped.stderr
    run("dropdb", *server, "--if-exists", scratch)
    try:
        assert run("createdb", *server, scratch).returncode == 0
        restored = run("pg_restore", *server, "--no-owner", f"--dbname={scratch}", str(dump))
        assert restored.returncode == 0, restored.stderr
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{scratch}"
        env = worker_environment(DATABASE_URL=url)
        for command in (["migrate", "--check"], ["reconcile_tokens"]):
            result = subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert result.returncode == 0, result.stdout + result.stderr
        with psycopg.connect(url.replace("postgres://", "postgresql://")) as copy:
            copied = copy.execute(
                "SELECT (SELECT count(*) FROM creations_creation), "
                "(SELECT count(*) FROM tokens_ledgerentry), "
                "(SELECT sum(balance) FROM tokens_tokenaccount)"
            ).fetchone()
    finally:
        run("dropdb", *server, "--if-exists", scratch)

    total = sum(TokenAccount.objects.values_list("balance", flat=True))
    assert copied == (Creation.objects.count(), LedgerEntry.objects.count(), total)
    figure(
        f"backup drill: pg_dump -Fc restored into a scratch database: {copied[0]} creations, "
        f"{copied[1]} ledger entries, migrate --check and reconcile_tokens clean"
    )
