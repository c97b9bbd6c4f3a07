"""Outbound HTTP to a URL someone else chose (a provider's output link, a creator's webhook):
which addresses it may reach, and a request pinned to the address that was checked.

The policy: public addresses only. Loopback, private ranges, link-local (cloud metadata at
169.254.169.254), multicast, and IPv6 that carries an IPv4 address (NAT64, 6to4,
IPv4-compatible, Teredo, IPv4-mapped) are refused, for every address the name resolves to.
Checking is not enough on its own: a name can resolve to a public address for the check
and to 127.0.0.1 a moment later for the connection (DNS rebinding). So the caller connects
to the address checked here (`pinned`), never looking the name up again, and follows no
redirect it has not checked the same way.

Both users import this module: creations' Runway downloads and webhooks' deliveries.
"""

import ipaddress
import socket

import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 prefixes that carry an IPv4 address (NAT64, 6to4, IPv4-compatible, Teredo): through
# them a "public" IPv6 address can reach any IPv4 one, private ones included.
EMBEDS_IPV4 = [
    ipaddress.ip_network(prefix)
    for prefix in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "::/96", "2001::/32")
]


class AddressRefused(Exception):
    """The URL's host is, or resolves to, an address outside the policy."""


class HostUnresolvable(Exception):
    """The name does not resolve now (may be passing: DNS trouble)."""


def public_address(address: Address) -> bool:
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    elif address.version == 6 and any(address in prefix for prefix in EMBEDS_IPV4):
        return False
    return address.is_global and not address.is_multicast


def loopback_address(address: Address) -> bool:
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (an address literal resolves to itself). The one
    place names are looked up: tests replace it to play a name that rebinds."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise HostUnresolvable(f"{host} does not resolve") from error
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def checked_address(host: str, port: int, *, allow_loopback: bool = False) -> str:
    """The address to connect to for `host`: every address it resolves to must be public
    (or loopback, when the caller allows it for local development), else AddressRefused.
    Connect to the answer, not to the name (see the module's docstring)."""
    addresses = resolve(host, port)
    if not addresses:
        raise HostUnresolvable(f"{host} does not resolve")
    for address in addresses:
        if public_address(address):
            continue
        if allow_loopback and loopback_address(address):
            continue
        raise AddressRefused(f"{host} resolves to a non-public address ({address})")
    return str(addresses[0])


def pinned(raw: str, address: str | None) -> tuple[httpx.URL, dict, dict]:
    """The request for `raw` sent to `address`: the URL's host in the Host header and in
    TLS (SNI and the certificate's name), the connection to the checked address."""
    url = httpx.URL(raw)
    if address is None:
        return url, {}, {}
    return (
        url.copy_with(host=address),
        {"Host": url.netloc.decode("ascii")},
        {"sni_hostname": url.host},
    )
