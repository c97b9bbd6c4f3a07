from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

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


class EmailDomainRule(models.Model):
    """A staff decision about a mail domain, over the disposable-mail list shipped with the
    code (profiles.email_domains): block one the list misses, or lift one it lists wrongly.
    Rows apply to the domain and every subdomain of it, without a deploy."""

    domain = models.CharField(max_length=253, unique=True, help_text="e.g. mailinator.com")
    blocked = models.BooleanField(
        default=True, help_text="Unticked: allowed even though the shipped list names it."
    )
    note = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(domain=Lower("domain")),
                name="email_domain_rule_lower_case",
            )
        ]

    def __str__(self) -> str:
        return f"{self.domain} ({'blocked' if self.blocked else 'allowed'})"


class WelcomeDay(models.Model):
    """How many welcome grants a UTC day has given: the site-wide cap is a conditional
    update of this row (profiles.welcome), so concurrent confirmations never pass it."""

    day = models.DateField(primary_key=True)
    granted = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.granted}"


class PendingWelcome(models.Model):
    """A confirmed creator whose welcome grant waits for a day with room under the cap;
    the hourly catch-up (profiles.jobs) grants them oldest first."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pending_welcome"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.user} since {self.created_at:%Y-%m-%d %H:%M}"
