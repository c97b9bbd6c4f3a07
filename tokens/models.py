from django.conf import settings
from django.db import models
from django.db.models import Q


class TokenAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="token_account"
    )
    # Written only by tokens.services, always under select_for_update.
    balance = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="token_balance_not_negative"),
        ]
        permissions = [("adjust_balance", "Can adjust token balances")]

    def __str__(self) -> str:
        return f"{self.user} ({self.balance} tokens)"


class LedgerEntry(models.Model):
    """One token movement. Append-only: a database trigger refuses UPDATE and DELETE."""

    class Kind(models.TextChoices):
        GRANT = "grant", "Grant"
        DEBIT = "debit", "Debit"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Adjustment"
        # The balance an account held when its owner deleted it: unspent tokens forfeited.
        FORFEIT = "forfeit", "Forfeit"

    account = models.ForeignKey(TokenAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.BigIntegerField(help_text="Signed: negative takes tokens away.")
    balance_after = models.BigIntegerField()
    # No database FK: the ledger outlives a deleted creation and keeps its id.
    creation = models.ForeignKey(
        "creations.Creation",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    reason = models.CharField(max_length=255, blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # A staff form's one-time key: the same form sent twice (a double click, a resubmit
    # after a timeout) makes one entry.
    request_key = models.CharField(max_length=64, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["creation"], condition=Q(kind="debit"), name="one_debit_per_creation"
            ),
            models.UniqueConstraint(
                fields=["creation"], condition=Q(kind="refund"), name="one_refund_per_creation"
            ),
            models.UniqueConstraint(
                fields=["account", "request_key"],
                condition=Q(request_key__isnull=False),
                name="one_entry_per_request_key",
            ),
            models.CheckConstraint(
                condition=(
                    (Q(kind="debit") & Q(amount__lt=0) & Q(creation__isnull=False))
                    | (Q(kind="refund") & Q(amount__gt=0) & Q(creation__isnull=False))
                    | (Q(kind="grant") & Q(amount__gt=0))
                    | (Q(kind="adjustment") & ~Q(amount=0) & Q(staff__isnull=False))
                    | (Q(kind="forfeit") & Q(amount__lt=0))
                ),
                name="ledger_amount_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="ledger_balance_after_not_negative"
            ),
        ]
        permissions = [("refund_creation", "Can refund creations")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d} → {self.balance_after}"
