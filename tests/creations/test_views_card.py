"""The draft card: every state, polling, announcements, escaping and its query count."""

import html as html_lib
import re
from datetime import timedelta

import pytest

from creations.models import Creation
from creations.services import creation_fail
from tokens.models import TokenAccount

HTMX = {"HX-Request": "true"}


def card(client, creation, **params):
    return client.get(f"/creations/{creation.id}/card", params, headers=HTMX)


def test_a_pending_card_says_queued_with_its_place_in_line_and_polls(
    alice_client, alice, make_creation
):
    creation = make_creation(owner=alice, status="pending", queued=True)

    response = card(alice_client, creation)

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="creation-{creation.id}"' in html
    assert "card--pending" in html
    assert "Queued" in html
    assert "skeleton" in html
    assert "Next in line" in html
    assert f'hx-get="/creations/{creation.id}/card?shown=pending"' in html
    assert 'hx-trigger="every 2s" data-poll' in html
    assert 'hx-swap="outerHTML"' in html
    assert 'aria-busy="true"' in html
    # It can be canceled (the browser asks first, and says what comes back), not deleted.
    assert f'hx-post="/creations/{creation.id}/cancel"' in html
    assert 'data-dialog-title="Stop generating this image?"' in html
    assert 'data-dialog-body="Your 1 token comes back."' in html
    assert 'data-dialog-go="Stop generating" data-dialog-keep="Keep it"' in html
    assert "/delete" not in html


def test_place_in_line_counts_the_jobs_the_fair_order_starts_before_it(
    alice_client, alice, bob, make_creation
):
    make_creation(owner=bob, status="pending", queued=True)  # someone else's image, earlier
    make_creation(owner=alice, status="pending", kind="video", queued=True)  # same workers
    make_creation(owner=alice, status="processing")  # no longer waiting
    mine = make_creation(owner=alice, status="pending", queued=True)  # Alice's second round

    html = card(alice_client, mine).content.decode()

    assert "#3 in line" in html


def test_a_pending_card_whose_job_is_not_queued_gives_no_place(alice_client, alice, make_creation):
    # Its job was lost (a Redis failover): the recovery pass sends it again; until then the
    # card does not pretend to know its place.
    creation = make_creation(owner=alice, status="pending")

    html = card(alice_client, creation).content.decode()

    assert "Queued" in html
    assert "in line" not in html


def test_a_pending_card_gives_a_rough_eta_from_recent_runs(
    alice_client, alice, make_creation, registered_worker
):
    registered_worker("images", "videos")
    # Enough finished runs to know their spread (selectors.SURE_AFTER_RUNS).
    for kind, seconds in [("image", 40), ("video", 100)] * 5:
        finished = make_creation(owner=alice, status="draft", kind=kind)
        Creation.objects.filter(pk=finished.pk).update(
            processing_at=finished.draft_at - timedelta(seconds=seconds)
        )
    make_creation(owner=alice, status="pending", queued=True)
    second = make_creation(owner=alice, status="pending", queued=True)

    html = card(alice_client, second).content.decode()

    # One image of 40 s ahead, then its own 40 s: 80 s, said rounded up.
    assert "#2 in line · ready within 2 minutes" in html


def test_a_pending_card_without_recent_runs_gives_no_precise_eta(
    alice_client, alice, make_creation, registered_worker
):
    registered_worker("images", "videos")
    creation = make_creation(owner=alice, status="pending", queued=True)

    html = card(alice_client, creation).content.decode()

    assert "Next in line · ready in a few minutes" in html


def test_a_processing_video_card_has_an_orange_badge_and_its_progress(
    alice_client, alice, make_creation
):
    creation = make_creation(owner=alice, status="processing", kind="video", progress=45)

    html = card(alice_client, creation).content.decode()

    assert "card--processing" in html
    assert "badge--processing" in html
    assert "Processing · 45%" in html
    assert 'aria-valuenow="45"' in html
    assert "width: 45%" in html
    assert "skeleton" in html
    assert "🎬" in html
    assert "shown=processing" in html
    assert "hx-trigger" in html


def test_a_processing_image_card_shows_no_percentage(alice_client, alice, make_creation):
    creation = make_creation(owner=alice, status="processing", progress=45)

    html = card(alice_client, creation).content.decode()

    assert "Processing" in html
    assert "45%" not in html
    assert "progressbar" not in html


def test_a_draft_image_card_previews_the_image_and_stops_polling(
    alice_client, alice, make_creation
):
    creation = make_creation(owner=alice, status="draft")

    html = card(alice_client, creation, shown="processing").content.decode()

    media = f"/media/creations/{creation.id}/media"
    assert "card--draft" in html
    assert f'<a class="card__image-link" href="{media}" target="_blank" rel="noopener"' in html
    assert f'<img src="{media}"' in html
    assert "🖼️" in html
    assert "hx-trigger" not in html
    assert "hx-get" not in html
    assert "aria-busy" not in html
    assert f'action="/creations/{creation.id}/publish"' in html
    assert 'maxlength="2200"' in html
    # Delete moves it to the trash, which Undo reverses: the browser does not ask first.
    assert f'hx-post="/creations/{creation.id}/delete"' in html
    assert "hx-confirm=" not in html
    assert 'type="datetime-local"' in html and 'name="publish_at_offset"' in html
    assert "/cancel" not in html
    assert "−1 token" in html
    assert "refunded" not in html


