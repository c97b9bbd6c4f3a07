from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tokens.services import account_grant


class Command(BaseCommand):
    help = "Grant tokens to a user (creates their account if missing)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("amount", type=int)
        parser.add_argument("--reason", required=True)

    def handle(self, *args, username, amount, reason, **options):
        if amount <= 0:
            raise CommandError("AMOUNT must be a positive number of tokens.")
        if not reason.strip():
            raise CommandError("--reason must not be empty.")
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        entry = account_grant(user=user, amount=amount, reason=reason.strip())
        self.stdout.write(
            self.style.SUCCESS(
                f"Granted {amount} tokens to {username}; balance {entry.balance_after}."
            )
        )
