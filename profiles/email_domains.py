"""Addresses at disposable-mail services cannot hold an account: each would collect the
welcome grant for a minute's work. The list is the disposable-email-domains project's
(a pinned package, updated with the code) under the staff's EmailDomainRule rows, which
block a domain it misses or lift one it names wrongly, and which `manage.py
import_email_domains` fills from a newer copy of the list: no deploy needed either way."""

from disposable_email_domains import blocklist

from .models import EmailDomainRule

DISPOSABLE_REFUSED = (
    "Addresses at disposable-mail services cannot be used here: use an address you keep."
)


def mail_domain(email: str) -> str:
    domain = email.strip().rpartition("@")[2].strip(".").lower()
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def domain_and_parents(domain: str) -> list[str]:
    """ "a.b.example.com" -> the domain itself first, then each parent down to
    "example.com" (a rule or a listed domain covers its subdomains)."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)] or [domain]


def is_disposable(email: str) -> bool:
    candidates = domain_and_parents(mail_domain(email))
    rules = dict(
        EmailDomainRule.objects.filter(domain__in=candidates).values_list("domain", "blocked")
    )
    for domain in candidates:  # the most specific rule wins
        if domain in rules:
            return rules[domain]
    return any(domain in blocklist for domain in candidates)
