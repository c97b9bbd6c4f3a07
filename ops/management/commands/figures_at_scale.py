"""Times the figures on a big ledger: `manage.py figures_at_scale --fill` fills the database
(DATABASE_URL: never production's) with 1,000,000 ledger rows and 300,000 creations spread
over a year, by generate_series; then one /metrics scrape and one alert evaluation are
timed. Rough numbers for people (bench/ measures the goal `figures_ms_at_1m_ledger`)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from prometheus_client import generate_latest

from ops import alerting, exporter, figures
from ops.rollup import rollup_run

# 10,000 creators, 300,000 creations over the last 365 days (the last 50 pending, about 1 in
# 14 failed and 1 in 33 canceled, each of those refunded), one debit per creation, one grant
# per creator, grants up to 1,000,000 ledger rows in all; ledger ids grow with created_at;
# every balance equals its ledger sum.
FILL_SQL = """
INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
                       is_staff, is_active, date_joined)
SELECT '!', false, 'scale' || i, '', '', '', false, true, now() - interval '366 days'
FROM generate_series(1, 10000) AS i;

INSERT INTO tokens_tokenaccount (user_id, balance, created_at, updated_at)
SELECT id, 0, date_joined, date_joined FROM auth_user WHERE username LIKE 'scale%';

CREATE TEMP TABLE scale_accounts AS
SELECT row_number() OVER (ORDER BY a.id) - 1 AS n, a.id, a.user_id
FROM tokens_tokenaccount a JOIN auth_user u ON u.id = a.user_id WHERE u.username LIKE 'scale%';

INSERT INTO creations_creation (id, kind, prompt, aspect_ratio, orientation, status, cost,
    media, poster, progress, error_code, error_message, caption, attempts, created_at,
    owner_id, provider_task_id, takedown_reason, request_hash, processing_at, draft_at,
    failed_at, canceled_at, published_at)
SELECT gen_random_uuid(), kind, 'a fox in the snow', '1:1', '', status, cost,
    CASE WHEN status IN ('draft', 'published') THEN 'creations/x.png' ELSE '' END, '',
    CASE WHEN status IN ('draft', 'published') THEN 100 ELSE 0 END,
    CASE WHEN status = 'failed' THEN 'timed_out' ELSE '' END, '', '', 1, created_at,
    owner_id, '', '', '',
    CASE WHEN status <> 'pending' THEN created_at + interval '1 second' END,
    CASE WHEN status IN ('draft', 'published') THEN created_at + interval '12 seconds' END,
    CASE WHEN status = 'failed' THEN created_at + interval '30 seconds' END,
    CASE WHEN status = 'canceled' THEN created_at + interval '5 seconds' END,
    CASE WHEN status = 'published' THEN created_at + interval '1 minute' END
FROM (
    SELECT CASE WHEN i % 5 = 0 THEN 'video' ELSE 'image' END AS kind,
        CASE WHEN i > 299950 THEN 'pending' WHEN i % 14 = 0 THEN 'failed'
             WHEN i % 33 = 0 THEN 'canceled' WHEN i % 4 = 0 THEN 'published'
             ELSE 'draft' END AS status,
        CASE WHEN i % 5 = 0 THEN 10 ELSE 1 END AS cost,
        now() - interval '365 days' + (i * interval '365 days') / 300000 AS created_at,
        a.user_id AS owner_id
    FROM generate_series(1, 300000) AS i JOIN scale_accounts a ON a.n = i % 10000
) AS c;

CREATE TEMP TABLE scale_bonus AS
SELECT 1000000 - 10000 - count(*) - count(*) FILTER (WHERE status IN ('failed', 'canceled'))
    AS n FROM creations_creation c JOIN scale_accounts a ON a.user_id = c.owner_id;

-- One ledger stream in time order (ids grow with created_at): welcome grants, debits,
-- refunds and small grants up to 1,000,000 rows.
INSERT INTO tokens_ledgerentry (account_id, kind, amount, balance_after, creation_id,
                                reason, created_at)
SELECT account_id, kind, amount, 0, creation_id, reason, created_at FROM (
    SELECT a.id AS account_id, 'grant' AS kind, 100000 AS amount, NULL::uuid AS creation_id,
        'welcome' AS reason, now() - interval '366 days' AS created_at
    FROM scale_accounts a
    UNION ALL
    SELECT a.id, 'debit', -c.cost, c.id, '', c.created_at
    FROM creations_creation c JOIN scale_accounts a ON a.user_id = c.owner_id
    UNION ALL
    SELECT a.id, 'refund', c.cost, c.id, '', c.created_at + interval '30 seconds'
    FROM creations_creation c JOIN scale_accounts a ON a.user_id = c.owner_id
    WHERE c.status IN ('failed', 'canceled')
    UNION ALL
    SELECT a.id, 'grant', 5, NULL, 'bonus',
        now() - interval '365 days' + (i * interval '365 days') / b.n
    FROM scale_bonus b CROSS JOIN LATERAL generate_series(1, b.n) AS i
    JOIN scale_accounts a ON a.n = i % 10000
) AS entries ORDER BY created_at;

UPDATE tokens_tokenaccount a SET balance = s.total
FROM (SELECT account_id, sum(amount) AS total FROM tokens_ledgerentry GROUP BY account_id) s
WHERE s.account_id = a.id;

ANALYZE;
"""


def timed(label: str, call, runs: int = 5) -> float:
    call()  # warm: connections, imports, caches
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        call()
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


class Command(BaseCommand):
    help = "Fill the database with 1M ledger rows and 300k creations (--fill) and time figures."

    def add_arguments(self, parser):
        parser.add_argument("--fill", action="store_true")
        parser.add_argument("--rollup", action="store_true", help="Run the rollups first.")

    def handle(self, *args, fill: bool, rollup: bool, **options):
        if fill:
            if not settings.DEBUG:
                raise CommandError("Fill only a scratch database, with DEBUG=1.")
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(FILL_SQL)
            self.stdout.write(f"filled in {time.perf_counter() - started:.0f} s")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM tokens_ledgerentry")
            ledger = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM creations_creation")
            creations = cursor.fetchone()[0]
        self.stdout.write(f"{ledger} ledger rows, {creations} creations")
        if rollup:
            started = time.perf_counter()
            steps = rollup_run(max_steps=10_000)
            self.stdout.write(f"rollup {steps} in {time.perf_counter() - started:.1f} s")
            started = time.perf_counter()
            rollup_run()
            self.stdout.write(f"a rollup with nothing new: {time.perf_counter() - started:.3f} s")

        client = Client()
        token = settings.PHOENIX_METRICS_TOKEN
        headers = {"Authorization": f"Bearer {token}"} if token else {}

        def scrape_view():
            response = client.get("/metrics", headers=headers, HTTP_HOST="localhost", secure=True)
            assert response.status_code == 200, response.status_code

        window = settings.PHOENIX_ALERT_WINDOW
        rows = [
            (
                "exporter: generate_latest(exporter.registry())",
                lambda: generate_latest(exporter.registry()),
            ),
            (
                f"alert figures: figures.collect(window={window!r})",
                lambda: figures.collect(window=window),
            ),
            ("alert run: alerting.alerts_run()", alerting.alerts_run),
        ]
        if token:
            rows.insert(0, ("GET /metrics (bearer token, test client)", scrape_view))
        for label, call in rows:
            self.stdout.write(f"{timed(label, call):9.1f} ms  {label}")
