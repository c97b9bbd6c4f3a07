"""Cancel on a queued or generating card: canceled and refunded at once, the card and every
balance on the page updated; refused (and nothing changed) once it has finished."""

import pytest

from creations.models import Creation
from tokens.models import TokenAccount

from .lifecycle import in_state

HTMX = {"HX-Request": "true"}


def balance(user) -> int:
    return TokenAccount.objects.get(user=user).balance


def test_canceling_a_processing_video_refunds_it_and_updates_the_card_and_balances(
    alice_client, alice, make_creation
):
    video = make_creation(owner=alice, status="processing", kind="video", progress=40)
    assert balance(alice) == 90

    response = alice_client.post(
        f"/creations/{video.id}/cancel", headers={**HTMX, "HX-Target": f"creation-{video.id}"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="creation-{video.id}"' in html
    assert 'data-status="canceled"' in html
    assert "Canceled · refunded" in html
    assert "+10 refunded" in html
    assert "hx-trigger" not in html  # a canceled card does not poll
    assert "data-autofocus" in html  # focus stays on the card, whose Cancel link is gone
    assert '<div hx-swap-oob="innerHTML:#announcer">Canceled. 10 tokens refunded.</div>' in html
    assert '<span hx-swap-oob="innerHTML:[data-balance]">100 tokens</span>' in html
    video.refresh_from_db()
    assert video.status == "canceled"
    assert video.ledger_entries.filter(kind="refund").count() == 1
    assert balance(alice) == 100


def test_canceling_without_javascript_asks_first_then_redirects_with_the_refund(
    alice_client, alice, make_creation
):
    pending = make_creation(owner=alice, status="pending")

    question = alice_client.get(f"/creations/{pending.id}/cancel")
    assert question.status_code == 200
    assert "Cancel this image?" in question.content.decode()
    assert "your 1 token comes back." in question.content.decode()
    assert Creation.objects.get(pk=pending.pk).status == "pending"

    response = alice_client.post(f"/creations/{pending.id}/cancel", follow=True)

    assert response.redirect_chain == [("/soho/alice?tab=drafts", 302)]
    assert "Canceled. 1 token refunded." in response.content.decode()
    assert Creation.objects.get(pk=pending.pk).status == "canceled"
    assert balance(alice) == 100


@pytest.mark.parametrize("state", ["draft", "failed", "published", "canceled", "scheduled"])
def test_a_finished_creation_cannot_be_canceled_and_nothing_changes(
    alice_client, alice, make_creation, state
):
    creation = in_state(make_creation, owner=alice, state=state)
    before = balance(alice)
    message = "Only a queued or generating creation can be canceled."

    question = alice_client.get(f"/creations/{creation.id}/cancel").content.decode()
    with_htmx = alice_client.post(f"/creations/{creation.id}/cancel", headers=HTMX)
    without = alice_client.post(f"/creations/{creation.id}/cancel", follow=True)

    assert message in question
    assert "<button" not in question.split('class="narrow panel"')[1].split("</main>")[0]
    assert with_htmx.status_code == 409
    assert message in with_htmx.content.decode()
    assert f'id="creation-{creation.id}"' in with_htmx.content.decode()
    assert message in without.content.decode()
    assert Creation.objects.get(pk=creation.pk).status == state
    assert balance(alice) == before


def test_a_second_cancel_is_refused_and_refunds_nothing_more(alice_client, alice, make_creation):
    video = make_creation(owner=alice, status="pending", kind="video")

    first = alice_client.post(f"/creations/{video.id}/cancel", headers=HTMX)
    second = alice_client.post(f"/creations/{video.id}/cancel", headers=HTMX)

    assert (first.status_code, second.status_code) == (200, 409)
    assert video.ledger_entries.filter(kind="refund").count() == 1
    assert balance(alice) == 100


def test_a_polled_card_canceled_in_another_tab_says_so_and_updates_the_balance(
    alice_client, alice, make_creation
):
    pending = make_creation(owner=alice, status="pending")
    alice_client.post(f"/creations/{pending.id}/cancel")

    html = alice_client.get(
        f"/creations/{pending.id}/card", {"shown": "pending"}, headers=HTMX
    ).content.decode()

    assert "Your image was canceled. Your tokens were refunded." in html
    assert '<span hx-swap-oob="innerHTML:[data-balance]">100 tokens</span>' in html
