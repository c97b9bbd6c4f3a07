"""No SSRF: a webhook URL is https and resolves to public addresses only, checked when it is
saved (400 with the reason) and again at every send, the connection pinned to the address
checked (a name that rebinds between the check and the send never reaches inside), and no
redirect followed. The resolver is replaced in these tests, never the policy."""

import pytest

from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint

from .conftest import PUBLIC_ADDRESS, deliver

pytestmark = pytest.mark.django_db

INSIDE = [
    "https://127.0.0.1/hook",
    "https://localhost/hook",
    "https://10.0.0.1/hook",
    "https://10.255.3.4:8443/hook",
    "https://192.168.1.10/hook",
    "https://172.16.0.1/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/hook",
    "https://[fd00::1]/hook",
    "https://[fe80::1]/hook",
    "https://0.0.0.0/hook",
    # IPv6 that carries 10.0.0.1 or 127.0.0.1: NAT64, 6to4, IPv4-compatible, Teredo, mapped.
    "https://[64:ff9b::a00:1]/hook",
    "https://[2002:a00:1::]/hook",
    "https://[::a00:1]/hook",
    "https://[2001:0:a00:1::]/hook",
    "https://[::ffff:127.0.0.1]/hook",
]


@pytest.mark.parametrize("url", INSIDE)
def test_an_address_inside_is_refused_at_save(alice, url):
    with pytest.raises(services.WebhookRefused) as refused:
        services.endpoint_create(owner=alice, url=url, events=["creation.finished"])
    assert refused.value.code == "not_public"
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "answer",
    [["127.0.0.1"], ["10.1.2.3"], ["169.254.169.254"], ["::1"], [PUBLIC_ADDRESS, "10.0.0.7"]],
)
def test_a_name_resolving_inside_is_refused_at_save(alice, resolver, answer):
    resolver.names["hooks.example.com"] = [answer]
    with pytest.raises(services.WebhookRefused) as refused:
        services.endpoint_create(
            owner=alice, url="https://hooks.example.com/in", events=["tokens.low"]
        )
    assert refused.value.code == "not_public"
    assert "not a public address" in refused.value.message


def test_plain_http_is_refused_even_to_a_public_address(alice, resolver):
    resolver.names["hooks.example.com"] = [[PUBLIC_ADDRESS]]
    with pytest.raises(services.WebhookRefused) as refused:
        services.endpoint_create(
            owner=alice, url="http://hooks.example.com/in", events=["tokens.low"]
        )
    assert refused.value.code == "https_required"


@pytest.mark.parametrize(
    "url", ["", "not a url", "ftp://hooks.example.com/", "https:///nohost", "file:///etc/passwd"]
)
def test_what_is_not_an_https_url_is_refused(alice, url):
    with pytest.raises(services.WebhookRefused) as refused:
        services.endpoint_create(owner=alice, url=url, events=["tokens.low"])
    assert refused.value.code in ("invalid_url", "https_required")


def test_a_public_name_is_saved(alice, resolver):
    resolver.names["hooks.example.com"] = [[PUBLIC_ADDRESS]]
    endpoint = services.endpoint_create(
        owner=alice, url="https://hooks.example.com/in", events=["tokens.low", "creation.failed"]
    )
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.events == ["creation.failed", "tokens.low"]


def test_allow_private_opens_loopback_http_but_not_the_private_network(alice, allow_private):
    services.endpoint_create(owner=alice, url="http://127.0.0.1:9/hook", events=["tokens.low"])
    for url in ("http://10.0.0.1/hook", "https://169.254.169.254/", "http://[fd00::1]/"):
        with pytest.raises(services.WebhookRefused):
            services.endpoint_create(owner=alice, url=url, events=["tokens.low"])


