"""Load a newer copy of the disposable-mail list (one domain per line, # comments, e.g.
disposable_email_blocklist.conf from the disposable-email-domains project) as staff rules,
so the sign-up refuses them before the next deploy brings the package's own copy."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from profiles.email_domains import mail_domain
from profiles.models import EmailDomainRule


class Command(BaseCommand):
    help = "Block (or with --allow, lift) every domain listed in a file, one per line."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the list file, one domain per line")
        parser.add_argument("--allow", action="store_true", help="lift the listed domains instead")
        parser.add_argument("--note", default="", help="why, shown in the admin")

    def handle(self, *args, path, allow, note, **options):
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        domains = {
            mail_domain("@" + line.split("#", 1)[0].strip())
            for line in lines
            if line.split("#", 1)[0].strip()
        }
        note = note or f"imported from {Path(path).name}"
        with transaction.atomic():
            EmailDomainRule.objects.bulk_create(
                [EmailDomainRule(domain=d, blocked=not allow, note=note[:200]) for d in domains],
                update_conflicts=True,
                unique_fields=["domain"],
                update_fields=["blocked", "note", "updated_at"],
            )
        verb = "allowed" if allow else "blocked"
        self.stdout.write(f"{len(domains)} domains {verb}.")
