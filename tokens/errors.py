"""What tokens.services refuses with (named from tokens.services too, where callers have
always found them)."""

from .models import LedgerEntry


class InsufficientTokens(Exception):
    code = "insufficient_tokens"

    def __init__(self, *, balance: int, needed: int):
        super().__init__(f"This needs {needed} tokens and you have {balance}.")
        self.balance = balance
        self.needed = needed


class AlreadyApplied(Exception):
    """This form was sent before; `entry` is what the first sending wrote."""

    def __init__(self, entry: LedgerEntry):
        super().__init__(f"Already applied: {entry}")
        self.entry = entry


class BalanceWouldGoNegative(Exception):
    code = "balance_would_go_negative"

    def __init__(self, *, balance: int, amount: int):
        super().__init__(
            f"An adjustment of {amount:+d} would take the balance of {balance} below zero."
        )
        self.balance = balance
        self.amount = amount


class AdjustmentTooLarge(ValueError):
    code = "adjustment_too_large"

    def __init__(self, *, amount: int, bound: int):
        super().__init__(
            f"An adjustment is at most {bound:,} tokens either way ({amount:+,d} asked). "
            "Make larger corrections in several steps, each with its reason."
        )
        self.bound = bound


class SelfAdjustment(ValueError):
    code = "self_adjustment"

    def __init__(self):
        super().__init__(
            "Nobody adjusts their own balance: ask another staff member with the permission."
        )
