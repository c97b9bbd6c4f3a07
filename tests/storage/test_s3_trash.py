"""The trash on S3 (R2 in production), against a local S3 server: objects stay while a
creation is in the trash and come back with it; Delete forever and the daily purge delete
them, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from creations import services
from creations.jobs import housekeeping
from creations.models import Creation
from creations.validation import CreationRequest
from tests.conftest import run_worker_burst

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("s3")]


def generated(owner, kind: str = "video") -> Creation:
    """A draft made by the real job, its media (and poster) uploaded to the bucket."""
    if kind == "video":
        request = CreationRequest("video", "waves at night", "", "landscape")
    else:
        request = CreationRequest("image", "a lighthouse", "1:1")
    creation, _ = services.creation_submit(user=owner, request=request)
    run_worker_burst()
    creation.refresh_from_db()
    assert creation.status == "draft", creation.error_code
    return creation


def keys_of(creation: Creation) -> set[str]:
    return {name for name in (creation.media.name, creation.poster.name) if name}


def test_trash_and_restore_keep_the_objects_and_delete_forever_removes_them(
    alice, use_s3, local_s3, bucket
):
    draft = generated(alice)
    keys = keys_of(draft)
    assert len(keys) == 2 and local_s3.keys(bucket) == keys

    services.creation_trash(creation=draft)
    assert local_s3.keys(bucket) == keys
    services.creation_restore(creation=draft)
    assert local_s3.keys(bucket) == keys
    services.creation_trash(creation=draft)

    services.creation_purge(creation=draft)

    assert local_s3.keys(bucket) == set()
    draft.refresh_from_db()
    assert (draft.status, draft.prompt, draft.media.name, draft.poster.name) == (
        "draft",
        "",
        "",
        "",
    )
    assert draft.purged_at is not None
    assert draft.ledger_entries.filter(kind="debit").count() == 1


def test_the_daily_purge_deletes_old_trash_from_the_bucket_once(
    alice, use_s3, local_s3, bucket, settings
):
    settings.PHOENIX_TRASH_DAYS = 7
    old = generated(alice, kind="image")
    kept = generated(alice, kind="image")
    services.creation_trash(creation=old, now=timezone.now() - timedelta(days=8))
    services.creation_trash(creation=kept, now=timezone.now() - timedelta(days=1))

    assert housekeeping.trash_purge() == 1
    after_first = {c.pk: Creation.objects.filter(pk=c.pk).values().get() for c in (old, kept)}
    assert housekeeping.trash_purge() == 0

    assert local_s3.keys(bucket) == keys_of(kept)
    assert {c.pk: Creation.objects.filter(pk=c.pk).values().get() for c in (old, kept)} == (
        after_first
    )
    assert after_first[old.pk]["purged_at"] is not None
    assert after_first[kept.pk]["purged_at"] is None
