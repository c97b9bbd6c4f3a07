"""Making, listing and revoking keys, and what is stored of them."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from apikeys import services
from apikeys.models import ApiKey

from .conftest import bearer


def session(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def test_a_key_is_phx_a_secret_and_a_checksum_that_catches_a_typo():
    key = services.new_plaintext()
    assert key.startswith("phx_") and len(key) == services.KEY_LENGTH
    assert services.well_formed(key)
    typo = key[:10] + ("A" if key[10] != "A" else "B") + key[11:]
    assert not services.well_formed(typo)
    assert not services.well_formed("phx_" + "x" * 36)
    assert services.new_plaintext() != key


def test_post_api_keys_answers_the_key_once_and_the_table_holds_no_secret(alice):
    client = session(alice)
    answer = post_json(client, "/api/keys", {"name": "nightly", "scopes": ["create", "read"]})
    assert answer.status_code == 201
    body = answer.json()
    key = body["key"]
    assert body["scopes"] == ["create", "read"] and body["prefix"] == key[:12]
    # The table, read as it is: the secret appears in no column, only its SHA-256.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM apikeys_apikey")
        rows = cursor.fetchall()
    assert len(rows) == 1
    assert not any(key in str(value) for value in rows[0])
    assert not any(key[len("phx_") :][:30] in str(value) for value in rows[0])
    assert ApiKey.objects.get().key_hash == services.key_hash(key)
    # Listed afterwards without the key.
    listed = client.get("/api/keys").json()["keys"]
    assert [k["id"] for k in listed] == [body["id"]] and "key" not in listed[0]
    assert key not in client.get("/settings/api").content.decode()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"scopes": ["read"]}, "name_required"),
        ({"name": "x", "scopes": []}, "invalid_scopes"),
        ({"name": "x", "scopes": ["admin"]}, "invalid_scopes"),
        ({"name": "x", "scopes": "read"}, "invalid_scopes"),
        ({"name": "x\x00", "scopes": ["read"]}, "invalid_name"),
        (
            {"name": "x", "scopes": ["read"], "expires_at": "2001-01-01T00:00Z"},
            "invalid_expires_at",
        ),
        ({"name": "x", "scopes": ["read"], "owner": "bob"}, "unknown_field"),
    ],
)
def test_a_bad_key_request_is_a_400_and_makes_nothing(alice, data, code):
    answer = post_json(session(alice), "/api/keys", data)
    assert answer.status_code == 400
    assert answer.json()["error"] == code
    assert not ApiKey.objects.exists()


def test_keys_per_account_are_limited(alice, settings):
    settings.PHOENIX_API_KEYS_MAX = 2
    client = session(alice)
    for _ in range(2):
        assert post_json(client, "/api/keys", {"name": "k", "scopes": ["read"]}).status_code == 201
    refused = post_json(client, "/api/keys", {"name": "k", "scopes": ["read"]})
    assert refused.status_code == 409 and refused.json()["error"] == "too_many_keys"


def test_the_key_endpoints_refuse_bearer_auth(alice, make_key):
    key = make_key(alice)
    script = bearer(key)
    made = post_json(script, "/api/keys", {"name": "more", "scopes": ["read"]})
    assert made.status_code == 403 and made.json()["error"] == "session_required"
    assert script.get("/api/keys").status_code == 403
    own = ApiKey.objects.get()
    assert script.delete(f"/api/keys/{own.pk}").status_code == 403
    assert ApiKey.objects.count() == 1 and ApiKey.objects.get().revoked_at is None


def test_revoked_answers_401_with_www_authenticate_on_the_next_request(alice, bob, make_key):
    key = make_key(alice)
    script = bearer(key)
    assert script.get("/api/tokens/balance").status_code == 200
    own = ApiKey.objects.get()
    # Someone else cannot revoke it (reads as unknown), its owner can.
    assert session(bob).delete(f"/api/keys/{own.pk}").status_code == 404
    assert session(alice).delete(f"/api/keys/{own.pk}").status_code == 204
    answer = script.get("/api/tokens/balance")
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_api_key" and answer.json()["reason"] == "revoked"
    assert answer["WWW-Authenticate"].startswith('Bearer realm="phoenix", error="invalid_token"')


def test_expired_and_unknown_keys_answer_401(alice, make_key):
    key = make_key(alice, expires_at=timezone.now() + timedelta(days=1))
    ApiKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    for token, reason in [
        (key, "expired"),
        (services.new_plaintext(), "unknown"),
        ("phx_short", "unknown"),
        ("", "unknown"),
    ]:
        answer = bearer(token).get("/api/tokens/balance")
        assert answer.status_code == 401, token
        assert answer.json()["reason"] == reason
        assert "WWW-Authenticate" in answer


def test_a_key_of_a_deactivated_account_does_not_work(alice, make_key):
    key = make_key(alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert bearer(key).get("/api/tokens/balance").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(alice, make_key, django_assert_num_queries):
    key = make_key(alice)
    assert ApiKey.objects.get().last_used_at is None
    bearer(key).get("/api/tokens/balance")
    first = ApiKey.objects.get().last_used_at
    assert first is not None
    # The next request within the minute reads the key and writes nothing.
    with django_assert_num_queries(1):
        services.key_authenticate(key)
    assert ApiKey.objects.get().last_used_at == first
    ApiKey.objects.update(last_used_at=first - timedelta(minutes=2))
    services.key_authenticate(key)
    assert ApiKey.objects.get().last_used_at > first - timedelta(minutes=1)


def test_the_settings_page_makes_a_key_shows_it_once_and_revokes_it(alice):
    client = session(alice)
    page = client.get("/settings/api")
    assert page.status_code == 200 and "No keys yet" in page.content.decode()
    made = client.post(
        "/settings/api", {"name": "bot", "scopes": ["read", "publish"], "expires_in": "30"}
    )
    assert made.status_code == 201
    assert "no-store" in made["Cache-Control"]
    key = ApiKey.objects.get()
    html = made.content.decode()
    plaintext = html.split('id="new-key-value">')[1].split("<")[0]
    assert services.key_hash(plaintext) == key.key_hash
    assert key.scopes == ["read", "publish"] and key.expires_at is not None
    again = client.get("/settings/api").content.decode()
    assert plaintext not in again and key.prefix in again
    assert client.post(f"/settings/api/{key.pk}/revoke").status_code == 302
    assert ApiKey.objects.get().revoked_at is not None


def test_the_settings_page_refuses_a_form_without_scopes(alice):
    answer = session(alice).post("/settings/api", {"name": "bot"})
    assert answer.status_code == 400
    assert not ApiKey.objects.exists()


def test_someone_elses_key_cannot_be_revoked_from_the_page(alice, bob, make_key):
    make_key(alice)
    key = ApiKey.objects.get()
    assert session(bob).post(f"/settings/api/{key.pk}/revoke").status_code == 404
    assert ApiKey.objects.get().revoked_at is None


def test_staff_list_and_revoke_keys_in_the_admin(alice, make_key, staff):
    make_key(alice)
    key = ApiKey.objects.get()
    admin = Client()
    admin.force_login(staff)
    listing = admin.get("/admin/apikeys/apikey/")
    assert listing.status_code == 200 and key.prefix in listing.content.decode()
    assert key.key_hash not in listing.content.decode()
    admin.post(
        "/admin/apikeys/apikey/",
        {"action": "revoke", "_selected_action": [str(key.pk)]},
    )
    assert ApiKey.objects.get().revoked_at is not None
