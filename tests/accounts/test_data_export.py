"""Download my data: a job builds a zip of the creator's own records and files (and nobody
else's), stored privately, told by e-mail, downloadable by its owner only, removed after
PHOENIX_EXPORT_DAYS."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts import services
from accounts.models import DataExport
from creations.models import Creation
from notifications.models import Notification
from profiles.models import ConfirmedEmail
from sharing import services as sharing
from tests.conftest import files_in, run_worker_burst

pytestmark = pytest.mark.django_db(transaction=True)  # the job runs after COMMIT


@pytest.fixture
def two_creators(alice, bob, make_creation, private_media):
    alice.email = "alice@example.com"
    alice.save(update_fields=["email"])
    ConfirmedEmail.objects.create(user=alice, address=alice.email)
    alices = [
        make_creation(owner=alice, status="draft", prompt="alice's fox"),
        make_creation(owner=alice, status="published", kind="video", prompt="alice's river"),
    ]
    bobs = make_creation(owner=bob, status="draft", prompt="bob's secret castle")
    sharing.share_with_person(creation=bobs, owner=bob, username="alice")
    sharing.comment_post(creation=bobs, author=alice, text="alice's comment")
    sharing.comment_post(creation=bobs, author=bob, text="bob's own comment")
    make_creation(owner=bob, status="published", prompt="bob's public lake")
    return alices, bobs


def download(client: Client, export: DataExport) -> zipfile.ZipFile:
    response = client.get(f"/settings/data/export/{export.pk}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_zip_holds_the_creators_data_and_nobody_elses(alice_client, two_creators):
    alices, bobs = two_creators
    assert alice_client.post("/settings/data/export").status_code == 302
    export = DataExport.objects.get()
    assert export.status == "pending"
    run_worker_burst()
    export.refresh_from_db()
    assert export.status == "ready"
    assert export.expires_at - export.ready_at == timedelta(days=7)

    archive = download(alice_client, export)
    data = json.loads(archive.read("data.json"))
    assert data["profile"]["username"] == "alice"
    assert data["profile"]["email"] == "alice@example.com"
    assert {c["prompt"] for c in data["creations"]} == {"alice's fox", "alice's river"}
    assert [p["creation_id"] for p in data["posts"]] == [str(alices[1].pk)]
    assert [c["text"] for c in data["comments"]] == ["alice's comment"]
    assert {e["kind"] for e in data["ledger"]} == {"grant", "debit"}
    assert (
        sum(e["amount"] for e in data["ledger"])
        == alice_client.get("/tokens").context["token_balance"]
    )
    # Her files, as the JSON names them; nothing of Bob's anywhere in the zip.
    media = {c["media"] for c in data["creations"]} | {
        c["poster"] for c in data["creations"] if c["poster"]
    }
    assert set(archive.namelist()) == {"data.json", *media}
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"bob's" not in everything
    assert not any(str(bobs.pk) in name for name in archive.namelist())

    # The owner is told by the bell, which leads to the download, and by e-mail.
    [notification] = Notification.objects.filter(recipient=export.user, kind="export_ready")
    page = alice_client.get("/notifications").content.decode()
    assert "Your data is ready to download" in page
    opened = alice_client.get(f"/notifications/{notification.pk}/open")
    assert opened["Location"] == "/settings/data"
    [email] = [m for m in mail.outbox if "ready" in m.subject]
    assert email.to == ["alice@example.com"]
    assert "/settings/data" in email.body


def test_another_creator_cannot_download_it(alice_client, bob, two_creators):
    alice_client.post("/settings/data/export")
    run_worker_burst()
    export = DataExport.objects.get()
    other = Client()
    other.force_login(bob)
    assert other.get(f"/settings/data/export/{export.pk}").status_code == 404
    assert Client().get(f"/settings/data/export/{export.pk}").status_code == 302


def test_one_export_at_a_time(alice_client, two_creators):
    alice_client.post("/settings/data/export")
    response = alice_client.post("/settings/data/export", follow=True)
    assert "being prepared already" in response.content.decode()
    assert DataExport.objects.count() == 1


def test_the_daily_job_removes_expired_exports_and_their_files(
    alice_client, two_creators, private_media
):
    alice_client.post("/settings/data/export")
    run_worker_burst()
    export = DataExport.objects.get()
    stored = private_media / export.file.name
    assert stored in files_in(private_media)
    assert services.exports_expire(now=export.expires_at - timedelta(seconds=1)) == 0
    assert services.exports_expire(now=export.expires_at) == 1
    assert stored not in files_in(private_media)
    assert not DataExport.objects.exists()


def test_an_expired_export_is_not_served(alice_client, two_creators):
    alice_client.post("/settings/data/export")
    run_worker_burst()
    export = DataExport.objects.get()
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now())
    assert alice_client.get(f"/settings/data/export/{export.pk}").status_code == 404


def test_an_export_whose_job_was_lost_is_sent_again(alice_client, two_creators, clean_redis):
    alice_client.post("/settings/data/export")
    clean_redis.flushdb()
    export = DataExport.objects.get()
    assert services.exports_resend_stuck(now=export.created_at + timedelta(minutes=59)) == 0
    assert services.exports_resend_stuck(now=export.created_at + timedelta(hours=1)) == 1
    run_worker_burst()
    export.refresh_from_db()
    assert export.status == "ready"


def test_the_zip_holds_the_still_a_video_started_from(
    alice_client, alice, make_creation, private_media
):
    image = make_creation(owner=alice, status="draft", kind="image")
    body = {"type": "video", "prompt": "move", "orientation": "landscape"}
    body["image_creation_id"] = str(image.pk)
    answer = alice_client.post("/api/generate/creation", json.dumps(body), "application/json")
    assert answer.status_code == 202
    video = Creation.objects.get(pk=answer.json()["creation_id"])
    alice_client.post("/settings/data/export")
    run_worker_burst()  # the video's generation and the export

    archive = download(alice_client, DataExport.objects.get())
    data = json.loads(archive.read("data.json"))
    [record] = [c for c in data["creations"] if c["id"] == str(video.pk)]
    assert record["source_image"] == f"media/{video.pk}-source_image.png"
    assert record["parent_id"] == str(image.pk)
    with private_media.joinpath(video.source_image.name).open("rb") as stored:
        assert archive.read(record["source_image"]) == stored.read()
