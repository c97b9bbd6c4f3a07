"""Who gets a creation's files: a draft's and a trashed post's reach their owner only, a
purged creation's nobody, a deactivated creator's staff only (local storage here; the S3
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


def clients_for(owner, other, staff_member) -> dict[str, Client]:
    clients = {"anonymous": Client()}
    for name, user in (("owner", owner), ("other", other), ("staff", staff_member)):
        clients[name] = Client()
        clients[name].force_login(user)
    return clients


def answers(clients: dict[str, Client], creation) -> dict[str, tuple[int, int]]:
    """Each client's status codes for the creation's media and poster."""
    return {
        name: tuple(
            client.get(f"/media/creations/{creation.id}/{which}").status_code
            for which in ("media", "poster")
        )
        for name, client in clients.items()
    }


def test_a_trashed_posts_files_reach_only_their_owner_and_staff(alice, bob, staff, make_creation):
    post = make_creation(owner=alice, status="published", kind="video")
    clients = clients_for(alice, bob, staff)
    assert set(answers(clients, post).values()) == {(200, 200)}

    services.creation_trash(creation=post)

    assert answers(clients, post) == {
        "anonymous": (404, 404),
        "owner": (200, 200),
        "other": (404, 404),
        "staff": (200, 200),
    }


def test_a_purged_creations_files_reach_nobody_not_even_its_owner(
    alice, bob, staff, make_creation, django_capture_on_commit_callbacks
):
    draft = make_creation(owner=alice, status="draft", kind="video")
    stored = [
        Path(settings.MEDIA_ROOT, draft.media.name),
        Path(settings.MEDIA_ROOT, draft.poster.name),
    ]
    assert all(path.exists() for path in stored)
    services.creation_trash(creation=draft)
    clients = clients_for(alice, bob, staff)
    assert answers(clients, draft)["owner"] == (200, 200)

    with django_capture_on_commit_callbacks(execute=True):
        services.creation_purge(creation=draft)

    assert set(answers(clients, draft).values()) == {(404, 404)}
    assert not any(path.exists() for path in stored)


def test_a_deactivated_creators_files_reach_staff_only(alice, bob, staff, make_creation, figure):
    post = make_creation(owner=alice, status="published", kind="video")
    draft = make_creation(owner=alice, status="draft", kind="video")
    clients = clients_for(alice, bob, staff)
    del clients["owner"]  # a deactivated user's session no longer signs them in
    assert str(post.id) in Client().get("/").content.decode()

    alice.is_active = False
    alice.save(update_fields=["is_active"])

    for creation in (post, draft):
        assert answers(clients, creation) == {
            "anonymous": (404, 404),
            "other": (404, 404),
            "staff": (200, 200),
        }
    owner = Client()
    owner.force_login(alice)
    assert answers({"owner": owner}, post) == {"owner": (404, 404)}
    for client in (Client(), clients["other"]):
        assert str(post.id) not in client.get("/").content.decode()
    figure("deactivated creator's post: media 0/2 for anonymous and others, 2/2 for staff")
