from django.core.management.base import BaseCommand

from creations.jobs.recovery import creations_recover


class Command(BaseCommand):
    help = "Enqueue lost jobs again and fail (with refund) creations stuck past their deadline."

    def handle(self, *args, **options):
        counts = creations_recover()
        self.stdout.write(
            f"re-enqueued {counts['reenqueued']}, failed and refunded {counts['failed']}"
        )
