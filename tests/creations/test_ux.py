"""What a first-time creator trips over: a blocked prompt's way forward, Try again pressed
twice, running out of tokens, the welcome, an empty prompt, Download and Reuse prompt,
media in its own shape."""

import html as html_lib
import re

import pytest

from creations.models import Creation
from tests.conftest import staff_adjust
from tokens.selectors import balance_of

HTMX = {"HX-Request": "true"}


def card(client, creation) -> str:
    return client.get(f"/creations/{creation.id}/card", headers=HTMX).content.decode()


def retry_fields(html: str) -> dict[str, str]:
    form = html[html.index('hx-post="/api/generate/creation"') :]
    form = form[: form.index("</form>")]
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    return {
        name: html_lib.unescape(value) for name, value in found if name != "csrfmiddlewaretoken"
    }


def set_balance(user, balance: int) -> None:
    staff_adjust(user=user, amount=balance - balance_of(user), reason="For the test")


# --- A blocked prompt --------------------------------------------------------------------


@pytest.mark.parametrize("code", ["safety_filter", "policy_violation"])
def test_a_refused_prompt_offers_edit_prompt_and_not_a_try_again_that_would_be_refused(
    alice_client, alice, make_creation, code
):
    refused = make_creation(owner=alice, status="failed", kind="video", prompt="gore", code=code)

    html = card(alice_client, refused)

    assert "Try again" not in html
    assert 'hx-post="/api/generate/creation"' not in html
    edit = re.search(r'<a class="button button--primary" href="([^"]+)">Edit prompt</a>', html)
    assert (
        html_lib.unescape(edit.group(1)) == "/create?type=video&prompt=gore&orientation=landscape"
    )
    assert "the same words would be refused again" in html


def test_another_failure_offers_try_again_first_then_edit_prompt(
    alice_client, alice, make_creation
):
    failed = make_creation(owner=alice, status="failed", code="provider_unavailable")

    html = card(alice_client, failed)

    assert html.index("Try again · 1 token") < html.index(">Edit prompt</a>")


def test_edit_prompt_fills_in_the_create_form(alice_client):
    html = alice_client.get(
        "/create", {"type": "video", "prompt": "gore", "orientation": "portrait"}
    ).content.decode()

    assert ">gore</textarea>" in html
    assert 'value="video" data-cost="10" checked' in html
    assert 'name="orientation" value="portrait" checked' in html


# --- Try again, twice --------------------------------------------------------------------


def test_try_again_on_a_card_already_retried_starts_another_creation(
    alice_client, alice, make_creation
):
    failed = make_creation(owner=alice, status="failed", kind="video", code="worker_lost")

    first_showing = retry_fields(card(alice_client, failed))
    first = alice_client.post("/api/generate/creation", first_showing, headers=HTMX)
    # The answer sends the browser to the drafts, where the card is shown again.
    second_showing = retry_fields(card(alice_client, failed))
    second = alice_client.post("/api/generate/creation", second_showing, headers=HTMX)

    assert first.status_code == second.status_code == 202
    # Each lands on the drafts tab at its own new card.
    for answer in (first, second):
        made = answer.json()["creation_id"]
        assert answer["HX-Redirect"] == f"/soho/alice?tab=drafts&made={made}#creation-{made}"
    assert first.json()["creation_id"] != second.json()["creation_id"]
    assert Creation.objects.exclude(pk=failed.pk).filter(status="pending").count() == 2
    assert balance_of(alice) == 100 - 20


def test_pressing_try_again_twice_on_one_showing_still_makes_one_creation(
    alice_client, alice, make_creation
):
    failed = make_creation(owner=alice, status="failed", code="timed_out")
    fields = retry_fields(card(alice_client, failed))

    first = alice_client.post("/api/generate/creation", fields, headers=HTMX)
    again = alice_client.post("/api/generate/creation", fields, headers=HTMX)

    assert first.json()["creation_id"] == again.json()["creation_id"]
    assert balance_of(alice) == 99


# --- Out of tokens -----------------------------------------------------------------------


def test_out_of_tokens_disables_generate_with_one_message_and_where_to_turn(
    alice_client, alice, settings
):
    settings.PHOENIX_SUPPORT_EMAIL = "help@phoenix.example"
    set_balance(alice, 0)

    html = alice_client.get("/create").content.decode()

    assert html.count("out of tokens") == 1
    assert "Not enough tokens" not in html
    assert re.search(r'<button type="submit"[^>]*create-form__submit"\s+disabled', html)
    assert '<a href="/tokens">token history</a>' in html
    assert '<a class="button button--primary" href="/tokens/buy">Buy tokens</a>' in html


def test_a_refused_submit_without_javascript_says_it_once(alice_client, alice):
    set_balance(alice, 0)

    response = alice_client.post("/create", {"type": "image", "prompt": "a fox"})

    html = response.content.decode()
    assert response.status_code == 402
    assert html.count("out of tokens") == 1
    assert re.search(r'id="create-error" class="form-error" role="alert"\s+hidden', html)


