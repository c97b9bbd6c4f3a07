"""The drafts tab with batches: one grid per batch, "Keep this one" with Undo, the seed and
lineage on the card, Animate; and no query per batch item."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from creations import services
from creations.models import Creation
from creations.validation import CreationRequest
from tokens.services import account_grant

HTMX = {"HX-Request": "true"}


def batch_of(owner, count: int = 4, *, status: str = "pending") -> list[Creation]:
    request = CreationRequest("image", "a red fox", "1:1", count=count, seed=40)
    items = services.creations_submit(user=owner, request=request).creations
    if status == "draft":
        from django.core.files.base import ContentFile
        from django.core.files.storage import default_storage

        for index, item in enumerate(items):
            claimed = services.creation_claim(creation_id=item.id)
            name = default_storage.save(f"creations/t-{item.id.hex}.png", ContentFile(b"png"))
            services.creation_complete(creation=claimed, media=name, width=8, height=8)
            items[index] = claimed
    return items


def drafts_tab(client, **headers) -> str:
    response = client.get("/soho/alice?tab=drafts", headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def test_a_batch_is_one_grid_on_the_drafts_tab_with_each_item_its_own_card(
    alice_client, alice, make_creation
):
    single = make_creation(owner=alice, status="draft")
    items = batch_of(alice, 4, status="draft")

    page = drafts_tab(alice_client)

    (section,) = re.findall(r'<section class="batch" id="batch-([0-9a-f-]+)"', page)
    assert section == str(items[0].batch_id)
    grid = page.split(f'id="batch-{section}"')[1].split("</section>")[0]
    assert [f"creation-{c.id}" for c in items] == re.findall(r'id="(creation-[0-9a-f-]+)"', grid)
    assert f'id="creation-{single.id}"' in page and f'id="creation-{single.id}"' not in grid
    assert "4 variations of" in grid
    assert grid.count('id="keep-') == 4
    assert 'data-copy="40"' in grid and "<code>43</code>" in grid


def test_pending_items_each_poll_their_own_card(alice_client, alice):
    items = batch_of(alice, 3)
    page = drafts_tab(alice_client)
    for item in items:
        assert re.search(rf'id="creation-{item.id}"[^>]*hx-get="[^"]*{item.id}', page, re.S)


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_the_drafts_tab_costs_the_same_queries_with_1_and_8_batches(
    alice_client, alice, headers, make_creation
):
    account_grant(user=alice, amount=1000, reason="enough for eight batches")
    source = make_creation(owner=alice, status="draft")
    batch_of(alice, 4, status="draft")
    services.creations_submit(
        user=alice,
        request=CreationRequest("image", "again", "1:1"),
        parent=source,
    )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            drafts_tab(alice_client, **headers)
        return len(captured)

    queries()  # the typical runs, read once in 30 s
    few = queries()
    for _ in range(7):
        batch_of(alice, 4, status="draft")
        batch_of(alice, 2)
    assert queries() == few


def test_keep_this_one_trashes_the_siblings_and_undo_brings_them_back(alice_client, alice):
    items = batch_of(alice, 4, status="draft")
    kept = items[1]

    response = alice_client.post(f"/creations/{kept.id}/keep", headers=HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Kept this one: 3 other variations moved to the trash." in body
    trashed = [c for c in Creation.objects.order_by("batch_index") if c.is_trashed]
    assert [c.id for c in trashed] == [items[0].id, items[2].id, items[3].id]
    assert not Creation.objects.get(pk=kept.pk).is_trashed
    # The grid comes back with the kept one only; the toast offers Undo.
    assert f'id="batch-{kept.batch_id}" hx-swap-oob="true"' in body
    assert f'id="creation-{kept.id}"' in body and f'id="creation-{items[0].id}"' not in body
    undo_ids = re.findall(r'type="hidden" name="ids" value="([0-9a-f-]+)"', body)
    assert sorted(undo_ids) == sorted(str(c.id) for c in trashed)

    undo = alice_client.post(f"/creations/{kept.id}/keep/undo", {"ids": undo_ids}, headers=HTMX)

    assert undo.status_code == 200
    assert "3 variations back in your drafts." in undo.content.decode()
    assert not Creation.objects.filter(trashed_at__isnull=False).exists()
    assert all(f'id="creation-{c.id}"' in undo.content.decode() for c in items)


def test_keep_leaves_an_item_still_generating_and_another_batch_alone(alice_client, alice):
    items = batch_of(alice, 3, status="draft")
    services.creation_claim(creation_id=items[2].id)  # not finished: cannot be trashed
    Creation.objects.filter(pk=items[2].pk).update(status="processing", media="")
    other = batch_of(alice, 2, status="draft")

    alice_client.post(f"/creations/{items[0].id}/keep", headers=HTMX)

    states = {c.id: c.is_trashed for c in Creation.objects.all()}
    assert states[items[1].id] and not states[items[2].id]
    assert not any(states[c.id] for c in other)


def test_undo_ignores_ids_of_another_batch_or_creator(alice_client, alice, bob, make_creation):
    items = batch_of(alice, 2, status="draft")
    elsewhere = make_creation(owner=alice, status="draft")
    services.creation_trash(creation=elsewhere)
    bobs = make_creation(owner=bob, status="draft")
    services.creation_trash(creation=bobs)

    alice_client.post(
        f"/creations/{items[0].id}/keep/undo", {"ids": [str(elsewhere.id), str(bobs.id)]}
    )

    assert Creation.objects.get(pk=elsewhere.pk).is_trashed
    assert Creation.objects.get(pk=bobs.pk).is_trashed


def test_a_single_creation_cannot_be_kept(alice_client, alice, make_creation):
    single = make_creation(owner=alice, status="draft")
    response = alice_client.post(f"/creations/{single.id}/keep")
    assert response.status_code in (302, 409)
    assert not Creation.objects.filter(trashed_at__isnull=False).exists()


def test_someone_elses_batch_item_cannot_be_kept(client, alice, bob):
    items = batch_of(alice, 2, status="draft")
    client.force_login(bob)
    assert client.post(f"/creations/{items[0].id}/keep").status_code == 404
    assert not Creation.objects.filter(trashed_at__isnull=False).exists()


def test_the_card_says_where_a_rerun_came_from_even_once_its_parent_is_purged(
    alice_client, alice, make_creation
):
    source = make_creation(owner=alice, status="draft", prompt="an owl at night")
    child = services.creations_submit(
        user=alice, request=CreationRequest("image", "an owl at night", "1:1"), parent=source
    ).first
    assert "From “an owl at night”" in drafts_tab(alice_client)

    services.creation_trash(creation=source)
    services.creation_purge(creation=source)

    page = drafts_tab(alice_client)
    assert "From a deleted creation" in page
    assert f'id="creation-{child.id}"' in page


def test_an_image_draft_offers_animate_and_a_video_does_not(alice_client, alice, make_creation):
    image = make_creation(owner=alice, status="draft", kind="image")
    video = make_creation(owner=alice, status="draft", kind="video")
    page = drafts_tab(alice_client)
    assert f'id="animate-{image.id}"' in page
    assert f'id="animate-{video.id}"' not in page
    assert f'name="image_creation_id" value="{image.id}"' in page


def test_the_create_form_offers_variations_and_shows_their_total_cost(alice_client):
    page = alice_client.get("/create?count=3").content.decode()
    assert '<select id="count" name="count"' in page
    assert '<option value="3" selected>' in page
    assert "3 tokens" in page
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file" id="image" name="image"' in page


def test_the_form_posts_a_batch_without_javascript(
    alice_client, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            "/create",
            {
                "type": "image",
                "prompt": "fox",
                "aspect_ratio": "1:1",
                "count": "2",
                "idempotency_key": "form-1",
            },
        )
    assert response.status_code == 302
    assert Creation.objects.count() == 2
    assert json.loads(json.dumps([c.seed for c in Creation.objects.order_by("batch_index")]))


def test_run_again_without_javascript_goes_back_to_the_drafts(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks
):
    source = make_creation(owner=alice, status="draft")
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(f"/creations/{source.id}/rerun", {"mode": "same_seed"})
    assert response.status_code == 302
    assert response["Location"] == "/soho/alice?tab=drafts"
    child = Creation.objects.get(parent=source)
    assert child.seed == source.seed


def test_run_again_refused_without_javascript_says_why_and_makes_nothing(
    alice_client, alice, make_creation
):
    source = make_creation(owner=alice, status="processing")
    response = alice_client.post(f"/creations/{source.id}/rerun", {"mode": "vary"}, follow=True)
    assert "cannot be run again" in response.content.decode()
    assert Creation.objects.count() == 1
