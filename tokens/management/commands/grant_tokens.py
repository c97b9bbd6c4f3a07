import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tokens.services import account_grant


class Command(BaseCommand):
    help = "Grant promotional tokens to a user (creates their account if missing)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("amount", type=int)
        parser.add_argument("--reason", required=True)
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help="The tokens expire this many days from now (default: never).",
        )

    def handle(self, *args, username, amount, reason, expires_in_days, **options):
        if amount <= 0:
            raise CommandError("AMOUNT must be a positive number of tokens.")
        if not reason.strip():
            raise CommandError("--reason must not be empty.")
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days must be at least 1.")
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        expires_at = None
        if expires_in_days is not None:
            expires_at = timezone.now() + datetime.timedelta(days=expires_in_days)
        entry = account_grant(
            user=user, amount=amount, reason=reason.strip(), expires_at=expires_at
        )
        until = f"; they expire on {expires_at:%d %b %Y}" if expires_at else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Granted {amount} tokens to {username}; balance {entry.balance_after}{until}."
            )
        )
