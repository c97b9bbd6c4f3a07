"""No body larger than the largest legitimate request is read: 413, nothing changes."""

from creations.models import Creation
from tokens.selectors import balance_of


def test_a_body_over_the_limit_is_refused_before_anything_reads_it(alice_client, alice, settings):
    settings.PHOENIX_MAX_REQUEST_BYTES = 1024 * 1024
    before = balance_of(alice)
    body = b'{"type": "image", "prompt": "' + b"a" * (1024 * 1024) + b'"}'

    response = alice_client.post("/api/generate/creation", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert "1 MB" in response.json()["message"]
    assert Creation.objects.count() == 0 and balance_of(alice) == before


def test_a_page_form_over_the_limit_gets_a_readable_413(client, settings):
    settings.PHOENIX_MAX_REQUEST_BYTES = 1000

    response = client.post("/accounts/login/", {"username": "x" * 2000, "password": "y"})

    assert response.status_code == 413
    assert b"larger than" in response.content


def test_a_body_at_the_limit_goes_through(alice_client, settings):
    settings.PHOENIX_MAX_REQUEST_BYTES = 11 * 1024 * 1024
    body = b'{"type": "image", "prompt": "a fox", "aspect_ratio": "1:1"}'

    response = alice_client.post("/api/generate/creation", body, content_type="application/json")

    assert response.status_code == 202
