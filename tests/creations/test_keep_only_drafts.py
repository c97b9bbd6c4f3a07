"""Keep this one trashes only what the grid shows (drafts-tab items, checked under each
sibling's lock), decides under the kept item's lock, and its Undo brings back exactly what
it trashed as it was."""

import re
from datetime import timedelta

from django.utils import timezone

from creations import services
from creations.models import Creation
from tests.creations.test_views_batches import HTMX, batch_of


def undo_ids_in(body: str) -> list[str]:
    return re.findall(r'type="hidden" name="ids" value="([0-9a-f-]+)"', body)


def test_keep_leaves_a_published_sibling_and_undo_gives_back_the_scheduled_one_as_it_was(
    alice_client, alice, django_capture_on_commit_callbacks
):
    items = batch_of(alice, 3, status="draft")
    services.creation_publish(creation=items[1], caption="out")
    tomorrow = timezone.now() + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.creation_publish(creation=items[2], caption="later", publish_at=tomorrow)
    publish_at = Creation.objects.get(pk=items[2].pk).publish_at

    response = alice_client.post(f"/creations/{items[0].id}/keep", headers=HTMX)

    assert response.status_code == 200
    published = Creation.objects.get(pk=items[1].pk)
    assert published.status == "published" and not published.is_trashed
    ids = undo_ids_in(response.content.decode())
    assert ids == [str(items[2].id)]
    assert Creation.objects.get(pk=items[2].pk).is_trashed

    undo = alice_client.post(f"/creations/{items[0].id}/keep/undo", {"ids": ids}, headers=HTMX)

    assert undo.status_code == 200
    scheduled = Creation.objects.get(pk=items[2].pk)
    assert (scheduled.status, scheduled.publish_at) == ("scheduled", publish_at)
    assert not scheduled.is_trashed
    published = Creation.objects.get(pk=items[1].pk)
    assert published.status == "published" and published.published_at is not None


def test_two_keeps_from_stale_copies_never_trash_the_whole_batch(alice):
    items = batch_of(alice, 3, status="draft")
    first = Creation.objects.get(pk=items[0].pk)
    second = Creation.objects.get(pk=items[1].pk)  # read before the first Keep

    services.creation_keep(creation=first)
    try:
        services.creation_keep(creation=second)
    except services.ActionRefused as refusal:
        assert refusal.code == "not_keepable"

    assert Creation.objects.filter(batch_id=items[0].batch_id, trashed_at__isnull=True).count() >= 1
    assert not Creation.objects.get(pk=items[0].pk).is_trashed
