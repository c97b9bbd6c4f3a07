import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class TokenAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="token_account"
    )
    # Written only by tokens.services, always under select_for_update.
    balance = models.BigIntegerField(default=0)
    # Tokens refunded or charged back after they were spent: never a negative balance,
    # paid first from the next tokens that come in (tokens.services._settle_debt).
    debt = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="token_balance_not_negative"),
            models.CheckConstraint(condition=Q(debt__gte=0), name="token_debt_not_negative"),
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
        PURCHASE = "purchase", "Purchase"
        # A refunded or charged-back purchase takes back its lot's unspent tokens.
        REVOKE = "revoke", "Purchase refunded"
        DISPUTE_HOLD = "dispute_hold", "Held for a dispute"
        DISPUTE_RELEASE = "dispute_release", "Released after a dispute"
        EXPIRY = "expiry", "Expired"
        DEBT_PAYMENT = "debt_payment", "Debt paid"

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
    purchase = models.ForeignKey(
        "tokens.Purchase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    # The lot a credit opened, or the one lot an expiry, hold or release moved.
    lot = models.ForeignKey(
        "tokens.CreditLot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
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
            # Exactly-once fulfilment: one credit per purchase, whatever Stripe redelivers.
            models.UniqueConstraint(
                fields=["purchase"], condition=Q(kind="purchase"), name="one_credit_per_purchase"
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
                    | (Q(kind="purchase") & Q(amount__gt=0) & Q(purchase__isnull=False))
                    | (Q(kind="revoke") & Q(amount__lt=0) & Q(purchase__isnull=False))
                    | (Q(kind="dispute_hold") & Q(amount__lt=0) & Q(purchase__isnull=False))
                    | (Q(kind="dispute_release") & Q(amount__gt=0) & Q(purchase__isnull=False))
                    | (Q(kind="expiry") & Q(amount__lt=0) & Q(lot__isnull=False))
                    | (Q(kind="debt_payment") & Q(amount__lt=0))
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


def money_label(minor_units: int, currency: str) -> str:
    """500, "usd" → "5.00 USD" (every currency Phoenix sells in has two decimals)."""
    return f"{minor_units / 100:.2f} {currency.upper()}"


class TokenPack(models.Model):
    """What a creator can buy: `tokens` for `price` minor units of `currency`."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80)
    tokens = models.PositiveIntegerField()
    price = models.PositiveIntegerField(help_text="In minor units (cents).")
    currency = models.CharField(max_length=3, default="usd", help_text="ISO 4217, lower case.")
    active = models.BooleanField(default=True)
    ordering = models.IntegerField(default=0)

    class Meta:
        ordering = ["ordering", "price"]
        constraints = [
            models.CheckConstraint(condition=Q(tokens__gt=0), name="pack_tokens_positive"),
            models.CheckConstraint(condition=Q(price__gt=0), name="pack_price_positive"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[a-z]{3}$"), name="pack_currency_iso_lower"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tokens} tokens)"

    @property
    def price_label(self) -> str:
        return money_label(self.price, self.currency)


class Purchase(models.Model):
    """One Checkout Session for one pack. Its id is the session's client_reference_id and
    metadata.purchase_id; the amounts are copied from the pack when it was bought."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        FULFILLED = "fulfilled", "Fulfilled"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"
        REFUNDED = "refunded", "Refunded"
        DISPUTED = "disputed", "Disputed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(TokenAccount, on_delete=models.PROTECT, related_name="purchases")
    pack = models.ForeignKey(TokenPack, on_delete=models.PROTECT, related_name="purchases")
    tokens = models.PositiveIntegerField()
    amount = models.PositiveIntegerField(help_text="In minor units.")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    checkout_session_id = models.CharField(max_length=255, unique=True)
    checkout_url = models.URLField(max_length=2000, blank=True)
    payment_intent_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    # Cumulative: what Stripe says was refunded (or lost in a dispute), and the tokens
    # taken back for it so far, from the lot or as debt.
    refunded_amount = models.PositiveIntegerField(default=0)
    tokens_revoked = models.PositiveIntegerField(default=0)
    failure_reason = models.CharField(max_length=255, blank=True)
    # The chargeback Stripe told of (its id), and how it ended once closed ("won" or
    # "lost"; blank while open or none): a late "created" for a closed dispute freezes
    # nothing, a "closed" arriving first still applies its loss.
    dispute_id = models.CharField(max_length=255, blank=True)
    dispute_outcome = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tokens_revoked__lte=models.F("tokens")),
                name="purchase_revokes_at_most_its_tokens",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=models.F("amount")),
                name="purchase_refunds_at_most_its_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pack.name} for {self.account.user} ({self.status})"

    @property
    def amount_label(self) -> str:
        return money_label(self.amount, self.currency)

    @property
    def is_settled(self) -> bool:
        """Past the point where tokens could still arrive."""
        return self.status != self.Status.PENDING

    def tokens_owed_back(self, refunded_amount: int) -> int:
        """The tokens a cumulative refund of `refunded_amount` takes back: all of them for a
        full refund, in proportion (rounded up: never a token not paid for) otherwise."""
        refunded_amount = min(refunded_amount, self.amount)
        return -(-self.tokens * refunded_amount // self.amount)

    def amount_for_tokens(self, tokens: int) -> int:
        """What `tokens` of this purchase cost (rounded down: never refund more than paid)."""
        return self.amount * tokens // self.tokens


class CreditLot(models.Model):
    """Tokens that came in together. Σ remaining over an account's lots = its balance."""

    class Category(models.TextChoices):
        PAID = "paid", "Paid"
        PROMO = "promo", "Promo"

    account = models.ForeignKey(TokenAccount, on_delete=models.PROTECT, related_name="lots")
    category = models.CharField(max_length=8, choices=Category.choices)
    granted = models.BigIntegerField()
    remaining = models.BigIntegerField()
    # Not spendable while a dispute of its purchase is open (out of the balance meanwhile).
    frozen = models.BigIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    purchase = models.OneToOneField(
        Purchase, on_delete=models.PROTECT, null=True, blank=True, related_name="lot"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # The draw-down order, the one place it is written (debits take from lots in it):
    # promo before paid, then the soonest expiry first (no expiry last), then oldest first.
    DRAW_ORDER = (
        models.Case(
            models.When(category="promo", then=models.Value(0)),
            default=models.Value(1),
        ),
        models.F("expires_at").asc(nulls_last=True),
        "id",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(granted__gt=0), name="lot_granted_positive"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0), name="lot_remaining_not_negative"
            ),
            models.CheckConstraint(condition=Q(frozen__gte=0), name="lot_frozen_not_negative"),
            models.CheckConstraint(
                condition=Q(category="promo") | Q(purchase__isnull=False),
                name="paid_lot_has_purchase",
            ),
        ]
        indexes = [
            models.Index(fields=["expires_at"], condition=Q(remaining__gt=0), name="lot_expiring"),
            # Every debit reads an account's spendable lots (remaining > 0).
            models.Index(fields=["account"], condition=Q(remaining__gt=0), name="lot_spendable"),
        ]

    def __str__(self) -> str:
        return f"{self.category} lot: {self.remaining}/{self.granted}"


class LotDraw(models.Model):
    """How many tokens a debit (or a negative adjustment) took from one lot: a creation's
    refund gives them back to the same lots."""

    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="draws")
    lot = models.ForeignKey(CreditLot, on_delete=models.PROTECT, related_name="draws")
    amount = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="draw_amount_positive"),
            models.UniqueConstraint(fields=["entry", "lot"], name="one_draw_per_entry_and_lot"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} from lot {self.lot_id}"


