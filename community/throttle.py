"""How many likes, follows and comments (and their undoing) may come from one account and
from one network a minute: PHOENIX_SOCIAL_WRITES_PER_MINUTE and
PHOENIX_SOCIAL_WRITES_PER_NETWORK_PER_MINUTE (0 turns one off). A network is what every
Phoenix throttle counts a client as (phoenix.ratelimit.client_network: an IPv4 address, an
IPv6 /64, the client behind our trusted proxies). A write is counted before it is made, so
a burst sent in parallel cannot slip under the limit; fails open with Redis down."""

from django.conf import settings
from django.http import HttpRequest

from phoenix import ratelimit

WINDOW = 60


def social_write_refused(request: HttpRequest) -> int | None:
    """Count one write; None when allowed, else the seconds until the window turns."""
    limits = [
        ("social-account", str(request.user.pk), settings.PHOENIX_SOCIAL_WRITES_PER_MINUTE),
        (
            "social-network",
            ratelimit.client_network(request),
            settings.PHOENIX_SOCIAL_WRITES_PER_NETWORK_PER_MINUTE,
        ),
    ]
    for scope, subject, limit in limits:
        if not limit:
            continue
        count = ratelimit.take(scope, subject, window=WINDOW)
        if not count:
            return None  # Redis is down: allowed, without waiting on it again
        if count > limit:
            ratelimit.give_back(scope, subject, window=WINDOW)
            return ratelimit.seconds_left(WINDOW)
    return None
