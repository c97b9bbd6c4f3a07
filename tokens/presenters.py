"""The creator's token history in words: what each ledger row was, and where its creation is
now. Staff are never named to creators: their rows read "by Phoenix staff"."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.urls import reverse
from django.utils.text import Truncator

from .models import CreditLot, LedgerEntry, Purchase

PROMPT_CHARS = 80


@dataclass(frozen=True)
class CreationPlace:
    """Where a ledger row's creation is now: a link and its words, or gone for good."""

    url: str
    where: str
    prompt: str

    @property
    def is_gone(self) -> bool:
        return not self.url


@dataclass(frozen=True)
class HistoryRow:
    entry: LedgerEntry
    title: str
    detail: str
    place: CreationPlace | None

    @property
    def amount_label(self) -> str:
        # A real minus sign, as the cards' receipts write it.
        amount = self.entry.amount
        return f"+{amount}" if amount > 0 else f"\u2212{-amount}"

    @property
    def is_credit(self) -> bool:
        return self.entry.amount > 0


def creation_place(creation, *, owner: AbstractBaseUser) -> CreationPlace:
    """The tab a card is on (drafts, trash) or a post's own page. A purged creation has no
    page and no prompt any more; nor has one whose row is gone (the ledger outlives it)."""
    if creation is None or creation.is_purged:
        return CreationPlace(url="", where="deleted forever", prompt="")
    prompt = Truncator(creation.prompt).chars(PROMPT_CHARS)
    profile = reverse("profile", args=[owner.get_username()])
    if creation.is_trashed:
        return CreationPlace(f"{profile}?tab=trash#creation-{creation.pk}", "in the trash", prompt)
    if creation.status in creation.POSTS_TAB:
        return CreationPlace(reverse("post", args=[creation.pk]), "post", prompt)
    return CreationPlace(f"{profile}?tab=drafts#creation-{creation.pk}", "in drafts", prompt)


def kind_label(entry: LedgerEntry) -> str:
    # A debit's reason is its creation's kind, so the label survives a missing creation.
    kind = entry.creation.kind if entry.creation is not None else entry.reason
    # The ledger names its creation by a lazy relation ("creations.Creation"): tokens sits
    # below creations and reads the model through it rather than importing it.
    kinds = LedgerEntry._meta.get_field("creation").related_model.Kind
    return kinds(kind).label if kind in kinds.values else "Creation"


def refund_words(entry: LedgerEntry) -> str:
    if entry.staff_id is not None:
        return f"Refunded by Phoenix staff: {entry.reason}"
    if entry.reason == "canceled":
        return "Canceled, tokens refunded"
    creation = entry.creation
    # The message its card showed; a humanised code when the creation row is gone.
    message = creation.error_message if creation is not None else ""
    return f"Failed: {message or entry.reason.replace('_', ' ')}"


def purchase_words(purchase: Purchase) -> str:
    return (
        f"{purchase.pack.name} pack · {purchase.amount_label} · "
        f"{purchase.get_status_display().lower()}"
    )


PURCHASE_TITLES = {
    LedgerEntry.Kind.PURCHASE: "Tokens bought",
    LedgerEntry.Kind.REVOKE: "Purchase refunded: unspent tokens taken back",
    LedgerEntry.Kind.DISPUTE_HOLD: "Held while a payment dispute is open",
    LedgerEntry.Kind.DISPUTE_RELEASE: "Released: the payment dispute closed",
}


def history_row(entry: LedgerEntry, *, owner: AbstractBaseUser) -> HistoryRow:
    if entry.kind in PURCHASE_TITLES:
        return HistoryRow(entry, PURCHASE_TITLES[entry.kind], purchase_words(entry.purchase), None)
    if entry.kind == LedgerEntry.Kind.EXPIRY:
        return HistoryRow(entry, "Expired", "Promotional tokens past their expiry date", None)
    if entry.kind == LedgerEntry.Kind.DEBT_PAYMENT:
        return HistoryRow(
            entry, "Debt paid", "Tokens spent before a refund, paid back from new tokens", None
        )
    place = creation_place(entry.creation, owner=owner) if entry.creation_id else None
    if entry.kind == LedgerEntry.Kind.DEBIT:
        return HistoryRow(entry, kind_label(entry), "", place)
    if entry.kind == LedgerEntry.Kind.REFUND:
        return HistoryRow(entry, f"Refund · {kind_label(entry)}", refund_words(entry), place)
    if entry.kind == LedgerEntry.Kind.ADJUSTMENT:
        return HistoryRow(entry, "Adjustment", f"By Phoenix staff: {entry.reason}", place)
    if entry.kind == LedgerEntry.Kind.FORFEIT:
        return HistoryRow(entry, "Forfeited", "Unspent tokens of a deleted account", place)
    if entry.reason == "welcome":
        return HistoryRow(entry, "Welcome grant", "Tokens to start creating with", place)
    return HistoryRow(entry, "Grant", entry.reason, place)


def history_rows(entries, *, owner: AbstractBaseUser) -> list[HistoryRow]:
    return [history_row(entry, owner=owner) for entry in entries]


@dataclass(frozen=True)
class LotRow:
    lot: CreditLot

    @property
    def words(self) -> str:
        """ "12 tokens expire on 14 Jan", or what kind of tokens they are."""
        lot = self.lot
        count = f"{lot.remaining} token{'s' if lot.remaining != 1 else ''}"
        kind = "bought" if lot.category == CreditLot.Category.PAID else "promotional"
        if lot.expires_at is None:
            return f"{count} {kind}, no expiry"
        verb = "expires" if lot.remaining == 1 else "expire"
        return f"{count} {verb} on {lot.expires_at:%-d %b %Y}"


def lot_rows(lots) -> list[LotRow]:
    return [LotRow(lot) for lot in lots]
