"""Every error a creator can meet is a page of the site: its navigation, what happened in
words and a way back (404, 403, 429, 500), with DEBUG off as in production; and a shared
draft that was published sends its viewers to the post."""

import pytest
from django.contrib.sessions.backends.cached_db import SessionStore
from django.test import Client
from django.urls import reverse

from creations import services as creation_services
from phoenix import errors
from profiles.services import creator_signup
from sharing import services as sharing_services


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def assert_site_page(response, status: int) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert '<nav class="nav" aria-label="Main">' in html
    assert 'class="button button--primary"' in html  # the way back
    return html


def test_a_missing_page_is_the_sites_404_with_navigation_and_a_way_home(db, settings):
    settings.DEBUG = False
    html = assert_site_page(Client().get("/no/such/page"), 404)
    assert "There is nothing here" in html
    assert '<a href="/" class="button button--primary">Go to the feed</a>' in html
    assert "Not Found</h1>" not in html  # not Django's bare page


def test_a_missing_post_for_a_signed_in_creator_offers_create_too(alice, settings):
    settings.DEBUG = False
    missing = reverse("post", args=["00000000-0000-4000-8000-000000000000"])
    html = assert_site_page(client_for(alice).get(missing), 404)
    assert f'href="{reverse("create")}"' in html
    assert "alice" in html  # the signed-in navigation, profile link and all


def test_the_api_still_answers_404_and_403_in_json(db):
    missing = Client().get("/api/no-such-endpoint")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


def test_a_form_refused_by_the_csrf_check_gets_the_sites_403_with_what_to_do(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    html = assert_site_page(client.post(reverse("create"), {"prompt": "x"}), 403)
    assert "reload the page" in html
    assert "CSRF verification failed" not in html


def test_permission_denied_is_the_sites_403(alice, rf, settings):
    request = rf.get("/somewhere")
    request.user = alice
    request.session = SessionStore()
    response = errors.permission_denied(request, Exception(""))
    html = response.content.decode()
    assert response.status_code == 403
    assert "You can’t open this page" in html
    assert '<nav class="nav" aria-label="Main">' in html


def test_a_server_error_is_the_sites_500_even_when_the_database_is_what_failed(
    alice, settings, monkeypatch
):
    settings.DEBUG = False
    settings.PHOENIX_SUPPORT_EMAIL = "help@phoenix.example"

    def broken(*args, **kwargs):
        raise RuntimeError("the feed broke")

    monkeypatch.setattr("community.views.selectors.feed_page", broken)
    client = client_for(alice)
    client.raise_request_exception = False
    response = client.get(reverse("feed"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert '<nav class="nav" aria-label="Main">' in html
    assert "help@phoenix.example" in html


def test_the_api_500_is_json(rf):
    response = errors.server_error(rf.get("/api/creations/x"))
    assert response.status_code == 500
    assert b'"error": "server_error"' in response.content


def test_too_many_sign_ups_get_the_429_page_saying_when_to_retry(db, settings):
    settings.PHOENIX_SIGNUPS_PER_NETWORK = 1
    settings.DEBUG = False
    form = {
        "username": "newcomer",
        "email": "newcomer@example.com",
        "password1": "a-long-password-123",
        "password2": "a-long-password-123",
    }
    assert Client().post(reverse("signup"), form).status_code == 302
    refused = Client().post(reverse("signup"), {**form, "username": "second"})
    html = assert_site_page(refused, 429)
    retry_after = int(refused["Retry-After"])
    assert 0 < retry_after <= settings.PHOENIX_SIGNUP_WINDOW
    assert errors.wait_in_words(retry_after) in html
    assert f'href="{reverse("signup")}"' in html


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "in 1 second"),
        (40, "in 40 seconds"),
        (60, "in 60 seconds"),
        (61, "in 2 minutes"),
        (3600, "in 60 minutes"),
        (7201, "in 3 hours"),
    ],
)
def test_the_wait_is_rounded_up_never_down(seconds, words):
    assert errors.wait_in_words(seconds) == words


@pytest.fixture
def published_after_sharing(alice, bob, make_creation, django_capture_on_commit_callbacks):
    draft = make_creation(owner=alice, status="draft", prompt="a lighthouse at dawn")
    with django_capture_on_commit_callbacks(execute=True):
        sharing_services.share_with_person(creation=draft, owner=alice, username="bob")
        link = sharing_services.share_link_create(creation=draft)
    return draft, link


def test_someone_a_published_draft_was_shared_with_is_sent_to_the_post(
    published_after_sharing, alice, bob, django_capture_on_commit_callbacks
):
    draft, _ = published_after_sharing
    shared_url = reverse("shared_draft", args=[draft.id])
    assert client_for(bob).get(shared_url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        creation_services.creation_publish(creation=draft, caption="Dawn")

    html = assert_site_page(client_for(bob).get(shared_url), 404)
    assert "This draft has been published" in html
    assert f'href="{reverse("post", args=[draft.id])}"' in html


def test_a_link_to_a_draft_since_published_leads_to_the_post(
    published_after_sharing, carol_user, django_capture_on_commit_callbacks
):
    draft, link = published_after_sharing
    with django_capture_on_commit_callbacks(execute=True):
        creation_services.creation_publish(creation=draft, caption="Dawn")
    response = client_for(carol_user).get(reverse("share_link", args=[link.token]))
    html = assert_site_page(response, 404)
    assert f'href="{reverse("post", args=[draft.id])}"' in html


def test_a_stranger_or_a_post_no_longer_public_gets_the_plain_404(
    published_after_sharing, alice, bob, carol_user, django_capture_on_commit_callbacks
):
    draft, _ = published_after_sharing
    with django_capture_on_commit_callbacks(execute=True):
        creation_services.creation_publish(creation=draft, caption="Dawn")
    shared_url = reverse("shared_draft", args=[draft.id])
    # Never shared with carol: nothing tells her the draft existed.
    assert "has been published" not in client_for(carol_user).get(shared_url).content.decode()
    draft.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        creation_services.creation_unpublish(creation=draft)
    html = client_for(bob).get(shared_url).content.decode()
    assert "There is nothing here" in html
    assert "has been published" not in html


def test_the_publish_form_tells_the_owner_that_sharing_and_comments_end(alice, make_creation):
    draft = make_creation(owner=alice, status="draft")
    html = client_for(alice).get(reverse("profile", args=["alice"]) + "?tab=drafts").content
    assert b"publishing ends the sharing and closes its comments" in html
    assert str(draft.id).encode() in html


@pytest.fixture
def carol_user(db):
    return creator_signup(username="carol", password="carol-password-123")
