from django.core.management.base import BaseCommand, CommandError

from tokens.selectors import accounts_with_ledger_sums
from tokens.services import Discrepancy


class Command(BaseCommand):
    help = (
        "Check that every account's balance equals the sum of its ledger (all of it) and the "
        "sum of its credit lots' remainders, and that no balance or debt is negative."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Accounts per query (default 1000): each batch is one short statement.",
        )

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        # The whole ledger, account by account in keyset batches: no single aggregate over
        # ten million rows, and no server-side cursor (PgBouncer's transaction mode).
        discrepancies, count, after = 0, 0, 0
        while batch := accounts_with_ledger_sums(after=after, limit=batch_size):
            for account in batch:
                if (
                    account.balance != account.ledger_sum
                    or account.balance != account.lot_sum
                    or account.balance < 0
                    or account.debt < 0
                ):
                    discrepancies += 1
                    found = Discrepancy(
                        account.id,
                        account.user.get_username(),
                        account.balance,
                        account.ledger_sum,
                        account.lot_sum,
                    )
                    self.stdout.write(f"DISCREPANCY {found}")
            count += len(batch)
            after = batch[-1].id
        if discrepancies:
            raise CommandError(f"{discrepancies} account(s) do not reconcile.")
        self.stdout.write(self.style.SUCCESS(f"{count} account(s) reconcile."))
