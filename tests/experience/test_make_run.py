"""`make run DB_NAME=… PORT=…`: the database `make db` creates is the one every process
uses, and the site (and the fake Stripe's webhook) is on PORT."""

import os
import subprocess
import uuid

import psycopg
import pytest

from tests.conftest import ROOT

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def make(*args: str) -> subprocess.CompletedProcess:
    # install/services are taken as done (-o): the venv and the servers exist here.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORT", "DB_NAME")}
    return subprocess.run(
        ["make", "-o", "install", "-o", "services", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_make_run_passes_db_name_and_port_to_every_process():
    dry = make("-n", "run", "DB_NAME=phoenix_elsewhere", "PORT=8123")
    assert dry.returncode == 0, dry.stderr
    commands = dry.stdout.replace("\\\n", " ")
    assert "createdb -h 127.0.0.1 -U postgres phoenix_elsewhere" in commands
    migrate = next(line for line in commands.splitlines() if "manage.py migrate" in line)
    assert "DATABASE_URL=postgres://postgres@127.0.0.1:5432/phoenix_elsewhere" in migrate
    honcho = next(line for line in commands.splitlines() if "honcho" in line)
    assert "DATABASE_URL=postgres://postgres@127.0.0.1:5432/phoenix_elsewhere" in honcho
    assert "GUNICORN_BIND=127.0.0.1:8123" in honcho
    assert "PHOENIX_SITE_URL=http://localhost:8123" in honcho
    assert "PHOENIX_PORT=8123" in honcho
    # honcho gives each process its own PORT: the fake Stripe finds the site by PHOENIX_PORT.
    procfile_dev = (ROOT / "Procfile.dev").read_text()
    assert "http://127.0.0.1:${PHOENIX_PORT:-8000}/stripe/webhook" in procfile_dev


@pytest.mark.django_db(transaction=True)
def test_make_db_migrates_the_database_it_creates():
    name = f"phoenix_make_{uuid.uuid4().hex[:8]}"
    try:
        made = make("db", f"DB_NAME={name}")
        assert made.returncode == 0, made.stdout + made.stderr
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}") as conn:
            applied = conn.execute(
                "SELECT count(*) FROM django_migrations WHERE app = 'creations'"
            ).fetchone()[0]
        assert applied > 0
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # nosec B608
