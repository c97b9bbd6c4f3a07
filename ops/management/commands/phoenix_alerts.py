from django.core.management.base import BaseCommand, CommandError

from ops import metrics


class Command(BaseCommand):
    help = (
        "Print Phoenix's health checks (the metrics page's red/green lines); "
        "exit 1 when any alert fires. Missed success targets are printed but do not fail."
    )

    def add_arguments(self, parser):
        parser.add_argument("--window", choices=list(metrics.WINDOWS), default="1h")

    def handle(self, *args, window: str, **options):
        snapshot = metrics.collect(window=window)
        self.stdout.write(
            f"Phoenix checks over the last {window} (at {snapshot.now:%Y-%m-%d %H:%M:%S %Z})"
        )
        for check in snapshot.checks:
            mark = {"green": "OK", "red": "TARGET MISSED" if check.is_target else "ALERT"}.get(
                check.state, "NO DATA"
            )
            self.stdout.write(f"[{mark}] {check.label}: {check.detail}")
        firing = snapshot.alerts_firing
        if firing:
            raise CommandError(
                f"{len(firing)} alert(s) firing: {', '.join(c.name for c in firing)}",
                returncode=2,
            )
        self.stdout.write("All alerts green.")
