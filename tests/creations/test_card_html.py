"""The Drafts and Trash tabs' finished cards (creations.cards): rendered once per state of
the card, never stale, and each with the CSRF token of the browser that asked."""

import re

import pytest
from django.test import Client

from creations import cards, services
from creations.models import Creation

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# Each showing of a card has its own form keys (a double press makes one creation).
SHOWING_KEY = re.compile(r'name="idempotency_key" value="[^"]*"')


def card_of(html: str, creation: Creation) -> str:
    found = re.search(rf'<article id="creation-{creation.pk}".*?</article>', html, re.S)
    assert found, f"no card for {creation.pk}"
    return found.group(0)


def drafts_tab(client: Client) -> str:
    response = client.get("/soho/alice?tab=drafts")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def renders(monkeypatch) -> list[int]:
    """The cards rendered by the template (not taken from creations.cards' cache)."""
    counted: list[int] = []
    real = cards._render

    def counting(*args, **kwargs):
        counted.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cards, "_render", counting)
    return counted


def test_a_card_shown_again_unchanged_is_not_rendered_again(
    alice_client, alice, make_creation, renders
):
    draft = make_creation(owner=alice, status="draft", prompt="a quiet harbour")
    first = card_of(drafts_tab(alice_client), draft)
    assert renders == [1]

    again = card_of(drafts_tab(alice_client), draft)

    assert renders == [1]
    assert SHOWING_KEY.findall(again) != SHOWING_KEY.findall(first)
    assert SHOWING_KEY.sub("", CSRF_INPUT.sub("", again)) == SHOWING_KEY.sub(
        "", CSRF_INPUT.sub("", first)
    )
    assert "a quiet harbour" in again and "Publish" in again


def test_a_card_whose_creation_changed_shows_the_change(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft", caption="")
    assert "Unschedule" not in card_of(drafts_tab(alice_client), draft)

    services.creation_publish(
        creation=Creation.objects.get(pk=draft.pk),
        caption="at dawn",
        publish_at=draft.created_at.replace(year=draft.created_at.year + 1),
    )

    card = card_of(drafts_tab(alice_client), draft)
    assert "Unschedule" in card and "at dawn" in card


def test_each_browser_gets_a_card_whose_forms_its_own_csrf_token_passes(
    alice, make_creation, renders
):
    draft = make_creation(owner=alice, status="draft")
    browsers = [Client(enforce_csrf_checks=True) for _ in range(2)]
    for browser in browsers:
        browser.force_login(alice)
    tokens = [CSRF_INPUT.findall(card_of(drafts_tab(b), draft)) for b in browsers]
    assert renders == [1]  # the second browser's card came from the cache

    # The card's Delete form, sent by each browser with the token its page gave it.
    for browser, forms in zip(browsers, tokens, strict=True):
        assert forms
        response = browser.post(f"/creations/{draft.pk}/delete", {"csrfmiddlewaretoken": forms[-1]})
        assert response.status_code != 403
        services.creation_restore(creation=Creation.objects.get(pk=draft.pk))


def test_cards_that_poll_are_rendered_each_time(alice_client, alice, make_creation, renders):
    pending = make_creation(owner=alice, status="pending")

    html = drafts_tab(alice_client)
    drafts_tab(alice_client)

    assert renders == []  # rendered by the page's template, with its request, every time
    assert "hx-trigger" in card_of(html, pending)


def test_a_pages_media_urls_are_each_cards_own(alice, make_creation):
    from creations.presenters import media_url, media_urls

    creations = [
        make_creation(owner=alice, status="draft"),
        make_creation(owner=alice, status="draft", kind="video"),
        make_creation(owner=alice, status="pending"),
    ]

    for which in ("media", "poster"):
        assert media_urls(creations, which) == [media_url(c, which) for c in creations]
    assert media_urls(creations, "poster")[1].endswith(f"/{creations[1].pk}/poster")
    assert media_urls(creations, "media")[2] == ""
