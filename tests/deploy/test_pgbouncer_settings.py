"""Phoenix behind PgBouncer in transaction mode (DATABASE_PGBOUNCER=1): no startup options
(PgBouncer refuses them), no server-side cursors, no prepared statements, and still UTC."""

import json
import subprocess
import sys

import pytest
from django.db import connection

from creations.models import Creation
from tests.conftest import ROOT, worker_environment

# Run by manage.py shell: a query, a server-side-cursor-style iteration, the time zone.
SCRIPT = """
import json
from django.db import connection
from creations.models import Creation
names = [c.prompt for c in Creation.objects.order_by("created_at").iterator(chunk_size=1)]
with connection.cursor() as cursor:
    cursor.execute("SELECT current_setting('TimeZone')")
    zone = cursor.fetchone()[0]
print(json.dumps({"prompts": names, "zone": zone}))
"""


def manage_shell(script: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=worker_environment(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_database_settings_change_as_pgbouncer_needs():
    script = (
        "from django.conf import settings; import json; d = settings.DATABASES['default']; "
        "print(json.dumps([d['OPTIONS'].get('options'), d['DISABLE_SERVER_SIDE_CURSORS'], "
        "d['OPTIONS'].get('prepare_threshold')]))"
    )

    direct = manage_shell(script)
    bounced = manage_shell(script, DATABASE_PGBOUNCER="1")

    # Prepared statements (phoenix.db) only on a connection of its own to PostgreSQL.
    assert json.loads(direct.stdout.splitlines()[-1]) == ["-c timezone=UTC", False, 2**31 - 1]
    assert json.loads(bounced.stdout.splitlines()[-1]) == [None, True, None]


@pytest.mark.django_db(transaction=True)
def test_phoenix_reads_and_writes_through_pgbouncer_in_utc_and_needs_the_setting(
    pgbouncer, alice, make_creation
):
    make_creation(owner=alice, status="draft", prompt="first")
    make_creation(owner=alice, status="draft", prompt="second")
    db = connection.settings_dict
    through = f"postgres://{db['USER']}@127.0.0.1:{pgbouncer.port}/{db['NAME']}"

    bounced = manage_shell(SCRIPT, DATABASE_URL=through, DATABASE_PGBOUNCER="1")
    refused = manage_shell(SCRIPT, DATABASE_URL=through)

    assert bounced.returncode == 0, bounced.stderr
    assert json.loads(bounced.stdout.splitlines()[-1]) == {
        "prompts": ["first", "second"],
        "zone": "UTC",
    }
    assert refused.returncode != 0
    assert "unsupported startup parameter: options" in refused.stderr
    assert pgbouncer.client_logins(db["NAME"]) >= 1
    assert Creation.objects.count() == 2


def test_the_psycopg_pool_is_for_web_processes_only():
    script = (
        "from django.conf import settings; import json; d = settings.DATABASES['default']; "
        "print(json.dumps([d['OPTIONS'].get('pool'), d['CONN_MAX_AGE']]))"
    )

    worker = manage_shell(script, DATABASE_POOL_SIZE="8")
    web = manage_shell(script, DATABASE_POOL_SIZE="8", PHOENIX_PROCESS="web")

    # RQ forks a work horse per job: a pool must never be copied into one.
    assert json.loads(worker.stdout.splitlines()[-1]) == [None, 60]
    assert json.loads(web.stdout.splitlines()[-1]) == [
        {"min_size": 1, "max_size": 8, "timeout": 10},
        0,
    ]