def test_a_name_that_rebinds_between_check_and_send_is_refused_at_send(
    alice, resolver, receiver, make_endpoint, make_delivery, settings
):
    # Loopback receivers are allowed in this test only so that, were the rebind followed,
    # the request would arrive; the rebinding answer is the private network's, refused
    # whatever the setting.
    receiver.expect_request("/hook").respond_with_data("ok")
    resolver.names["rebind.example.com"] = [[PUBLIC_ADDRESS], ["10.0.0.1"]]
    endpoint = services.endpoint_create(
        owner=alice, url="https://rebind.example.com/hook", events=["creation.finished"]
    )
    delivery = make_delivery(endpoint=endpoint)

    assert deliver(delivery) == "failed"

    delivery.refresh_from_db()
    assert delivery.state == "failed" and delivery.status_code is None
    assert "not a public address" in delivery.error
    assert resolver.lookups == ["rebind.example.com", "rebind.example.com"]
    assert receiver.log == []


def test_a_rebind_to_loopback_is_refused_at_send(alice, resolver, make_endpoint, make_delivery):
    resolver.names["rebind.example.com"] = [[PUBLIC_ADDRESS], ["127.0.0.1"]]
    endpoint = services.endpoint_create(
        owner=alice, url="https://rebind.example.com/hook", events=["creation.finished"]
    )
    delivery = make_delivery(endpoint=endpoint)
    assert deliver(delivery) == "failed"
    delivery.refresh_from_db()
    assert "not a public address" in delivery.error


def test_the_connection_goes_to_the_checked_address_not_a_new_lookup(
    alice, resolver, receiver, make_endpoint, make_delivery
):
    # The name is resolved once per send, by the check; the connection goes to that
    # answer (here the local receiver) with the name in the Host header. A second lookup
    # would get the last answer, which does not listen.
    port = receiver.port
    resolver.names["pinned.example.com"] = [["127.0.0.1"], ["127.0.0.1"], [PUBLIC_ADDRESS]]
    receiver.expect_request("/hook").respond_with_data("ok")
    endpoint = make_endpoint(owner=alice, url=f"http://pinned.example.com:{port}/hook")
    delivery = make_delivery(endpoint=endpoint)

    assert deliver(delivery) == "delivered"

    [(request, _)] = receiver.log
    assert request.headers["Host"] == f"pinned.example.com:{port}"
    assert resolver.lookups == ["pinned.example.com"]


def test_a_redirect_is_not_followed(alice, receiver, make_endpoint, make_delivery):
    receiver.expect_request("/hook").respond_with_data(
        "", status=302, headers={"Location": "http://127.0.0.1:9/inside"}
    )
    receiver.expect_request("/inside").respond_with_data("should never be reached")
    delivery = make_delivery(endpoint=make_endpoint(owner=alice, url=receiver.url_for("/hook")))
    assert deliver(delivery) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status_code, delivery.error) == (302, "Redirects are not followed")
    assert [request.path for request, _ in receiver.log] == ["/hook"]


def test_refused_at_save_the_page_answers_400_with_the_reason(alice_client):
    response = alice_client.post(
        "/settings/webhooks",
        {"url": "https://169.254.169.254/latest/meta-data/", "events": ["creation.finished"]},
    )
    assert response.status_code == 400
    assert "not a public address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_allow_private_is_refused_with_debug_off():
    import subprocess
    import sys

    from tests.conftest import ROOT

    script = "import django; django.setup()"
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "phoenix.settings",
        "SECRET_KEY": "a-secret-of-our-own-0123456789-abcdefghijklmnop",
        "ALLOWED_HOSTS": "phoenix.example.com",
        "PHOENIX_SITE_URL": "https://phoenix.example.com",
        "PHOENIX_WEBHOOKS_ALLOW_PRIVATE": "1",
    }
    refused = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert "PHOENIX_WEBHOOKS_ALLOW_PRIVATE is for local development" in refused.stderr
    started = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "DEBUG": "1"},
        capture_output=True,
        text=True,
    )
    assert started.returncode == 0, started.stderr
    off = subprocess.run(
        [
            sys.executable,
            "-c",
            script + "; from django.conf import settings; "
            "print(settings.PHOENIX_WEBHOOKS_ALLOW_PRIVATE)",
        ],
        cwd=ROOT,
        env={**env, "DEBUG": "1", "PHOENIX_WEBHOOKS_ALLOW_PRIVATE": ""},
        capture_output=True,
        text=True,
    )
    assert off.stdout.strip() == "False"
