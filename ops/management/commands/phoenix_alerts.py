from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ops import alerting, figures


class Command(BaseCommand):
    help = (
        "Print Phoenix's health checks (the metrics page's red/green lines); "
        "exit 1 when any alert fires. Missed success targets are printed but do not fail."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--window",
            choices=list(figures.WINDOWS),
            help=(
                "Default: PHOENIX_ALERT_WINDOW, the every-minute run's (the only one "
                "--notify takes)."
            ),
        )
        parser.add_argument(
            "--notify",
            action="store_true",
            help=(
                "Also do what the every-minute run does: open and resolve incidents and tell "
                "PHOENIX_ALERT_EMAILS / PHOENIX_ALERT_WEBHOOK_URL (each event once)."
            ),
        )

    def handle(self, *args, window: str | None, notify: bool = False, **options):
        # Incidents follow one window: applying another would resolve what the cron's sees
        # firing, and the next cron run would open it again (ALERT, RESOLVED, ALERT).
        alert_window = settings.PHOENIX_ALERT_WINDOW
        if notify and window not in (None, alert_window):
            raise CommandError(
                f"--notify runs the checks over PHOENIX_ALERT_WINDOW ({alert_window}), as the "
                f"every-minute run does: leave out --window, or run without --notify to look "
                f"at {window}."
            )
        window = window or alert_window
        snapshot = figures.collect(window=window)
        self.stdout.write(
            f"Phoenix checks over the last {window} (at {snapshot.now:%Y-%m-%d %H:%M:%S %Z})"
        )
        for check in snapshot.checks:
            mark = {"green": "OK", "red": "TARGET MISSED" if check.is_target else "ALERT"}.get(
                check.state, "NO DATA"
            )
            self.stdout.write(f"[{mark}] {check.label}: {check.detail}")
        if notify:
            run = alerting.alerts_run(snapshot=snapshot)
            self.stdout.write(
                "Incidents: {opened} opened, {resolved} resolved; notifications: {queued} "
                "queued, {delivered} delivered, {failed} failed, {held} held by a silence"
                "{note}.".format(
                    **run, note=" (a newer run had applied already)" if run["stale"] else ""
                )
            )
        firing = snapshot.alerts_firing
        if firing:
            raise CommandError(
                f"{len(firing)} alert(s) firing: {', '.join(c.name for c in firing)}",
                returncode=2,
            )
        self.stdout.write("All alerts green.")
