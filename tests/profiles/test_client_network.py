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


def request_from(peer: str, **headers):
    return RequestFactory().get("/", REMOTE_ADDR=peer, **headers)


def test_the_client_header_is_believed_only_from_our_own_proxies(settings):
    settings.PHOENIX_TRUSTED_PROXIES = ["10.0.0.0/8", "::1/128"]

    from_proxy = request_from("10.1.2.3", HTTP_CF_CONNECTING_IP="203.0.113.9")
    from_anyone = request_from("198.51.100.7", HTTP_CF_CONNECTING_IP="203.0.113.9")
    mapped = request_from("::ffff:10.1.2.3", HTTP_CF_CONNECTING_IP="203.0.113.9")

    assert ratelimit.client_ip(from_proxy) == "203.0.113.9"
    # Sent straight to us: the header is the client's own word, and each forged value
    # would be a fresh throttle.
    assert ratelimit.client_ip(from_anyone) == "198.51.100.7"
    assert ratelimit.client_ip(mapped) == "203.0.113.9"
    assert ratelimit.client_ip(request_from("10.1.2.3")) == "10.1.2.3"  # no header


def test_in_a_forwarded_list_the_client_is_the_last_entry_no_proxy_of_ours_wrote(settings):
    settings.PHOENIX_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.PHOENIX_TRUSTED_PROXIES = ["10.0.0.0/8"]

    # The client forged 1.1.1.1; our two proxies appended what they saw.
    chain = request_from("10.0.0.2", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9, 10.0.0.1")

    assert ratelimit.client_ip(chain) == "203.0.113.9"
    assert ratelimit.client_ip(request_from("10.0.0.2", HTTP_X_FORWARDED_FOR="10.0.0.1")) == (
        "10.0.0.1"
    )


def test_forged_headers_from_outside_share_one_sign_up_throttle(db, settings):
    settings.PHOENIX_TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.PHOENIX_SIGNUPS_PER_NETWORK = 2
    forged = [
        Client(REMOTE_ADDR="198.51.100.7").post(
            SIGNUP,
            {
                "username": f"farm{n}",
                "email": f"farm{n}@example.com",
                "password1": "a-long-password-123",
                "password2": "a-long-password-123",
            },
            HTTP_CF_CONNECTING_IP=f"203.0.113.{n}",
        )
        for n in range(4)
    ]

    assert [r.status_code for r in forged].count(429) == 2
