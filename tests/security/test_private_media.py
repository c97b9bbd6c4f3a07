"""Drafts are private: their files reach their owner only (local storage here; the S3
presigned-URL side, with expiry and tampering, is in tests/storage/test_s3_storage.py)."""

from pathlib import Path

from django.conf import settings
from django.test import Client

from creations import services


def test_a_drafts_files_reach_only_their_owner_until_it_is_published(
    alice, bob, make_creation, figure
):
    draft = make_creation(owner=alice, status="draft", kind="video")
    urls = [f"/media/creations/{draft.id}/media", f"/media/creations/{draft.id}/poster"]
    owner = Client()
    owner.force_login(alice)
    other = Client()
    other.force_login(bob)

    for url in urls:
        assert owner.get(url).status_code == 200
        assert other.get(url).status_code == 404
        assert Client().get(url).status_code == 404
    # MEDIA_ROOT is not served as it is: the stored name alone leads nowhere.
    assert Path(settings.MEDIA_ROOT, draft.media.name).exists()
    for client in (owner, other, Client()):
        assert client.get(f"/media/{draft.media.name}").status_code == 404

    services.creation_publish(creation=draft, caption="now public")
    for url in urls:
        assert other.get(url).status_code == 200
        assert Client().get(url).status_code == 200
    figure("draft media: owner 2/2, another creator 0/2, anonymous 0/2; public once published")
