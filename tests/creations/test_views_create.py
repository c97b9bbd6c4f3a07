"""The create page: the form, its prefill, the no-JavaScript path, and idempotent submits."""

import re

import pytest

from creations.models import Creation
from tokens.models import TokenAccount

HTMX = {"HX-Request": "true"}


def idempotency_key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)


def test_creating_needs_an_account_and_login_comes_back(client):
    response = client.get("/create")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/create"


def test_the_form_offers_both_types_with_their_costs_and_the_balance(alice_client):
    response = alice_client.get("/create")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'hx-post="/api/generate/creation"' in html
    assert 'hx-disabled-elt="find button[type=submit]"' in html
    assert 'value="image" data-cost="1" checked' in html
    assert 'value="video" data-cost="10"' in html
    assert "1 token" in html and "10 tokens" in html
    assert 'maxlength="1000"' in html
    assert "0 / 1000" in html
    for ratio in ["1:1", "16:9", "9:16", "4:3", "3:4"]:
        assert f'name="aspect_ratio" value="{ratio}"' in html
    for orientation in ["landscape", "portrait"]:
        assert f'name="orientation" value="{orientation}"' in html
    assert "<dd>100 tokens</dd>" in html
    assert "<dd data-after>99</dd>" in html
    assert "no-store" in response["Cache-Control"]


def test_every_render_carries_a_fresh_idempotency_key(alice_client):
    first = idempotency_key(alice_client.get("/create").content.decode())
    second = idempotency_key(alice_client.get("/create").content.decode())

    assert first != second
    assert len(first) == 32


def test_edit_prompt_fills_the_form_from_the_query_string(alice_client):
    response = alice_client.get(
        "/create", {"type": "video", "prompt": '"><b>waves</b>', "orientation": "portrait"}
    )

    html = response.content.decode()
    assert 'value="video" data-cost="10" checked' in html
    assert 'name="orientation" value="portrait" checked' in html
    assert "&quot;&gt;&lt;b&gt;waves&lt;/b&gt;</textarea>" in html
    assert "<b>waves</b>" not in html


def test_unknown_prefill_values_fall_back_to_the_defaults(alice_client):
    html = alice_client.get("/create", {"type": "gif", "aspect_ratio": "2:1"}).content.decode()

    assert 'value="image" data-cost="1" checked' in html
    assert 'name="aspect_ratio" value="1:1" checked' in html


def test_a_repeated_htmx_submit_with_the_same_key_makes_one_creation(alice_client, alice):
    form = {"type": "image", "prompt": "a fox", "aspect_ratio": "16:9", "idempotency_key": "k-1"}

    first = alice_client.post("/api/generate/creation", form, headers=HTMX)
    second = alice_client.post("/api/generate/creation", form, headers=HTMX)

    assert first.status_code == second.status_code == 202
    assert first["HX-Redirect"] == second["HX-Redirect"]
    assert first["HX-Redirect"].startswith("/soho/alice?tab=drafts&made=")
    assert first.json()["creation_id"] == second.json()["creation_id"]
    assert Creation.objects.count() == 1
    assert TokenAccount.objects.get(user=alice).balance == 99


def test_without_javascript_the_form_creates_and_lands_on_the_drafts(alice_client, alice):
    # Without JavaScript both option groups are sent; only the chosen type's one counts.
    response = alice_client.post(
        "/create",
        {
            "type": "video",
            "prompt": "waves at night",
            "aspect_ratio": "1:1",
            "orientation": "portrait",
            "idempotency_key": "nojs-1",
        },
        follow=True,
    )

    assert response.redirect_chain == [("/soho/alice?tab=drafts", 302)]
    creation = Creation.objects.get()
    assert (creation.kind, creation.orientation, creation.aspect_ratio) == (
        "video",
        "portrait",
        "",
    )
    assert f'id="creation-{creation.id}"' in response.content.decode()
    assert TokenAccount.objects.get(user=alice).balance == 90


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"type": "image", "prompt": "   "}, 400, "Write a prompt first."),
        ({"type": "image", "prompt": "x" * 1001}, 400, "The prompt is 1001 characters"),
    ],
)
def test_without_javascript_errors_show_inline_and_keep_the_prompt(
    alice_client, form, status, message
):
    response = alice_client.post("/create", form)

    html = response.content.decode()
    assert response.status_code == status
    assert message in html
    assert f"{form['prompt'][:1000]}</textarea>" in html
    assert Creation.objects.count() == 0


def test_without_enough_tokens_the_page_says_how_many_are_needed(alice_client, alice):
    for _ in range(10):
        alice_client.post("/create", {"type": "video", "prompt": "spend it"})

    response = alice_client.post("/create", {"type": "video", "prompt": "one more"})

    assert response.status_code == 402
    # Said once, by the out-of-tokens message (the refusal's own words would repeat it).
    assert "You're out of tokens." in response.content.decode()
    assert "This needs 10 tokens" not in response.content.decode()
    assert "one more</textarea>" in response.content.decode()
    assert Creation.objects.count() == 10


def test_without_javascript_the_in_flight_limit_shows_inline(
    alice_client, alice, make_creation, settings
):
    settings.PHOENIX_MAX_IN_FLIGHT = 1
    make_creation(owner=alice, status="pending")

    response = alice_client.post("/create", {"type": "image", "prompt": "a second fox"})

    html = response.content.decode()
    assert response.status_code == 429
    assert "You have 1 creations queued or generating." in html
    assert "a second fox</textarea>" in html
    assert Creation.objects.count() == 1
