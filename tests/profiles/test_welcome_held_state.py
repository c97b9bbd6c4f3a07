"""A confirmed account whose welcome grant the day's cap holds back (PendingWelcome) is
not out of tokens: the create page and the drafts tab's composer say the tokens are on
their way, how they come and what can be done meanwhile (buy tokens), never "out of
tokens"; once the catch-up grants them, the pages are the usual ones. Only a grant that is
owed is held: an address welcomed before is told so at once."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from profiles import services, welcome
from profiles.models import PendingWelcome, WelcomeDay
from tokens.selectors import balance_of
from tokens.services import account_grant, ledger_discrepancies

PASSWORD = "a-long-password-123"
HELD = "Your 100 free tokens are on their way"


@pytest.fixture
def capped_day(settings):
    """Today's welcome grants are all given: one a day, and that one went."""
    settings.PHOENIX_WELCOME_GRANTS_PER_DAY = 1
    WelcomeDay.objects.create(day=welcome.today(), granted=1)


def registered(name: str):
    return services.creator_register(username=name, email=f"{name}@example.com", password=PASSWORD)


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_held_welcome_shows_its_own_state_on_the_create_page(db, capped_day):
    late = registered("late")
    assert services.email_confirm(user=late).held
    response = client_of(late).get(reverse("create"))
    page = text_of(response)

    assert HELD in page
    assert "We give free tokens to 1 new creator a day" in page
    assert "A notification tells you when they do." in page
    assert f'href="{reverse("token_buy")}">Buy tokens</a>' in page
    assert "out of tokens" not in page.lower()
    assert 'id="out-of-tokens"' not in page
    # Generate is disabled and says why, in the same words as the panel.
    assert re.search(
        r'<button type="submit" class="button button--primary button--large create-form__submit"'
        r' disabled aria-describedby="welcome-held-title">\s*<span class="when-idle">'
        r"Waiting for your free tokens</span>",
        response.content.decode(),
    )
    assert 'data-short-label="Waiting for your free tokens"' in page
    # Nothing to confirm any more: the unlock state is gone.
    assert "Confirm your address to unlock" not in page


def test_a_held_welcome_shows_in_the_drafts_composer_not_out_of_tokens(db, capped_day):
    late = registered("late")
    services.email_confirm(user=late)
    page = text_of(client_of(late).get(reverse("profile", args=["late"]) + "?tab=drafts"))

    assert 'id="composer"' in page
    assert "Your 100 free tokens are on their way." in page
    assert 'data-short-label="Waiting for your free tokens"' in page
    assert 'aria-describedby="composer-welcome-held"' in page
    assert f'<a href="{reverse("token_buy")}">buy tokens</a>' in page
    assert "out of tokens" not in page.lower()


def test_once_the_catch_up_grants_it_the_pages_are_the_usual_ones(db, capped_day):
    late = registered("late")
    services.email_confirm(user=late)
    WelcomeDay.objects.update(day="2000-01-01")  # a new day: room again

    assert services.held_welcomes_grant() == 1

    client = client_of(late)
    create = text_of(client.get(reverse("create")))
    drafts = text_of(client.get(reverse("profile", args=["late"]) + "?tab=drafts"))
    assert HELD not in create and "on their way" not in drafts
    assert "Waiting for your free tokens" not in create + drafts
    assert "Generate" in create
    assert balance_of(late) == 100
    assert ledger_discrepancies() == []


def test_a_held_welcome_with_tokens_bought_meanwhile_is_the_usual_page(db, capped_day):
    late = registered("late")
    services.email_confirm(user=late)
    account_grant(user=late, amount=20, reason="bought meanwhile")

    page = text_of(client_of(late).get(reverse("create")))

    assert HELD not in page
    assert "Waiting for your free tokens" not in page
    assert PendingWelcome.objects.filter(user=late).exists()  # still on its way


def test_an_address_welcomed_before_is_not_held_on_a_capped_day(db, settings):
    settings.PHOENIX_WELCOME_GRANTS_PER_DAY = 1
    first = registered("first")
    assert services.email_confirm(user=first).grant is not None  # the day's one grant
    # The same mailbox, another spelling, another account: nothing is owed to it.
    again = services.creator_register(
        username="again", email="First+again@example.com", password=PASSWORD
    )

    confirmed = services.email_confirm(user=again)

    assert (confirmed.grant, confirmed.held) == (None, False)
    assert not PendingWelcome.objects.exists()
    page = text_of(client_of(again).get(reverse("create")))
    assert HELD not in page
    assert "You're out of tokens." in page


def test_confirming_again_on_a_capped_day_holds_nothing(db, settings):
    settings.PHOENIX_WELCOME_GRANTS_PER_DAY = 1
    maker = registered("maker")
    services.email_confirm(user=maker)

    assert services.email_confirm(user=maker).held is False
    assert not PendingWelcome.objects.exists()
    assert welcome.granted_today() == 1