def test_with_tokens_for_images_only_video_is_disabled_with_its_reason(alice_client, alice):
    set_balance(alice, 4)

    html = alice_client.get("/create", {"type": "video", "prompt": "waves"}).content.decode()

    assert re.search(r'value="video" data-cost="10"\s+disabled aria-describedby="cost-video"', html)
    assert '<span class="segmented__cost" id="cost-video">10 tokens: you have 4</span>' in html
    # Image stays available, and is chosen instead of the video the link asked for.
    assert 'value="image" data-cost="1" checked>' in html
    assert "out of tokens" not in html
    assert not re.search(r'create-form__submit"\s+disabled', html)


def test_the_server_refuses_what_the_page_disables(alice_client, alice):
    set_balance(alice, 4)

    response = alice_client.post(
        "/api/generate/creation", {"type": "video", "prompt": "waves"}, headers=HTMX
    )

    assert response.status_code == 402
    assert response.json()["error"] == "insufficient_tokens"
    assert not Creation.objects.exists()


# --- The welcome -------------------------------------------------------------------------


def test_the_first_visit_to_create_explains_tokens_and_what_things_cost(
    alice_client, alice, settings
):
    settings.PHOENIX_COSTS = {"image": 2, "video": 15}

    html = alice_client.get("/create").content.decode()

    assert "Welcome to Phoenix" in html
    assert "Tokens pay for what you generate" in html
    assert "an <strong>image costs 2 tokens</strong> and a <strong>video 15 tokens</strong>" in html
    assert "You have <strong>100 tokens</strong>" in html


def test_the_welcome_goes_once_something_was_made(alice_client, alice, make_creation):
    make_creation(owner=alice, status="failed")

    html = alice_client.get("/create").content.decode()

    assert "Welcome to Phoenix" not in html


def test_the_empty_drafts_tab_explains_tokens(alice_client, alice):
    set_balance(alice, 37)

    html = alice_client.get("/soho/alice?tab=drafts").content.decode()
    tabs = alice_client.get("/soho/alice?tab=drafts", headers=HTMX).content.decode()

    for shown in (html, tabs):
        assert "No drafts yet." in shown
        assert (
            "an <strong>image costs 1 token</strong> and a <strong>video 10 tokens</strong>"
            in shown
        )
        assert "You have <strong>37 tokens</strong>" in shown


# --- Small things ------------------------------------------------------------------------


def test_the_prompt_is_required_in_the_browser_with_readable_words(alice_client):
    html = alice_client.get("/create").content.decode()

    textarea = re.search(r"<textarea id=\"prompt\"[^>]*>", html).group(0)
    assert " required" in textarea
    assert 'data-empty-message="Write a prompt first: describe what you want to see."' in textarea
    assert 'class="muted keyboard-only">Ctrl+Enter generates.' in html


@pytest.mark.parametrize("prompt", ["", "   \n "])
def test_an_empty_prompt_is_still_refused_by_the_server(alice_client, alice, prompt):
    page = alice_client.post("/create", {"type": "image", "prompt": prompt})
    api = alice_client.post("/api/generate/creation", {"type": "image", "prompt": prompt})

    assert page.status_code == api.status_code == 400
    assert not Creation.objects.exists()
    assert balance_of(alice) == 100


def test_a_draft_has_a_download_button_with_a_sensible_file_name(
    alice_client, alice, make_creation
):
    draft = make_creation(owner=alice, status="draft", kind="video", prompt="Waves, at dusk!")

    html = card(alice_client, draft)

    name = f"phoenix-waves-at-dusk-{draft.id.hex[:8]}.mp4"
    assert f'<a class="button" href="/media/creations/{draft.id}/media" download="{name}"' in html
    assert alice_client.get(f"/media/creations/{draft.id}/media").status_code == 200


def test_cards_without_media_have_no_download(alice_client, alice, make_creation):
    for status in ("pending", "failed"):
        html = card(alice_client, make_creation(owner=alice, status=status))
        assert "download=" not in html


@pytest.mark.parametrize("status", ["pending", "processing", "draft", "scheduled"])
def test_every_card_offers_reuse_prompt_with_type_and_settings(
    alice_client, alice, make_creation, status
):
    creation = make_creation(owner=alice, status=status, prompt="a red fox & a hare")

    html = card(alice_client, creation)

    link = re.search(r'<a class="button button--quiet" href="([^"]+)" id="reuse-', html)
    assert html_lib.unescape(link.group(1)) == (
        "/create?type=image&prompt=a%20red%20fox%20%26%20a%20hare&aspect_ratio=1%3A1"
    )


def test_media_carries_its_own_shape(alice_client, alice, make_creation):
    video = make_creation(owner=alice, status="published", kind="video")
    Creation.objects.filter(pk=video.pk).update(width=360, height=640)
    draft = make_creation(owner=alice, status="draft", kind="video")
    Creation.objects.filter(pk=draft.pk).update(width=720, height=1280)

    post = alice_client.get(f"/p/{video.id}").content.decode()
    drafted = card(alice_client, draft)

    assert '<div class="post__media" style="--ratio: 360 / 640">' in post
    assert '<div class="video-frame" style="--ratio: 720 / 1280">' in drafted


def test_relative_times_are_marked_for_phoenix_js_to_refresh(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")

    html = card(alice_client, draft)

    assert re.search(r'<time class="card__time" datetime="[^"]+" data-relative', html)
