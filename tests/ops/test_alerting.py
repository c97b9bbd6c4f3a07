"""Alerts that reach someone: the every-minute run opens one incident per firing check,
tells it once by e-mail and webhook (a real local HTTP receiver), stays quiet while it
keeps firing, tells the resolve once, retries what failed to deliver, and holds back what
a silence covers."""

import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_rq.cron import DjangoCronScheduler
from werkzeug import Response

from creations import queues
from creations.models import Creation
from ops import alerting, figures
from ops.models import AlertDelivery, Incident, Silence
from tests.conftest import ROOT, run_at_once, run_worker_burst, worker_environment

from .conftest import creation_in_state

pytestmark = pytest.mark.django_db(transaction=True)

SITE = "https://phoenix.example.com"


@pytest.fixture
def channels(settings, httpserver):
    """E-mail to two addresses (Django's test outbox) and a webhook on a local HTTP server
    that answers 200 unless a test says otherwise."""
    settings.PHOENIX_ALERT_EMAILS = ["ops@example.com", "oncall@example.com"]
    settings.PHOENIX_ALERT_WEBHOOK_URL = httpserver.url_for("/hook")
    settings.PHOENIX_SITE_URL = SITE
    settings.PHOENIX_ALERT_WINDOW = "1h"
    return httpserver


def answer_webhooks(httpserver, status: int = 200, *, delay: float = 0.0) -> None:
    def handler(request):
        time.sleep(delay)
        return Response("ok" if status < 400 else "down", status=status)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(handler)


def webhook_bodies(httpserver) -> list[dict]:
    return [request.get_json() for request, _ in httpserver.log]


def storage_failure(owner) -> Creation:
    """Makes `storage_failures` fire (and nothing else: 1 failure, or 2, of 21 stays under
    the failure-rate alert)."""
    for _ in range(20):
        creation_in_state(owner=owner, status="draft", seconds=5)
    return creation_in_state(owner=owner, status="failed", error_code="storage_failed")


def out_of_the_window(creation: Creation) -> None:
    """The check stops firing: its failure is now older than the 1 h window."""
    long_ago = timezone.now() - timedelta(hours=2)
    Creation.objects.filter(pk=creation.pk).update(created_at=long_ago, failed_at=long_ago)


def test_an_alert_is_told_once_stays_quiet_while_firing_and_its_resolve_is_told_once(
    alice, channels, figure
):
    answer_webhooks(channels)
    failure = storage_failure(alice)

    first = alerting.alerts_run()

    assert first["firing"] == ["storage_failures"]
    assert (first["opened"], first["delivered"], first["failed"]) == (1, 2, 0)
    incident = Incident.objects.get()
    assert incident.is_open and incident.check_name == "storage_failures"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ops@example.com", "oncall@example.com"]
    assert message.subject == "[Phoenix] ALERT: No storage upload failures"
    assert "ALERT storage_failures firing since " in message.body
    assert "Detail: 1 in the window" in message.body
    assert f"Alerts page: {SITE}/staff/alerts" in message.body
    [body] = webhook_bodies(channels)
    assert body["text"].startswith("[Phoenix] ALERT: No storage upload failures\n")
    assert f"{SITE}/staff/alerts" in body["text"]
    assert body["blocks"][0]["text"]["text"] == "[Phoenix] ALERT: No storage upload failures"

    # Still firing, a second storage failure: the incident's detail follows, nobody is
    # told again.
    creation_in_state(owner=alice, status="failed", error_code="storage_failed")
    for _ in range(3):
        assert alerting.alerts_run()["delivered"] == 0
    incident.refresh_from_db()
    assert incident.detail == "2 in the window"
    assert Incident.objects.count() == 1
    assert (len(mail.outbox), len(channels.log)) == (1, 1)

    for creation in Creation.objects.filter(error_code="storage_failed"):
        out_of_the_window(creation)
    resolved = alerting.alerts_run()

    assert (resolved["resolved"], resolved["delivered"]) == (1, 2)
    incident.refresh_from_db()
    assert not incident.is_open
    assert mail.outbox[1].subject == "[Phoenix] RESOLVED: No storage upload failures"
    assert "RESOLVED storage_failures at " in mail.outbox[1].body
    assert webhook_bodies(channels)[1]["text"].startswith("[Phoenix] RESOLVED:")
    for _ in range(2):
        alerting.alerts_run()
    assert (len(mail.outbox), len(channels.log)) == (2, 2)
    assert AlertDelivery.objects.filter(delivered_at__isnull=False).count() == 4
    assert failure.pk  # the creation that fired it is untouched
    figure("1 incident over 7 runs: 2 e-mails and 2 webhook posts (opened, resolved)")


