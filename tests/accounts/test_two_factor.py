"""Two-factor sign-in: required at the sign-in once on (the session is not signed in until
the code passes), recovery codes work once, wrong codes are counted like wrong passwords,
and turning it off takes the password and a code."""

import pyotp
import pytest
from django.test import Client

from accounts import twofactor
from accounts.models import RecoveryCode, TwoFactor
from tests.accounts.conftest import SECRET, code_at, enable_two_factor, log_in, signed_in_as


def test_the_password_alone_does_not_sign_in_once_two_factor_is_on(carol, client):
    response = log_in(client, "carol", "carol-password-123")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/code"
    assert signed_in_as(client) is None
    # A page that needs a session sends the browser to log in.
    assert client.get("/tokens").status_code == 302
    assert signed_in_as(client) is None


def test_the_code_after_the_password_signs_in(carol, client):
    log_in(client, "carol", "carol-password-123", next_url="/tokens")
    response = client.post("/accounts/login/code", {"code": code_at()})
    assert response.status_code == 302
    assert response["Location"] == "/tokens"
    assert signed_in_as(client) == str(carol.pk)
    assert client.get("/tokens").status_code == 200


def test_a_wrong_code_does_not_sign_in(carol, client):
    log_in(client, "carol", "carol-password-123")
    wrong = "000000" if code_at() != "000000" else "111111"
    response = client.post("/accounts/login/code", {"code": wrong})
    assert response.status_code == 400
    assert "not right" in response.content.decode()
    assert signed_in_as(client) is None


def test_the_code_step_without_the_password_step_leads_back_to_the_log_in(carol, client):
    response = client.post("/accounts/login/code", {"code": code_at()})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert signed_in_as(client) is None


def test_a_code_works_once(carol):
    first, second = Client(), Client()
    code = code_at()
    log_in(first, "carol", "carol-password-123")
    log_in(second, "carol", "carol-password-123")
    assert first.post("/accounts/login/code", {"code": code}).status_code == 302
    assert second.post("/accounts/login/code", {"code": code}).status_code == 400
    assert signed_in_as(second) is None


def test_a_recovery_code_works_once(carol):
    code = carol.recovery[3]
    first, second = Client(), Client()
    log_in(first, "carol", "carol-password-123")
    response = first.post("/accounts/login/code", {"code": code.upper().replace("-", " ")})
    assert response.status_code == 302
    assert signed_in_as(first) == str(carol.pk)
    log_in(second, "carol", "carol-password-123")
    assert second.post("/accounts/login/code", {"code": code}).status_code == 400
    assert signed_in_as(second) is None
    assert twofactor.recovery_codes_left(carol) == 9


def test_recovery_codes_are_stored_hashed(carol):
    stored = set(RecoveryCode.objects.filter(user=carol).values_list("code_hash", flat=True))
    assert len(stored) == 10
    for code in carol.recovery:
        assert code not in stored and code.replace("-", "") not in stored


def test_wrong_codes_are_limited_per_account(carol, settings):
    settings.PHOENIX_2FA_FAILURES = 3
    client = Client()
    log_in(client, "carol", "carol-password-123")
    wrong = "000000" if code_at() != "000000" else "111111"
    statuses = [client.post("/accounts/login/code", {"code": wrong}).status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    # Now the right code is refused too, until the window ends.
    response = client.post("/accounts/login/code", {"code": code_at()})
    assert response.status_code == 429
    assert signed_in_as(client) is None


def test_the_admin_log_in_asks_for_the_code_too(root, client, settings):
    settings.PHOENIX_STAFF_REQUIRE_2FA = True
    enable_two_factor(root)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "root", "password": "root-pass-123"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/code"
    assert signed_in_as(client) is None
    response = client.post("/accounts/login/code", {"code": code_at()})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_password_reset_link_asks_for_the_code_before_signing_in(carol, client):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(carol.pk))
    token = default_token_generator.make_token(carol)
    response = client.get(f"/accounts/reset/{uid}/{token}/")
    form_url = response["Location"]
    response = client.post(
        form_url,
        {"new_password1": "a-new-password-456", "new_password2": "a-new-password-456"},
    )
    assert response["Location"] == "/accounts/login/code"
    assert signed_in_as(client) is None
    client.post("/accounts/login/code", {"code": code_at()})
    assert signed_in_as(client) == str(carol.pk)


def test_setting_it_up_on_the_security_page(alice_client, alice):
    page = alice_client.get("/settings/security")
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    secret = alice_client.session["phoenix_2fa_setup"]
    wrong = alice_client.post("/settings/security/enable", {"code": "12345"})
    assert wrong.status_code == 400
    assert not TwoFactor.objects.filter(user=alice).exists()
    response = alice_client.post("/settings/security/enable", {"code": code_at(secret=secret)})
    assert response.status_code == 200
    assert response.content.decode().count("<li><code>") == 10
    assert TwoFactor.objects.get(user=alice).secret == secret
    # From now on, signing in takes the code.
    fresh = Client()
    log_in(fresh, "alice", "alice-password-123")
    assert signed_in_as(fresh) is None


def test_turning_it_off_needs_the_password_and_a_code(carol, client):
    log_in(client, "carol", "carol-password-123")
    client.post("/accounts/login/code", {"code": code_at()})
    no_code = client.post("/settings/security/disable", {"disable-password": "carol-password-123"})
    assert no_code.status_code == 400
    wrong_password = client.post(
        "/settings/security/disable",
        {"disable-password": "nope", "disable-code": carol.recovery[0]},
    )
    assert wrong_password.status_code == 400
    assert TwoFactor.objects.filter(user=carol).exists()
    response = client.post(
        "/settings/security/disable",
        {"disable-password": "carol-password-123", "disable-code": carol.recovery[0]},
    )
    assert response.status_code == 302
    assert not TwoFactor.objects.filter(user=carol).exists()
    assert not RecoveryCode.objects.filter(user=carol).exists()
    fresh = Client()
    log_in(fresh, "carol", "carol-password-123")
    assert signed_in_as(fresh) == str(carol.pk)


NOW = 1_800_000_000  # a fixed moment: no test here depends on the clock


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_a_code_of_the_step_either_side_is_accepted_for_clock_drift(offset):
    step = NOW // twofactor.STEP + offset
    code = pyotp.TOTP(SECRET).at(step * twofactor.STEP)
    assert twofactor._step_of(SECRET, code, now=NOW) == step


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_a_code_two_steps_away_or_more_is_refused(offset):
    code = pyotp.TOTP(SECRET).at((NOW // twofactor.STEP + offset) * twofactor.STEP)
    assert twofactor._step_of(SECRET, code, now=NOW) is None


def test_wrong_passwords_where_it_is_asked_again_count_like_wrong_codes(carol, settings):
    settings.PHOENIX_2FA_FAILURES = 2
    client = Client()
    log_in(client, "carol", "carol-password-123")
    client.post("/accounts/login/code", {"code": code_at()})
    statuses = [
        client.post(
            "/settings/security/disable",
            {"disable-password": "guess", "disable-code": carol.recovery[0]},
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [400, 400, 429]
    right = client.post(
        "/settings/security/disable",
        {"disable-password": "carol-password-123", "disable-code": carol.recovery[0]},
    )
    assert right.status_code == 429
    assert TwoFactor.objects.filter(user=carol).exists()
