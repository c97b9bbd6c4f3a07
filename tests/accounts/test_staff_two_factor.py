"""Staff need two-factor sign-in (PHOENIX_STAFF_REQUIRE_2FA) for the admin and the staff
pages: without it they are sent to set it up; with it, a session that has not passed a
code is sent to the code step."""

import pytest
from django.test import Client

from tests.accounts.conftest import code_at, enable_two_factor, log_in

STAFF_PAGES = ["/admin/", "/admin/creations/creation/", "/staff/metrics", "/staff/alerts"]


@pytest.fixture(autouse=True)
def required(settings):
    settings.PHOENIX_STAFF_REQUIRE_2FA = True


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_without_two_factor_cannot_open_the_staff_pages(root, url):
    client = Client()
    client.force_login(root)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/settings/security?next=")


def test_staff_without_two_factor_signing_in_at_the_admin_are_sent_to_set_it_up(root):
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "root", "password": "root-pass-123"}, follow=True
    )
    assert response.redirect_chain[-1][0].startswith("/settings/security?next=")
    assert "Staff accounts need two-factor sign-in" in response.content.decode()


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_with_two_factor_who_passed_the_code_open_the_staff_pages(root, url):
    enable_two_factor(root)
    client = Client()
    log_in(client, "root", "root-pass-123")
    client.post("/accounts/login/code", {"code": code_at()})
    assert client.get(url).status_code == 200


def test_a_staff_session_that_has_not_passed_a_code_is_asked_for_one(root):
    enable_two_factor(root)
    client = Client()
    client.force_login(root)  # signed in some other way: no code passed in this session
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/code?next=%2Fadmin%2F"
    response = client.post(response["Location"], {"code": code_at()})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_setting_it_up_opens_the_staff_pages(root):
    client = Client()
    client.force_login(root)
    client.get("/settings/security?next=/admin/")
    secret = client.session["phoenix_2fa_setup"]
    client.post("/settings/security/enable", {"code": code_at(secret=secret), "next": "/admin/"})
    assert client.get("/admin/").status_code == 200


def test_creators_are_not_asked_for_two_factor(alice_client):
    assert alice_client.get("/tokens").status_code == 200


def test_with_the_flag_off_staff_open_the_admin_without_it(root, settings):
    settings.PHOENIX_STAFF_REQUIRE_2FA = False
    client = Client()
    client.force_login(root)
    assert client.get("/admin/").status_code == 200


def test_make_runs_demo_admin_gets_two_factor_and_its_key_once(root):
    import io

    import pyotp
    from django.core.management import call_command

    out = io.StringIO()
    call_command("demo_admin_two_factor", "--username", "root", stdout=out)
    secret = out.getvalue().split("authenticator app): ")[1].split()[0]
    client = Client()
    log_in(client, "root", "root-pass-123")
    client.post("/accounts/login/code", {"code": pyotp.TOTP(secret).now()})
    assert client.get("/admin/").status_code == 200

    again = io.StringIO()
    call_command("demo_admin_two_factor", "--username", "root", stdout=again)
    assert again.getvalue() == ""
