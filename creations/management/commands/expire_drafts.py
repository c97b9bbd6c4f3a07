from django.conf import settings
from django.core.management.base import BaseCommand

from creations.maintenance import drafts_expire


class Command(BaseCommand):
    help = "Delete unpublished drafts (and their files) older than PHOENIX_DRAFT_TTL_DAYS."

    def handle(self, *args, **options):
        deleted = drafts_expire()
        self.stdout.write(
            f"expired {deleted} draft(s) older than {settings.PHOENIX_DRAFT_TTL_DAYS} days"
        )
