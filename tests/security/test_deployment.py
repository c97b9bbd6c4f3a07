"""Production settings (DEBUG off, a real key, real hosts) pass Django's deployment check,
and the cookies and headers are what its deployment checklist asks for.

Both run in a subprocess: the settings module reads the environment once, at import."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
# The test settings turn these off for plain-HTTP test clients; production leaves them alone.
TEST_OVERRIDES = (
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "DEBUG",
)


def production_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in TEST_OVERRIDES}
    env.update(
        DJANGO_SETTINGS_MODULE="phoenix.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="phoenix.example.com",
        PHOENIX_SITE_URL="https://phoenix.example.com",
        PHOENIX_CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR",
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`manage.py <args>` in a process of its own with `env`."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_manage_py_check_deploy_is_clean_with_production_settings(figure):
    result = manage(production_environment(), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout
    figure("manage.py check --deploy with production settings: no issues")


def test_the_deployment_check_warns_when_the_client_address_is_the_proxys():
    result = manage(
        production_environment(PHOENIX_CLIENT_IP_HEADER="REMOTE_ADDR"),
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode != 0
    assert "phoenix.W001" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = production_environment()
    del env["SECRET_KEY"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_names_every_missing_setting_at_once():
    env = production_environment()
    for name in ("SECRET_KEY", "PHOENIX_SITE_URL", "ALLOWED_HOSTS"):
        del env[name]
    env["PHOENIX_ALERT_WINDOW"] = "2h"

    for command in (["check", "--deploy"], ["migrate", "--check"]):
        result = manage(env, *command)
        assert result.returncode != 0
        for named in ("SECRET_KEY", "PHOENIX_SITE_URL", "ALLOWED_HOSTS", "PHOENIX_ALERT_WINDOW"):
            assert named in result.stderr, (command, named, result.stderr[-2000:])
        assert result.stderr.count("Phoenix cannot start with these settings") == 1


PROBE = r"""
import json, django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client

def cookie(response, name):
    morsel = response.cookies[name]
    return {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"]),
            "samesite": morsel["samesite"]}

get_user_model().objects.create_user(username="probe", password="probe-password-123")
client = Client(HTTP_HOST="phoenix.example.com")
plain = client.get("/accounts/login/")
page = client.get("/accounts/login/", secure=True)
login = client.post("/accounts/login/", {"username": "probe", "password": "probe-password-123"},
                    secure=True)
print(json.dumps({
    "http_status": plain.status_code, "http_location": plain.get("Location", ""),
    "headers": {k: page.get(k) for k in ("Strict-Transport-Security", "X-Content-Type-Options",
        "X-Frame-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy",
        "Content-Security-Policy")},
    "csrf_cookie": cookie(page, "csrftoken"),
    "login_status": login.status_code,
    "session_cookie": cookie(login, "sessionid"),
}))
"""


@pytest.mark.django_db(transaction=True)
def test_cookies_and_security_headers_follow_the_deployment_checklist(figure):
    db = connection.settings_dict
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=production_environment(
            DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            # Tests run without collectstatic; the manifest storage would refuse to render.
            PHOENIX_STATICFILES_STORAGE="django.contrib.staticfiles.storage.StaticFilesStorage",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["http_status"] == 301
    assert seen["http_location"].startswith("https://phoenix.example.com/")
    headers = seen["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = dict(part.split(" ", 1) for part in headers["Content-Security-Policy"].split("; "))
    assert policy["script-src"] == "'self'"  # no inline script, no eval, no other origin
    assert policy["default-src"] == policy["base-uri"] == "'self'"
    # Forms post to us; the buy form's answer sends the browser on to Stripe Checkout.
    assert policy["form-action"] == "'self' https://checkout.stripe.com"
    assert policy["object-src"] == policy["frame-ancestors"] == "'none'"
    assert seen["login_status"] == 302
    assert seen["session_cookie"] == {"secure": True, "httponly": True, "samesite": "Lax"}
    # htmx reads the token from the page, so the CSRF cookie needs no HttpOnly; Secure it is.
    assert seen["csrf_cookie"]["secure"] is True
    assert seen["csrf_cookie"]["samesite"] == "Lax"
    figure(
        "production: HTTP→HTTPS 301, HSTS 1 year+subdomains+preload, nosniff, DENY, "
        "same-origin referrer and COOP, CSP with scripts from 'self' only; "
        "session cookie Secure+HttpOnly+Lax, CSRF cookie Secure"
    )


def test_the_csp_lets_media_come_from_the_s3_endpoint_that_presigned_urls_point_to(settings):
    from phoenix.middleware import build_policy

    assert "img-src 'self' data:" in build_policy()  # local files: nothing else

    settings.PHOENIX_S3_BUCKET = "phoenix-media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"endpoint_url": "https://acct.r2.cloudflarestorage.com/"},
        },
    }
    policy = build_policy()
    assert "img-src 'self' https://acct.r2.cloudflarestorage.com data:" in policy
    assert "media-src 'self' https://acct.r2.cloudflarestorage.com" in policy

    settings.STORAGES["default"]["OPTIONS"].update(
        addressing_style="virtual", bucket_name="phoenix-media"
    )
    assert "media-src 'self' https://phoenix-media.acct.r2.cloudflarestorage.com" in build_policy()

    settings.PHOENIX_CSP_MEDIA_ORIGINS = ["https://media.example.com"]
    assert (
        "media-src 'self' https://phoenix-media.acct.r2.cloudflarestorage.com "
        "https://media.example.com"
    ) in build_policy()


@pytest.mark.parametrize(
    "key_environment",
    [
        {},
        {"SECRET_KEY": "insecure-local-development-key-do-not-use-in-production"},
        {"SECRET_KEY": "   "},
        # A flag that used to let the development key through with DEBUG off.
        {"PHOENIX_ALLOW_INSECURE_KEY": "1"},
        {"PHOENIX_ALLOW_INSECURE_KEY": "1", "DJANGO_DEBUG": "1", "DEBUG": "false"},
    ],
    ids=["no-key", "the-development-key", "blank", "with-the-old-flag", "debug-false-spelled"],
)
def test_production_refuses_to_start_with_no_key_or_the_public_development_key(
    key_environment,
):
    env = production_environment()
    del env["SECRET_KEY"]
    env.update(key_environment)
    for command in (["check"], ["check", "--deploy"]):
        result = manage(env, *command)
        assert result.returncode != 0, result.stdout
        assert "SECRET_KEY must be set" in result.stderr