def test_a_draft_video_card_plays_with_its_poster_and_duration(alice_client, alice, make_creation):
    creation = make_creation(owner=alice, status="draft", kind="video")

    html = card(alice_client, creation).content.decode()

    assert "<video preload" in html and "<video controls" not in html  # one tab stop: Play
    assert 'data-play aria-label="Play the video:' in html
    assert f'poster="/media/creations/{creation.id}/poster"' in html
    assert f'src="/media/creations/{creation.id}/media"' in html
    assert '<span class="duration-badge" title="Duration">8s</span>' in html
    assert "🎬" in html
    assert "−10 tokens" in html
    assert "hx-trigger" not in html


def test_a_failed_card_is_red_with_its_message_refund_and_ways_forward(
    alice_client, alice, make_creation
):
    creation = make_creation(
        owner=alice, status="failed", kind="video", prompt="gore & more", code="timed_out"
    )

    html = card(alice_client, creation).content.decode()

    assert "card--failed" in html
    assert "badge--failed" in html
    assert "Generation took too long and was stopped. Your tokens were refunded." in html
    assert "−10 tokens" in html
    assert "+10 refunded" in html
    assert "hx-trigger" not in html
    # Try again: a new creation with the same settings, through the API.
    assert 'hx-post="/api/generate/creation"' in html
    assert '<input type="hidden" name="type" value="video">' in html
    assert '<input type="hidden" name="prompt" value="gore &amp; more">' in html
    assert '<input type="hidden" name="orientation" value="landscape">' in html
    assert f'name="idempotency_key" value="retry-{creation.id.hex}-' in html
    assert "Try again · 10 tokens" in html
    # Edit prompt: back to the create page with the fields filled in.
    assert "/create?type=video&amp;prompt=gore%20%26%20more&amp;orientation=landscape" in html
    assert f'hx-post="/creations/{creation.id}/delete"' in html


def test_the_card_tells_screen_readers_when_the_status_changed(alice_client, alice, make_creation):
    creation = make_creation(owner=alice, status="draft")

    changed = card(alice_client, creation, shown="processing").content.decode()
    unchanged = card(alice_client, creation).content.decode()

    assert '<div hx-swap-oob="innerHTML:#announcer">Your image is ready.</div>' in changed
    assert "announcer" not in unchanged


def test_a_card_that_failed_while_shown_updates_every_balance_on_the_page(
    alice_client, alice, make_creation
):
    creation = make_creation(owner=alice, status="failed")

    html = card(alice_client, creation, shown="processing").content.decode()

    assert "Your image failed. The safety filter blocked this prompt." in html
    assert '<span hx-swap-oob="innerHTML:[data-balance]">100 tokens</span>' in html


def test_prompts_are_escaped_and_long_ones_truncated_with_the_full_text_at_hand(
    alice_client, alice, make_creation
):
    prompt = "<script>alert(1)</script> " + "a fox in the snow " * 20
    creation = make_creation(owner=alice, status="pending", prompt=prompt.strip())

    html = card(alice_client, creation).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "…" in html
    assert "<summary>Full prompt</summary>" in html
    assert 'title="&lt;script&gt;alert(1)&lt;/script&gt; a fox in the snow' in html


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("pending", "image"),
        ("processing", "video"),
        ("draft", "image"),
        ("draft", "video"),
        ("failed", "image"),
    ],
)
def test_the_card_partial_costs_a_small_constant_number_of_queries(
    alice_client, alice, make_creation, django_assert_max_num_queries, status, kind
):
    # Others in the queue must not add queries.
    for _ in range(5):
        make_creation(owner=alice, status="pending", kind=kind)
    creation = make_creation(owner=alice, status=status, kind=kind)

    # session, user, the card (one query with its annotations), the ETA aggregate (once a
    # process in 30 s), and the nav balance when a card has just failed.
    with django_assert_max_num_queries(5):
        response = card(alice_client, creation, shown="pending")

    assert response.status_code == 200


def test_a_polled_card_that_finished_meanwhile_comes_back_without_polling(
    alice_client, alice, make_creation
):
    creation = make_creation(owner=alice, status="pending")
    first = card(alice_client, creation, shown="pending").content.decode()
    creation_fail(creation=creation, code="timed_out")

    second = card(alice_client, creation, shown="pending").content.decode()

    assert "hx-trigger" in first
    assert "hx-trigger" not in second
    assert "Generation took too long and was stopped." in second
    assert "+1 refunded" in second


def hidden_fields(html: str, form_start: str) -> dict[str, str]:
    form = html[html.index(form_start) :]
    form = form[: form.index("</form>")]
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    return {name: html_lib.unescape(value) for name, value in found}


@pytest.mark.parametrize("url", ["/api/generate/creation", "/create"], ids=["htmx", "no-js"])
def test_try_again_makes_one_new_creation_with_the_same_settings(
    alice_client, alice, make_creation, url
):
    failed = make_creation(
        owner=alice, status="failed", kind="video", prompt="gore & more", code="worker_lost"
    )
    html = card(alice_client, failed).content.decode()
    fields = hidden_fields(html, 'hx-post="/api/generate/creation"')
    fields.pop("csrfmiddlewaretoken")
    headers = HTMX if url.startswith("/api") else {}

    first = alice_client.post(url, fields, headers=headers)
    second = alice_client.post(url, fields, headers=headers)

    assert first.status_code == second.status_code == (202 if headers else 302)
    retry = Creation.objects.exclude(pk=failed.pk).get()
    assert (retry.kind, retry.prompt, retry.orientation) == ("video", "gore & more", "landscape")
    assert retry.status == "pending"
    assert TokenAccount.objects.get(user=alice).balance == 90
