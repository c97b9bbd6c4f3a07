"""Alerts that reach someone.

Every minute (rqcron) the checks of the metrics page run; a run does two things in turn:

1. `incidents_apply`, in one transaction under the runner's row lock: a firing check opens
   ONE incident (the database holds it: one open incident per check), a check that keeps
   firing only updates its incident's detail, a check that stopped resolves it. The
   notifications owed are written in the same transaction, once per event and channel:
   the opening of an incident whose check is not silenced, and its resolve if its opening
   was told. A silenced check's events wait: the first run after the silence tells them.
2. `notifications_deliver`, after COMMIT and holding no lock: each pending notification is
   claimed by a guarded update, sent (e-mail, webhook), then marked delivered. One that
   fails stays pending and is tried again by the next run; one delivered is never sent
   again. Two runs at once: the second waits for the first's COMMIT, sees its incidents
   and notifications, and cannot claim what the first is sending.
"""

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from .figures import Check, Snapshot, collect
from .models import AlertDelivery, AlertRunner, Incident, Silence

log = logging.getLogger(__name__)

SILENCE_DURATIONS = {
    "15m": ("15 minutes", timedelta(minutes=15)),
    "1h": ("1 hour", timedelta(hours=1)),
    "4h": ("4 hours", timedelta(hours=4)),
    "24h": ("24 hours", timedelta(hours=24)),
}
SILENCE_REASON_MAX = 500
# A run that claimed a notification and died while sending leaves it to a run this much
# later (longer than any send takes: the e-mail and webhook timeouts are seconds).
CLAIM_FOR = timedelta(minutes=5)


class SilenceError(Exception):
    """A silence staff asked for that cannot be: `code` for programs, `message` for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def configured_channels() -> list[str]:
    channels = []
    if settings.PHOENIX_ALERT_EMAILS:
        channels.append(AlertDelivery.Channel.EMAIL)
    if settings.PHOENIX_ALERT_WEBHOOK_URL:
        channels.append(AlertDelivery.Channel.WEBHOOK)
    return channels


def active_silences(*, now: datetime | None = None) -> QuerySet[Silence]:
    now = now or timezone.now()
    return Silence.objects.filter(ended_at__isnull=True, ends_at__gt=now)


def silenced_checks(*, now: datetime | None = None) -> set[str]:
    return set(active_silences(now=now).values_list("check_name", flat=True))


# --- A run ------------------------------------------------------------------------------


@dataclass
class Applied:
    firing: list[str] = field(default_factory=list)
    opened: int = 0
    resolved: int = 0
    queued: int = 0
    stale: bool = False
    wrong_window: bool = False


@dataclass
class Delivered:
    delivered: int = 0
    failed: int = 0
    held: int = 0


def alerts_run(*, snapshot: Snapshot | None = None) -> dict:
    """One run of the checks (the cron job, and `phoenix_alerts --notify`)."""
    snapshot = snapshot or collect(window=settings.PHOENIX_ALERT_WINDOW)
    applied = incidents_apply(snapshot=snapshot)
    delivered = notifications_deliver()
    return {**asdict(applied), **asdict(delivered)}


def last_run_at() -> datetime | None:
    """When the alert checks last ran (None: never), for an alert on the runner itself."""
    return AlertRunner.objects.filter(id=1).values_list("ran_at", flat=True).first()


def _lock_runner() -> AlertRunner:
    # The row may not exist yet (a new database): inserted by whichever run comes first;
    # the other's insert waits for that COMMIT and does nothing.
    AlertRunner.objects.bulk_create([AlertRunner(id=1)], ignore_conflicts=True)
    return AlertRunner.objects.select_for_update().get(id=1)


def incidents_apply(*, snapshot: Snapshot) -> Applied:
    """Open, update and resolve incidents from a snapshot, and write the notifications owed.
    Commits before returning: nothing is sent from inside it."""
    alerts: list[Check] = [c for c in snapshot.checks if not c.is_target]
    firing = {c.name: c for c in alerts if c.firing}
    result = Applied(firing=sorted(firing))
    if snapshot.window != settings.PHOENIX_ALERT_WINDOW:
        # Incidents follow the alert window only: a check that fires over one window and not
        # over another would be resolved and reopened by turns.
        log.warning(
            "Not applying a snapshot over %s: incidents follow PHOENIX_ALERT_WINDOW (%s)",
            snapshot.window,
            settings.PHOENIX_ALERT_WINDOW,
        )
        result.wrong_window = True
        return result
    now = snapshot.now
    with transaction.atomic(durable=True):
        runner = _lock_runner()
        if runner.snapshot_at and now <= runner.snapshot_at:
            # Collected before the run that committed last: applying it would undo newer
            # findings (resolve what that run saw firing, say).
            result.stale = True
        else:
            open_incidents = {
                incident.check_name: incident
                for incident in Incident.objects.select_for_update().filter(
                    resolved_at__isnull=True
                )
            }
            for name, check in firing.items():
                incident = open_incidents.get(name)
                if incident is None:
                    Incident.objects.create(
                        check_name=name,
                        label=check.label,
                        detail=check.detail,
                        opened_at=now,
                        last_seen_at=now,
                    )
                    result.opened += 1
                else:
                    incident.label, incident.detail, incident.last_seen_at = (
                        check.label,
                        check.detail,
                        now,
                    )
                    incident.save(update_fields=["label", "detail", "last_seen_at"])
            for name, incident in open_incidents.items():
                if name not in firing:
                    incident.resolved_at = now
                    incident.save(update_fields=["resolved_at"])
                    result.resolved += 1
            runner.snapshot_at = now
            runner.window = snapshot.window
            runner.firing = result.firing
        runner.ran_at = timezone.now()
        runner.save()
        result.queued = _queue_owed_notifications(now=runner.ran_at)
    return result


def _queue_owed_notifications(*, now: datetime) -> int:
    """Within the run's transaction: the events not told yet of checks not silenced now."""
    silenced = silenced_checks(now=now)
    channels = configured_channels()
    owed = [
        (AlertDelivery.Event.OPENED, "open_notified_at", incident)
        for incident in Incident.objects.filter(
            resolved_at__isnull=True, open_notified_at__isnull=True
        ).exclude(check_name__in=silenced)
    ] + [
        # Only an opening someone was told of is followed by its resolve.
        (AlertDelivery.Event.RESOLVED, "resolve_notified_at", incident)
        for incident in Incident.objects.filter(
            resolved_at__isnull=False,
            open_notified_at__isnull=False,
            resolve_notified_at__isnull=True,
        ).exclude(check_name__in=silenced)
    ]
    rows = []
    for event, marker, incident in owed:
        rows += [
            AlertDelivery(incident=incident, event=event, channel=channel, created_at=now)
            for channel in channels
        ]
        # Marked told even with no channel configured: the page says nobody was reached,
        # and a channel configured later does not bring up old news.
        setattr(incident, marker, now)
        incident.save(update_fields=[marker])
    AlertDelivery.objects.bulk_create(rows)
    return len(rows)