class StripeEvent(models.Model):
    """Each Stripe event id, recorded once. The record is a claim (claimed_at) while one
    request handles the event and is marked handled (handled_at) when that succeeds: a copy
    finding it handled does nothing; finding a live claim it answers 409 and Stripe sends it
    again later; a claim older than tokens.payments.STALE_CLAIM (its handler died) is
    taken over. A failed handling releases its claim (claimed_at back to None)."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class AdjustmentRequest(models.Model):
    """Every balance adjustment made in the admin, and the staff audit trail of them. One
    up to PHOENIX_ADJUSTMENT_APPROVAL_ABOVE tokens is applied at once; a larger one waits
    until a second staff member approves it (never the one who asked: a constraint), so
    no one can credit an accomplice alone. Written only by tokens.adjustments."""

    class Status(models.TextChoices):
        APPLIED = "applied", "applied at once"
        PENDING = "pending", "waiting for approval"
        APPROVED = "approved", "approved and applied"
        REJECTED = "rejected", "rejected"
        WITHDRAWN = "withdrawn", "withdrawn by who asked"

    account = models.ForeignKey(TokenAccount, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    reason = models.CharField(max_length=255)
    expires_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The adjust form's key: sending one form twice asks once.
    request_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=255, blank=True)
    entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="adjustment_request_not_zero"),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("requested_by")),
                name="adjustment_request_second_staff",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status__in=["applied", "approved"], entry__isnull=False)
                    | Q(status__in=["pending", "rejected", "withdrawn"], entry__isnull=True)
                ),
                name="adjustment_request_entry_when_applied",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status__in=["approved", "rejected"], decided_by__isnull=False)
                    | Q(status__in=["applied", "pending", "withdrawn"], decided_by__isnull=True)
                ),
                name="adjustment_request_decided_by_a_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} for {self.account.user} ({self.get_status_display()})"
