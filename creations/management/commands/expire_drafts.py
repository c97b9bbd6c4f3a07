from django.conf import settings
from django.core.management.base import BaseCommand

from creations.jobs.housekeeping import housekeeping


class Command(BaseCommand):
    help = (
        "Move unpublished drafts older than PHOENIX_DRAFT_TTL_DAYS to the trash, and purge "
        "what has been in the trash longer than PHOENIX_TRASH_DAYS."
    )

    def handle(self, *args, **options):
        done = housekeeping()
        self.stdout.write(
            f"moved {done['trashed']} draft(s) older than {settings.PHOENIX_DRAFT_TTL_DAYS} "
            f"days to the trash; purged {done['purged']} creation(s) trashed more than "
            f"{settings.PHOENIX_TRASH_DAYS} days ago"
        )