# --- Delivery ---------------------------------------------------------------------------


def alerts_page_url() -> str:
    return settings.PHOENIX_SITE_URL.rstrip("/") + reverse("staff_alerts")


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _lasted(incident: Incident) -> str:
    minutes = int((incident.resolved_at - incident.opened_at).total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def notification_message(notification: AlertDelivery) -> tuple[str, str]:
    """(subject, text) of a notification: which check, its label, the detail, the time,
    and where to look."""
    incident = notification.incident
    if notification.event == AlertDelivery.Event.OPENED:
        subject = f"[Phoenix] ALERT: {incident.label}"
        headline = f"ALERT {incident.check_name} firing since {_when(incident.opened_at)}"
    else:
        subject = f"[Phoenix] RESOLVED: {incident.label}"
        headline = (
            f"RESOLVED {incident.check_name} at {_when(incident.resolved_at)}, "
            f"after {_lasted(incident)} (firing since {_when(incident.opened_at)})"
        )
    text = (
        f"{headline}\n"
        f"Check: {incident.label}\n"
        f"Detail: {incident.detail}\n"
        f"Alerts page: {alerts_page_url()}"
    )
    return subject, text


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _send(notification: AlertDelivery) -> None:
    subject, text = notification_message(notification)
    if notification.channel == AlertDelivery.Channel.EMAIL:
        if not settings.PHOENIX_ALERT_EMAILS:
            raise RuntimeError("PHOENIX_ALERT_EMAILS is no longer set")
        send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, settings.PHOENIX_ALERT_EMAILS)
        return
    if not settings.PHOENIX_ALERT_WEBHOOK_URL:
        raise RuntimeError("PHOENIX_ALERT_WEBHOOK_URL is no longer set")
    body = {
        # Slack (and Mattermost, Rocket.Chat...) show "text"; Slack's blocks format it.
        "text": f"{subject}\n{text}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(text)}},
        ],
    }
    response = httpx.post(
        settings.PHOENIX_ALERT_WEBHOOK_URL,
        json=body,
        timeout=settings.PHOENIX_ALERT_WEBHOOK_TIMEOUT,
    )
    response.raise_for_status()


def redacted(error: Exception) -> str:
    """What to keep and log of a failed delivery: the webhook URL is a secret (whoever
    holds it can post to the channel), and httpx's messages quote it whole."""
    if isinstance(error, httpx.HTTPStatusError):
        return f"HTTPStatusError: the webhook answered {error.response.status_code}"
    text = f"{type(error).__name__}: {error}"
    url = settings.PHOENIX_ALERT_WEBHOOK_URL
    if url:
        shown = _url_shown(url)
        for spelling in {url, str(httpx.URL(url))}:
            text = text.replace(spelling, shown)
    return text


