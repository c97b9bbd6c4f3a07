from django.core.management.base import BaseCommand, CommandError

from tokens.models import TokenAccount
from tokens.services import ledger_discrepancies


class Command(BaseCommand):
    help = "Check that every account's balance equals the sum of its ledger."

    def handle(self, *args, **options):
        discrepancies = ledger_discrepancies()
        for discrepancy in discrepancies:
            self.stdout.write(f"DISCREPANCY {discrepancy}")
        if discrepancies:
            raise CommandError(f"{len(discrepancies)} account(s) do not reconcile.")
        count = TokenAccount.objects.count()
        self.stdout.write(self.style.SUCCESS(f"{count} account(s) reconcile."))
