"""Polls that find nothing new are answered before Django (phoenix/fast_polls.py): the same
204 as the view's, for the same requests, with the same headers; everything else reaches
Django as before."""

import re

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from creations import polling
from notifications import polling as bell_polling
from phoenix.fast_polls import FastPolls
from phoenix.wsgi import application
from tests.conftest import no_session
from tests.creations.test_poll_versions import HTMX, card_url, drafts_tab, poll_url, tampered

# What differs between two answers whatever made them.
ANY_ANSWER = {"Date", "Server"}


def call(url: str, *, client=None, method: str = "get", app=application, **extra):
    """The WSGI application's answer: (status line, headers, body, whether Django ran)."""
    environ = getattr(RequestFactory(), method)(url, headers=HTMX, **extra).environ
    if client is not None:
        environ["HTTP_COOKIE"] = "; ".join(
            f"{name}={morsel.value}" for name, morsel in client.cookies.items()
        )
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(headers)

    django_ran = []

    def ran(**kwargs):
        django_ran.append(True)

    # As Django's test client does: the test's connection holds its transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    request_started.connect(ran)
    try:
        body = b"".join(app(environ, start_response))
    finally:
        request_started.disconnect(ran)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], body, bool(django_ran)


@pytest.fixture
def pending(alice, make_creation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return make_creation(owner=alice, status="pending")


def test_the_patterns_are_the_urls_paths(pending):
    patterns = [pattern for pattern, _ in FastPolls(None).polls]
    for path in (
        reverse("creation_card", args=[pending.id]),
        reverse("drafts_poll"),
        reverse("notifications_bell"),
    ):
        assert sum(bool(pattern.fullmatch(path)) for pattern in patterns) == 1, path


def test_an_unchanged_card_is_answered_before_django(
    alice_client, pending, django_assert_num_queries
):
    url = card_url(alice_client, pending)

    with django_assert_num_queries(0), no_session():
        status, headers, body, django_ran = call(url)

    assert (status, body, django_ran) == ("204 No Content", b"", False)
    assert "no-store" in headers["Cache-Control"]


@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
def test_its_headers_are_those_django_gives_the_same_204(alice_client, pending, secure):
    url = card_url(alice_client, pending)
    extra = {"HTTP_X_FORWARDED_PROTO": "https"} if secure else {}
    with override_settings(
        SECURE_HSTS_SECONDS=3600 if secure else 0,
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    ):
        status, headers, _, django_ran = call(url, **extra)
        # A new client: its middleware reads the settings above.
        by_django = Client().get(url, headers=HTMX, **extra)

    assert not django_ran and status.startswith("204") and by_django.status_code == 204
    django_headers = {name: value for name, value in by_django.items()}
    assert {k: v for k, v in headers.items() if k not in ANY_ANSWER} == {
        k: v for k, v in django_headers.items() if k not in ANY_ANSWER
    }
    assert ("Strict-Transport-Security" in headers) is secure


def test_a_changed_card_is_rendered_by_django(alice_client, pending):
    url = tampered(card_url(alice_client, pending), "v", "0")

    status, _, body, django_ran = call(url, client=alice_client)

    assert status == "200 OK" and django_ran
    assert f'id="creation-{pending.id}"'.encode() in body


@pytest.mark.parametrize(
    "forge",
    [
        lambda url: tampered(url, "t", "1.abc"),
        lambda url: re.sub(r"&t=[^&]*", "", url),
    ],
    ids=["forged-signature", "no-token"],
)
def test_a_forged_or_missing_token_reaches_django_which_gives_strangers_nothing(
    alice_client, pending, forge
):
    url = forge(card_url(alice_client, pending))

    status, _, body, django_ran = call(url)

    assert django_ran and status.startswith("404")
    assert str(pending.id).encode() not in body


def test_a_plain_http_poll_is_redirected_by_django_as_before(alice_client, pending):
    url = card_url(alice_client, pending)

    with override_settings(SECURE_SSL_REDIRECT=True):
        # A new application: Django's middleware reads the setting when it is built.
        status, headers, _, django_ran = call(url, app=FastPolls(WSGIHandler()))

    assert django_ran and status.startswith("301")
    assert headers["Location"].startswith("https://")


def test_a_host_django_refuses_is_refused_by_django(alice_client, pending):
    url = card_url(alice_client, pending)

    status, _, _, django_ran = call(url, HTTP_HOST="evil.example")

    assert django_ran and status.startswith("400")


def test_only_get_is_answered_early(alice_client, pending):
    url = card_url(alice_client, pending)

    status, _, _, django_ran = call(url, method="post")

    # Django's CSRF check refuses it before the view would (405).
    assert django_ran and status.startswith("403")


def test_a_check_that_fails_hands_the_poll_to_django(alice_client, pending, monkeypatch):
    url = card_url(alice_client, pending)

    def broken(self):
        raise RuntimeError("a bug in a check")

    monkeypatch.setattr(polling.CardCheck, "unchanged", broken)
    status, _, _, django_ran = call(url, client=alice_client)

    # Django's view runs the same check: it fails there, as it would without the layer.
    assert django_ran and status.startswith("500")


def test_the_drafts_tab_and_the_bell_polls_too(
    alice_client, alice, pending, django_assert_num_queries
):
    drafts = poll_url(drafts_tab(alice_client, alice), "drafts-poll")
    bell = bell_polling.bell_poll(alice.pk).url

    with django_assert_num_queries(0), no_session():
        for url in (drafts, bell):
            status, _, _, django_ran = call(url)
            assert (status, django_ran) == ("204 No Content", False), url

    # A stale version is Django's to answer.
    status, _, _, django_ran = call(tampered(bell, "v", "0"), client=alice_client)
    assert django_ran and status == "200 OK"
