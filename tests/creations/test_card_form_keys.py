"""The card's Run again, New seed, Vary, Edit & run and Animate forms each carry a key of
their own per showing: a double press without JavaScript makes one creation, one debit."""

import re

import pytest

from creations.models import Creation
from tokens.models import LedgerEntry
from tokens.services import account_grant


def form_fields(page: str, button_id: str) -> tuple[str, dict]:
    """The action and hidden inputs of the form holding the button with `button_id`."""
    for form in re.findall(r"<form\b.*?</form>", page, re.S):
        if f'id="{button_id}"' in form or button_id in form:
            action = re.search(r'action="([^"]+)"', form).group(1)
            fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))
            fields.pop("csrfmiddlewaretoken", None)
            return action, fields
    raise AssertionError(f"no form with {button_id}")


@pytest.mark.parametrize(
    "button", ["same_seed-{id}", "new_seed-{id}", "vary-{id}", "animate-{id}", "Edit &amp; run"]
)
def test_a_double_press_of_a_card_form_makes_one_creation_and_one_debit(
    alice_client, alice, make_creation, button, django_capture_on_commit_callbacks
):
    account_grant(user=alice, amount=20, reason="enough for two")
    source = make_creation(owner=alice, status="draft", kind="image")
    page = alice_client.get("/soho/alice?tab=drafts").content.decode()
    action, fields = form_fields(page, button.format(id=source.id))
    assert fields.get("idempotency_key"), "the form carries no idempotency key"
    if "Edit" in button:
        fields["prompt"] = "an edited prompt"
    debits_before = LedgerEntry.objects.filter(kind="debit").count()

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = alice_client.post(action, fields)
        assert response.status_code == 302

    assert Creation.objects.exclude(pk=source.pk).count() == 1
    assert LedgerEntry.objects.filter(kind="debit").count() == debits_before + 1


def test_each_form_and_each_showing_has_its_own_key(alice_client, alice, make_creation):
    source = make_creation(owner=alice, status="draft", kind="image")
    keys = []
    for _ in range(2):
        page = alice_client.get("/soho/alice?tab=drafts").content.decode()
        for button in ("same_seed", "new_seed", "vary", "animate"):
            keys.append(form_fields(page, f"{button}-{source.id}")[1]["idempotency_key"])
    assert len(set(keys)) == len(keys)
    assert all(len(key) <= 64 for key in keys)
