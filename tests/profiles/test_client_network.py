"""The throttles count an IPv6 client by its /64 (one home or one server gets a whole /64,
so counting single addresses would give it 2**64 tries) and an IPv4 client by its address."""

import pytest
from django.test import Client, RequestFactory

from phoenix import ratelimit

LOGIN = "/accounts/login/"
SIGNUP = "/accounts/signup/"


@pytest.fixture(autouse=True)
def client_ip_header(settings):
    settings.PHOENIX_CLIENT_IP_HEADER = "HTTP_CF_CONNECTING_IP"


def network_of(address: str) -> str:
    return ratelimit.client_network(RequestFactory().get("/", HTTP_CF_CONNECTING_IP=address))


def log_in(username: str, password: str, address: str):
    return Client().post(
        LOGIN, {"username": username, "password": password}, HTTP_CF_CONNECTING_IP=address
    )


def sign_up(name: str, address: str):
    password = "a-long-password-123"
    form = {
        "username": name,
        "email": f"{name}@example.com",
        "password1": password,
        "password2": password,
    }
    return Client().post(SIGNUP, form, HTTP_CF_CONNECTING_IP=address)


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),  # IPv4-mapped: the IPv4 client it is
        ("192.0.2.7", "192.0.2.7"),
        ("  203.0.113.5 ", "203.0.113.5"),
        ("[2001:db8::1]", "2001:db8::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("not-an-address", "not-an-address"),
    ],
)
def test_it_keys_a_client_by_its_ipv6_64_or_its_ipv4_address(address, network):
    assert network_of(address) == network


def test_addresses_in_one_64_share_the_sign_up_limit_and_another_64_does_not(db, settings):
    settings.PHOENIX_SIGNUPS_PER_NETWORK = 2

    assert sign_up("first", "2001:db8:aa:1::1").status_code == 302
    assert sign_up("second", "2001:db8:aa:1:dead:beef:0:2").status_code == 302
    refused = sign_up("third", "2001:db8:aa:1:ffff::3")
    assert refused.status_code == 429
    assert sign_up("fourth", "2001:db8:aa:2::1").status_code == 302


def test_addresses_in_one_64_share_the_log_in_limit_per_network(alice, bob, settings):
    settings.PHOENIX_LOGIN_FAILURES_PER_NETWORK = 5
    for number in range(5):
        log_in(f"guess{number}", "wrong", f"2001:db8:bb:1::{number + 1:x}")

    refused = log_in("alice", "alice-password-123", "2001:db8:bb:1:1234::99")
    assert refused.status_code == 429
    assert log_in("bob", "bob-password-123", "2001:db8:bb:2::1").status_code == 302


def test_an_ipv4_mapped_address_counts_as_that_ipv4_client(db, settings):
    settings.PHOENIX_SIGNUPS_PER_NETWORK = 1

    assert sign_up("first", "192.0.2.44").status_code == 302
    assert sign_up("second", "::ffff:192.0.2.44").status_code == 429
    assert sign_up("third", "::ffff:192.0.2.45").status_code == 302