def test_firing_again_after_a_resolve_opens_a_new_incident(alice, channels):
    answer_webhooks(channels)
    failure = storage_failure(alice)
    alerting.alerts_run()
    out_of_the_window(failure)
    alerting.alerts_run()

    creation_in_state(owner=alice, status="failed", error_code="storage_failed")
    alerting.alerts_run()

    assert Incident.objects.count() == 2
    assert Incident.objects.filter(resolved_at__isnull=True).count() == 1
    assert [m.subject.split(":")[0] for m in mail.outbox] == [
        "[Phoenix] ALERT",
        "[Phoenix] RESOLVED",
        "[Phoenix] ALERT",
    ]


def test_the_database_refuses_a_second_open_incident_for_a_check(alice):
    now = timezone.now()
    Incident.objects.create(
        check_name="queue_depth", label="x", detail="x", opened_at=now, last_seen_at=now
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(
            check_name="queue_depth", label="x", detail="x", opened_at=now, last_seen_at=now
        )
    # A resolved one beside the open one is fine.
    Incident.objects.create(
        check_name="queue_depth",
        label="x",
        detail="x",
        opened_at=now - timedelta(hours=1),
        last_seen_at=now - timedelta(hours=1),
        resolved_at=now - timedelta(minutes=30),
    )


def test_a_webhook_that_fails_is_tried_again_next_run_and_delivered_once(alice, channels):
    # Down for the first post only (503), then up.
    channels.expect_oneshot_request("/hook", method="POST").respond_with_data("down", status=503)
    answer_webhooks(channels)
    storage_failure(alice)

    first = alerting.alerts_run()

    assert (first["delivered"], first["failed"]) == (1, 1)  # the e-mail went
    webhook = AlertDelivery.objects.get(channel="webhook")
    assert webhook.delivered_at is None and webhook.attempts == 1
    assert "503" in webhook.last_error

    second = alerting.alerts_run()

    assert (second["delivered"], second["failed"]) == (1, 0)
    webhook.refresh_from_db()
    assert webhook.delivered_at is not None and webhook.attempts == 2
    alerting.alerts_run()
    assert len(channels.log) == 2  # the failed post and the delivered one, no more
    assert len(mail.outbox) == 1  # the e-mail was not sent again


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_smtp_server_that_is_down_delays_the_email_to_the_next_run(alice, channels, settings):
    answer_webhooks(channels)
    locmem = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    storage_failure(alice)

    first = alerting.alerts_run()

    assert (first["delivered"], first["failed"]) == (1, 1)  # the webhook went
    email = AlertDelivery.objects.get(channel="email")
    assert email.delivered_at is None
    assert "ConnectionRefusedError" in email.last_error

    settings.EMAIL_BACKEND = locmem  # the SMTP server is back
    alerting.alerts_run()
    alerting.alerts_run()

    assert len(mail.outbox) == 1
    assert len(channels.log) == 1
    email.refresh_from_db()
    assert email.delivered_at is not None and email.attempts == 2


def test_two_runs_at_once_tell_it_once(alice, channels, figure):
    # A slow receiver, so the runs overlap while one of them is sending.
    answer_webhooks(channels, delay=0.3)
    storage_failure(alice)

    results = run_at_once([alerting.alerts_run for _ in range(4)])

    assert Incident.objects.count() == 1
    assert AlertDelivery.objects.count() == 2
    assert len(mail.outbox) == 1
    assert len(channels.log) == 1
    assert sum(r["delivered"] for r in results) == 2
    figure(f"4 runs at once: 1 incident, 1 e-mail, {len(channels.log)} webhook post")


def test_two_deliveries_at_once_send_a_pending_notification_once(alice, channels):
    answer_webhooks(channels, delay=0.5)
    storage_failure(alice)
    alerting.incidents_apply(snapshot=figures.collect(window="1h"))

    results = run_at_once([alerting.notifications_deliver for _ in range(3)])

    assert sum(r.delivered for r in results) == 2
    assert (len(mail.outbox), len(channels.log)) == (1, 1)


def test_an_older_snapshot_does_not_undo_a_newer_run(alice, channels):
    answer_webhooks(channels)
    before_the_failure = figures.collect(window="1h")  # nothing firing yet
    storage_failure(alice)
    alerting.alerts_run()

    late = alerting.incidents_apply(snapshot=before_the_failure)

    assert late.stale and late.resolved == 0
    assert Incident.objects.get().is_open


def silence(staff, check_name: str = "storage_failures", duration: str = "1h") -> Silence:
    return alerting.silence_create(
        user=staff,
        check_name=check_name,
        duration=duration,
        reason="storage provider incident, being fixed",
        known_checks=alerting.alert_checks(),
    )


def test_a_silenced_check_opens_its_incident_but_tells_nobody_until_the_silence_ends(
    alice, channels, staff_user
):
    answer_webhooks(channels)
    quiet = silence(staff_user("ops.silence_alert"))
    storage_failure(alice)

    for _ in range(3):
        result = alerting.alerts_run()
        assert result["opened"] + result["delivered"] + result["queued"] <= 1
    incident = Incident.objects.get()
    assert incident.is_open and incident.open_notified_at is None
    assert (len(mail.outbox), len(channels.log), AlertDelivery.objects.count()) == (0, 0, 0)

    alerting.silence_end(user=quiet.created_by, code=quiet.code)
    told = alerting.alerts_run()

    assert (told["queued"], told["delivered"]) == (2, 2)
    assert (len(mail.outbox), len(channels.log)) == (1, 1)
    alerting.alerts_run()
    assert (len(mail.outbox), len(channels.log)) == (1, 1)


def test_a_silence_that_runs_out_while_still_firing_is_told_then(alice, channels, staff_user):
    answer_webhooks(channels)
    quiet = silence(staff_user("ops.silence_alert"), duration="15m")
    storage_failure(alice)
    alerting.alerts_run()
    assert len(mail.outbox) == 0

    # Its 15 minutes are over.
    Silence.objects.filter(pk=quiet.pk).update(
        created_at=timezone.now() - timedelta(minutes=16),
        ends_at=timezone.now() - timedelta(minutes=1),
    )
    alerting.alerts_run()

    assert (len(mail.outbox), len(channels.log)) == (1, 1)


def test_an_incident_that_ends_within_its_silence_is_never_told(alice, channels, staff_user):
    answer_webhooks(channels)
    quiet = silence(staff_user("ops.silence_alert"))
    failure = storage_failure(alice)
    alerting.alerts_run()
    out_of_the_window(failure)
    alerting.alerts_run()
    alerting.silence_end(user=quiet.created_by, code=quiet.code)
    alerting.alerts_run()

    assert Incident.objects.get().resolved_at is not None
    assert (len(mail.outbox), len(channels.log), AlertDelivery.objects.count()) == (0, 0, 0)


def test_a_silence_holds_back_a_notification_waiting_for_a_retry(alice, channels, staff_user):
    channels.expect_oneshot_request("/hook", method="POST").respond_with_data("down", status=503)
    answer_webhooks(channels)
    storage_failure(alice)
    alerting.alerts_run()  # e-mail delivered, webhook failed
    quiet = silence(staff_user("ops.silence_alert"))

    held = alerting.alerts_run()

    assert (held["held"], held["delivered"]) == (1, 0)
    alerting.silence_end(user=quiet.created_by, code=quiet.code)
    assert alerting.alerts_run()["delivered"] == 1
    assert len(channels.log) == 2


def test_with_no_channel_configured_incidents_are_recorded_and_nobody_is_told(alice, settings):
    settings.PHOENIX_ALERT_EMAILS = []
    settings.PHOENIX_ALERT_WEBHOOK_URL = ""
    storage_failure(alice)

    alerting.alerts_run()
    settings.PHOENIX_ALERT_EMAILS = ["ops@example.com"]  # configured later: no old news
    alerting.alerts_run()

    assert Incident.objects.get().open_notified_at is not None
    assert AlertDelivery.objects.count() == 0
    assert mail.outbox == []


def test_silences_refuse_bad_input(staff_user):
    staff = staff_user("ops.silence_alert")
    known = alerting.alert_checks()
    cases = {
        "unknown_check": {"check_name": "nope", "duration": "1h", "reason": "x"},
        "bad_duration": {"check_name": "queue_depth", "duration": "2h", "reason": "x"},
        "reason_required": {"check_name": "queue_depth", "duration": "1h", "reason": "  "},
        "reason_too_long": {"check_name": "queue_depth", "duration": "1h", "reason": "x" * 501},
    }
    for code, fields in cases.items():
        with pytest.raises(alerting.SilenceError) as refused:
            alerting.silence_create(user=staff, known_checks=known, **fields)
        assert refused.value.code == code
    assert not Silence.objects.exists()
    # Targets (latency, worker errors) are not alerts and cannot be silenced.
    assert "queue_depth" in known and not any(name.startswith("latency") for name in known)


def test_the_alert_window_setting_is_a_window_of_the_figures():
    for window in ("1h", "24h", "7d", "30d"):
        assert window in figures.WINDOWS


def scheduled_jobs() -> dict:
    scheduler = DjangoCronScheduler()
    scheduler.load_config_from_file("phoenix.cron")
    return {job.func_name: job for job in scheduler.get_jobs()}


def test_the_checks_run_every_minute_from_rqcron_and_tell_someone(alice, channels):
    answer_webhooks(channels)
    checks = scheduled_jobs()["ops.jobs.run_alert_checks"]
    assert (checks.interval, checks.queue_name) == (60, "light")
    storage_failure(alice)

    # Enqueued as the cron scheduler does, run by a worker of its queue.
    job = checks.enqueue(queues.get_queue(checks.queue_name).connection)
    run_worker_burst()

    job.refresh()
    assert job.return_value()["opened"] == 1
    assert (len(mail.outbox), len(channels.log)) == (1, 1)


def test_phoenix_alerts_notify_does_what_the_run_does_once(alice, channels):
    answer_webhooks(channels)
    storage_failure(alice)
    env = worker_environment(
        PHOENIX_ALERT_WEBHOOK_URL=channels.url_for("/hook"), PHOENIX_ALERT_EMAILS=""
    )

    def phoenix_alerts_notify() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", "phoenix_alerts", "--notify"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    first = phoenix_alerts_notify()
    second = phoenix_alerts_notify()

    assert first.returncode == second.returncode == 2  # an alert fires
    assert "Incidents: 1 opened, 0 resolved; notifications: 1 queued, 1 delivered" in first.stdout
    assert "Incidents: 0 opened, 0 resolved; notifications: 0 queued, 0 delivered" in second.stdout
    assert len(channels.log) == 1
    assert Incident.objects.get().check_name == "storage_failures"


def phoenix_alerts_run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "phoenix_alerts", *args],
        cwd=ROOT,
        env=worker_environment(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def two_hours_old_storage_failure(owner) -> None:
    """Fires over 24 h, not over 1 h."""
    out_of_the_window(storage_failure(owner))


def test_a_manual_notify_run_uses_the_crons_window_and_does_not_flap(alice, channels, settings):
    answer_webhooks(channels)
    settings.PHOENIX_ALERT_WINDOW = "24h"
    two_hours_old_storage_failure(alice)
    alerting.alerts_run()  # the cron

    manual = phoenix_alerts_run(
        "--notify",
        PHOENIX_ALERT_WINDOW="24h",
        PHOENIX_ALERT_WEBHOOK_URL="",
        PHOENIX_ALERT_EMAILS="",
    )
    alerting.alerts_run()  # the cron again

    assert manual.returncode == 2, manual.stdout + manual.stderr  # it still fires
    assert "Phoenix checks over the last 24h" in manual.stdout
    assert "Incidents: 0 opened, 0 resolved" in manual.stdout
    assert Incident.objects.get().is_open
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["[Phoenix] ALERT"]


def test_a_manual_notify_run_refuses_another_window(alice, channels, settings):
    answer_webhooks(channels)
    settings.PHOENIX_ALERT_WINDOW = "24h"
    two_hours_old_storage_failure(alice)
    alerting.alerts_run()

    refused = phoenix_alerts_run(
        "--notify", "--window", "1h", PHOENIX_ALERT_WINDOW="24h", PHOENIX_ALERT_EMAILS=""
    )

    assert refused.returncode == 1
    assert (
        "--notify runs the checks over PHOENIX_ALERT_WINDOW (24h), as the every-minute run "
        "does: leave out --window, or run without --notify to look at 1h."
    ) in refused.stderr
    assert "Phoenix checks" not in refused.stdout
    assert Incident.objects.get().is_open


def test_a_snapshot_over_another_window_is_not_applied(alice, channels, settings):
    answer_webhooks(channels)
    settings.PHOENIX_ALERT_WINDOW = "24h"
    two_hours_old_storage_failure(alice)
    alerting.alerts_run()

    applied = alerting.incidents_apply(snapshot=figures.collect(window="1h"))

    assert applied.wrong_window and applied.resolved == 0
    assert Incident.objects.get().is_open
    alerting.alerts_run()
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["[Phoenix] ALERT"]


def test_a_failed_webhook_keeps_and_logs_no_trace_of_its_secret_url(
    alice, channels, settings, caplog
):
    """The webhook URL is a secret (whoever holds it posts to the channel): the stored error
    staff read and the log say what went wrong without it."""
    secret_path = "/hook/T0001/B0002/s3cr3t-token"
    settings.PHOENIX_ALERT_WEBHOOK_URL = channels.url_for(secret_path)
    channels.expect_request(secret_path, method="POST").respond_with_data("gone", status=404)
    storage_failure(alice)

    alerting.alerts_run()
    settings.PHOENIX_ALERT_WEBHOOK_URL = f"http://127.0.0.1:{closed_port()}{secret_path}"
    AlertDelivery.objects.update(claimed_until=None)
    alerting.alerts_run()

    webhook = AlertDelivery.objects.get(channel="webhook")
    assert webhook.attempts == 2 and webhook.delivered_at is None
    assert "s3cr3t-token" not in webhook.last_error
    assert webhook.last_error.startswith("ConnectError")
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("ops."))
    assert "s3cr3t-token" not in ours
    assert "answered 404" in ours


def test_an_error_that_quotes_the_webhook_url_is_kept_without_it(settings):
    settings.PHOENIX_ALERT_WEBHOOK_URL = "https://hooks.example.com/services/T1/B2/s3cr3t"

    text = alerting.redacted(
        RuntimeError("cannot post to https://hooks.example.com/services/T1/B2/s3cr3t now")
    )

    assert text == "RuntimeError: cannot post to https://hooks.example.com/… now"
