from django.conf import settings
from django.db import models

# Providers that deliver every "+tag" variant of a mailbox to that mailbox are nearly all
# of them; Gmail also ignores dots and answers to two domains.
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def welcome_address(email: str) -> str:
    """An address as the welcome grant counts it: lower-cased, without a "+tag", and for
    Gmail without dots, so one mailbox cannot collect the grant under many spellings."""
    local, _, domain = email.strip().lower().rpartition("@")
    try:
        # One domain, two spellings: bücher.de is xn--bcher-kva.de.
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        pass  # not a valid IDN: kept as given (it cannot receive mail anyway)
    local = local.split("+", 1)[0] or local
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), GMAIL_DOMAINS[0]
    return f"{local}@{domain}"


class ConfirmedEmail(models.Model):
    """The address a creator proved is theirs by following the signed link sent to it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="confirmed_email"
    )
    address = models.EmailField()
    confirmed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} <{self.address}>"


class WelcomedAddress(models.Model):
    """An address that has earned its welcome grant: at most one grant per address, ever
    (unique), whichever account holds it now or later, and one per account (unique user).
    Written only with the grant (profiles.services.welcome_grant)."""

    address = models.CharField(max_length=254, unique=True, help_text="welcome_address()")
    # Kept when the account goes, so that a new account with the address gets nothing.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="welcomed_address",
    )
    entry = models.OneToOneField("tokens.LedgerEntry", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "welcomed addresses"

    def __str__(self) -> str:
        return self.address