def _url_shown(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "(the webhook URL)"
    return f"{parsed.scheme}://{parsed.host}/…"


def _claim(notification: AlertDelivery, *, now: datetime) -> bool:
    """Take the notification for this run, unless delivered or another run holds it."""
    return bool(
        AlertDelivery.objects.filter(pk=notification.pk, delivered_at__isnull=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .update(claimed_until=now + CLAIM_FOR)
    )


def notifications_deliver() -> Delivered:
    """Send every pending notification of a check not silenced. Outside any transaction:
    each step commits by itself, and no lock is held while a server is waited for."""
    result = Delivered()
    silenced = silenced_checks()
    down: set[str] = set()
    pending = (
        AlertDelivery.objects.filter(delivered_at__isnull=True)
        .select_related("incident")
        .order_by("created_at", "id")
    )
    for notification in pending:
        if notification.incident.check_name in silenced:
            result.held += 1
            continue
        # One failure says the channel is down: the rest wait for the next run instead of
        # each waiting out its timeout now.
        if notification.channel in down or not _claim(notification, now=timezone.now()):
            continue
        try:
            _send(notification)
        except Exception as error:  # noqa: BLE001 - any failure: keep it pending, say why
            down.add(notification.channel)
            result.failed += 1
            reason = redacted(error)
            log.warning(
                "Alert %s %s by %s not delivered (tried again next run): %s",
                notification.incident.check_name,
                notification.event,
                notification.channel,
                reason,
            )
            AlertDelivery.objects.filter(pk=notification.pk).update(
                attempts=F("attempts") + 1,
                last_attempt_at=timezone.now(),
                last_error=reason[:1000],
                claimed_until=None,
            )
        else:
            result.delivered += 1
            now = timezone.now()
            AlertDelivery.objects.filter(pk=notification.pk).update(
                delivered_at=now,
                attempts=F("attempts") + 1,
                last_attempt_at=now,
                last_error="",
                claimed_until=None,
            )
    return result


# --- What the alerts page reads ----------------------------------------------------------

PAST_PER_PAGE = 20
# The runs come every minute: a last run older than this says the cron (or the light
# queue's worker) is not running, and that the page's "nothing open" means nothing.
RUNS_LATE_AFTER = timedelta(minutes=3)


def alert_checks() -> dict[str, str]:
    """The alert checks there are (name -> label), as the runs see them."""
    snapshot = collect(window=settings.PHOENIX_ALERT_WINDOW)
    return {c.name: c.label for c in snapshot.checks if not c.is_target}


@dataclass(frozen=True)
class Overview:
    runner: AlertRunner | None
    runs_late: bool
    channels: list[str]
    open_incidents: list[Incident]
    silences: list[Silence]
    past: Page  # resolved incidents, newest first
    silenced: set[str]


def alerts_overview(*, page: str | int | None = 1, now: datetime | None = None) -> Overview:
    now = now or timezone.now()
    runner = AlertRunner.objects.filter(id=1).first()
    silences = list(active_silences(now=now).select_related("created_by").order_by("ends_at"))
    with_notifications = Incident.objects.prefetch_related("deliveries")
    past = Paginator(
        with_notifications.filter(resolved_at__isnull=False).order_by("-opened_at", "-id"),
        PAST_PER_PAGE,
    ).get_page(page)
    return Overview(
        runner=runner,
        runs_late=runner is None or runner.ran_at is None or now - runner.ran_at > RUNS_LATE_AFTER,
        channels=configured_channels(),
        open_incidents=list(
            with_notifications.filter(resolved_at__isnull=True).order_by("-opened_at")
        ),
        silences=silences,
        past=past,
        silenced={s.check_name for s in silences},
    )


# --- Silences ---------------------------------------------------------------------------


def silence_create(
    *,
    user,
    check_name: str,
    duration: str,
    reason: str,
    known_checks: dict[str, str],
    now: datetime | None = None,
) -> Silence:
    """Silence one alert check for one of SILENCE_DURATIONS. `known_checks`: the alert
    checks there are (name -> label)."""
    reason = (reason or "").strip()
    if check_name not in known_checks:
        raise SilenceError("unknown_check", f"There is no alert check named “{check_name}”.")
    if duration not in SILENCE_DURATIONS:
        choices = ", ".join(label for label, _ in SILENCE_DURATIONS.values())
        raise SilenceError("bad_duration", f"Choose how long to silence it: {choices}.")
    if not reason:
        raise SilenceError("reason_required", "Say why it is silenced (others will read it).")
    if len(reason) > SILENCE_REASON_MAX:
        raise SilenceError(
            "reason_too_long", f"Keep the reason under {SILENCE_REASON_MAX} characters."
        )
    now = now or timezone.now()
    return Silence.objects.create(
        check_name=check_name,
        reason=reason,
        created_by=user,
        created_at=now,
        ends_at=now + SILENCE_DURATIONS[duration][1],
    )


def silence_end(*, user, code, now: datetime | None = None) -> Silence:
    """End a silence early. The next run tells what it held back, if still true."""
    now = now or timezone.now()
    with transaction.atomic():
        silence = Silence.objects.select_for_update().filter(code=code).first()
        if silence is None:
            raise SilenceError("not_found", "That silence does not exist.")
        if silence.ended_at is not None or silence.ends_at <= now:
            raise SilenceError("already_ended", "That silence has already ended.")
        silence.ended_at = now
        silence.ended_by = user
        silence.save(update_fields=["ended_at", "ended_by"])
    return silence
