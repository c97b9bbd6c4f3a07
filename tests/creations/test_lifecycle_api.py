"""The lifecycle JSON API: cancel, publish (now or at a time), unschedule, unpublish, caption,
trash, restore, purge and bulk — each answer checked against the database and the ledger."""

import datetime as dt
import json
import uuid
from datetime import UTC, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from rq.registry import ScheduledJobRegistry

from creations import events, queues, services, versions
from creations.models import Creation
from tokens.models import LedgerEntry, TokenAccount

ACTIONS = ["cancel", "publish", "unschedule", "unpublish", "caption", "trash", "restore", "purge"]


def post(client: Client, url: str, body=None, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body or {})
    return client.post(url, data=data, content_type="application/json", **extra)


def act(client: Client, creation_id, action: str, body=None, **extra):
    return post(client, f"/api/creations/{creation_id}/{action}", body, **extra)


def scheduled_job_ids() -> list[str]:
    return ScheduledJobRegistry(queue=queues.get_queue("default")).get_job_ids()


def everything() -> tuple:
    """Every creation row field for field, the ledger, the balances and the scheduled jobs."""
    return (
        list(Creation.objects.order_by("pk").values()),
        list(LedgerEntry.objects.order_by("pk").values_list("pk", "kind", "amount")),
        list(TokenAccount.objects.order_by("pk").values_list("pk", "balance")),
        scheduled_job_ids(),
    )


def refunds(creation) -> int:
    return creation.ledger_entries.filter(kind="refund").count()


def balance(user) -> int:
    user.token_account.refresh_from_db()
    return user.token_account.balance


def in_an_hour() -> str:
    return (timezone.now() + timedelta(hours=1)).astimezone(UTC).isoformat()


def trashed(creation):
    return services.creation_trash(creation=creation)


def scheduled(creation):
    return services.creation_publish(
        creation=creation, caption="later", publish_at=timezone.now() + timedelta(hours=1)
    )


# Cancel


@pytest.mark.parametrize("status", ["pending", "processing"])
def test_cancel_refunds_exactly_once(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks, status
):
    video = make_creation(owner=alice, status=status, kind="video")
    assert balance(alice) == 90

    # After COMMIT a processing job is sent RQ's stop command (not running here, no harm),
    # a pending one leaves the queue.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = act(alice_client, video.id, "cancel")
    stops = [c for c in callbacks if getattr(c, "func", c) not in (events._send, versions.bump)]
    assert len(stops) == 1
    told = [c.args[:1] for c in callbacks if getattr(c, "func", None) is events._send]
    assert told == [("canceled",), ("refunded",)]

    assert response.status_code == 200
    assert response.json() == {
        "creation_id": str(video.id),
        "status": "canceled",
        "refunded": 10,
        "balance": 100,
    }
    video.refresh_from_db()
    assert video.status == "canceled"
    assert video.canceled_at is not None
    assert balance(alice) == 100
    assert refunds(video) == 1

    before = everything()
    again = act(alice_client, video.id, "cancel")
    assert again.status_code == 409
    assert again.json() == {
        "error": "not_cancelable",
        "message": "Only a queued or generating creation can be canceled.",
    }
    assert everything() == before
    assert refunds(video) == 1


def test_a_finished_creation_is_not_canceled_and_keeps_its_tokens(
    alice_client, alice, make_creation
):
    draft = make_creation(owner=alice, status="draft", kind="video")
    before = everything()

    response = act(alice_client, draft.id, "cancel")

    assert response.status_code == 409
    assert response.json()["error"] == "not_cancelable"
    assert everything() == before
    assert balance(alice) == 90


# Trash, restore, purge


def test_trash_keeps_the_status_and_restore_gives_it_back(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")

    trashed_answer = act(alice_client, draft.id, "trash")

    assert trashed_answer.status_code == 200
    body = trashed_answer.json()
    assert (body["status"], body["actions"]) == ("draft", ["restore", "purge"])
    draft.refresh_from_db()
    assert body["trashed_at"] == draft.trashed_at.isoformat()
    assert draft.status == "draft"

    restored = act(alice_client, draft.id, "restore")

    assert restored.status_code == 200
    assert restored.json()["trashed_at"] is None
    assert restored.json()["status"] == "draft"
    assert "publish" in restored.json()["actions"]
    draft.refresh_from_db()
    assert draft.trashed_at is None
    assert draft.redrafted_at is not None


def test_a_trashed_post_leaves_the_feed_and_comes_back_as_a_draft(
    alice_client, alice, make_creation
):
    post_ = make_creation(owner=alice, status="published", caption="sunrise")
    assert act(alice_client, post_.id, "trash").status_code == 200
    assert not Creation.objects.public().filter(pk=post_.pk).exists()

    body = act(alice_client, post_.id, "restore").json()

    assert (body["status"], body["published_at"], body["trashed_at"]) == ("draft", None, None)
    post_.refresh_from_db()
    assert (post_.status, post_.published_at, post_.trashed_at) == ("draft", None, None)
    assert not Creation.objects.public().filter(pk=post_.pk).exists()


@pytest.mark.parametrize(
    ("status", "action", "code"),
    [
        ("pending", "trash", "not_trashable"),
        ("processing", "trash", "not_trashable"),
        ("draft", "restore", "not_in_trash"),
        ("published", "purge", "not_in_trash"),
    ],
)
def test_a_refused_trash_restore_or_purge_changes_nothing(
    alice_client, alice, make_creation, status, action, code
):
    creation = make_creation(owner=alice, status=status)
    before = everything()

    response = act(alice_client, creation.id, action)

    assert response.status_code == 409
    assert response.json() == {"error": code, "message": services.REFUSALS[code]}
    assert everything() == before


def test_trashing_twice_is_refused_the_second_time(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")
    assert act(alice_client, draft.id, "trash").status_code == 200
    before = everything()

    assert act(alice_client, draft.id, "trash").json()["error"] == "not_trashable"
    assert everything() == before


def test_purge_deletes_the_files_and_keeps_the_row(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks
):
    video = trashed(make_creation(owner=alice, status="draft", kind="video", prompt="waves"))
    files = [video.media.name, video.poster.name]
    assert all(default_storage.exists(name) for name in files)

    with django_capture_on_commit_callbacks(execute=True):
        response = act(alice_client, video.id, "purge")

    assert response.status_code == 200
    body = response.json()
    assert (body["prompt"], body["media_url"], body["poster_url"], body["actions"]) == (
        "",
        None,
        None,
        [],
    )
    video.refresh_from_db()
    assert body["purged_at"] == video.purged_at.isoformat()
    assert (video.status, video.prompt, video.media.name) == ("draft", "", "")
    assert not any(default_storage.exists(name) for name in files)
    before = everything()
    assert act(alice_client, video.id, "purge").json()["error"] == "not_in_trash"
    assert act(alice_client, video.id, "restore").json()["error"] == "not_in_trash"
    assert everything() == before


def test_purge_outside_the_trash_keeps_the_files(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")

    assert act(alice_client, draft.id, "purge").status_code == 409
    assert default_storage.exists(draft.media.name)


# Publish, schedule, unschedule, unpublish, caption


def test_publish_now_with_a_caption(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")

    response = act(alice_client, draft.id, "publish", {"caption": "  a fox  "})

    assert response.status_code == 200
    body = response.json()
    draft.refresh_from_db()
    assert (draft.status, draft.caption, draft.publish_at) == ("published", "a fox", None)
    assert body["status"] == "published"
    assert body["caption"] == "a fox"
    assert body["published_at"] == draft.published_at.isoformat()
    assert body["actions"] == ["unpublish", "edit_caption", "trash"]
    assert Creation.objects.public().filter(pk=draft.pk).exists()
    assert scheduled_job_ids() == []


def test_publish_from_a_form(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")

    response = alice_client.post(
        f"/api/creations/{draft.id}/publish", {"caption": "by form", "publish_at": ""}
    )

    assert response.status_code == 200
    draft.refresh_from_db()
    assert (draft.status, draft.caption) == ("published", "by form")


def test_publish_at_a_time_schedules_it_with_rq(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks
):
    draft = make_creation(owner=alice, status="draft")
    expected = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    # The creator's local time with its offset, as the browser sends it; stored in UTC.
    sent = expected.astimezone(dt.timezone(timedelta(hours=5, minutes=30))).isoformat()
    assert sent.endswith("+05:30")

    with django_capture_on_commit_callbacks(execute=True):
        response = act(alice_client, draft.id, "publish", {"caption": "soon", "publish_at": sent})

    assert response.status_code == 200
    body = response.json()
    draft.refresh_from_db()
    assert (draft.status, draft.publish_at, draft.published_at) == ("scheduled", expected, None)
    assert body["status"] == "scheduled"
    assert body["publish_at"] == expected.isoformat() == draft.publish_at.isoformat()
    assert body["actions"] == ["unschedule", "edit_caption", "trash"]
    registry = ScheduledJobRegistry(queue=queues.get_queue("default"))
    job_id = f"publish-{draft.id}-{int(expected.timestamp())}"
    assert registry.get_job_ids() == [job_id]
    assert registry.get_scheduled_time(job_id) == expected
    assert not Creation.objects.public().filter(pk=draft.pk).exists()


BAD_PUBLISH_AT = {
    "in the past": (timezone.now() - timedelta(minutes=1)).isoformat(),
    "over a year ahead": (timezone.now() + timedelta(days=366)).isoformat(),
    "without an offset": (timezone.now() + timedelta(hours=1)).replace(tzinfo=None).isoformat(),
    "unparsable": "next tuesday",
    "with a null character": "2030-01-01T10:00+00:00\x00",
    "a number": 1893456000,
    "a list": ["2030-01-01T10:00+00:00"],
}


@pytest.mark.parametrize("publish_at", BAD_PUBLISH_AT.values(), ids=BAD_PUBLISH_AT.keys())
def test_a_bad_publish_at_is_a_400_and_changes_nothing(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks, publish_at
):
    draft = make_creation(owner=alice, status="draft")
    before = everything()

    with django_capture_on_commit_callbacks(execute=True):
        response = act(
            alice_client, draft.id, "publish", {"caption": "x", "publish_at": publish_at}
        )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_publish_at"
    assert response.json()["message"]
    assert everything() == before


@pytest.mark.parametrize("status", ["pending", "failed", "published"])
def test_only_a_draft_is_published(alice_client, alice, make_creation, status):
    creation = make_creation(owner=alice, status=status)
    before = everything()

    for body in ({"caption": "x"}, {"caption": "x", "publish_at": in_an_hour()}):
        response = act(alice_client, creation.id, "publish", body)
        assert response.status_code == 409
        assert response.json()["error"] == "not_publishable"
    assert everything() == before


def test_a_trashed_draft_is_not_published(alice_client, alice, make_creation):
    draft = trashed(make_creation(owner=alice, status="draft"))
    before = everything()

    assert act(alice_client, draft.id, "publish").json()["error"] == "not_publishable"
    assert everything() == before


def test_unschedule_makes_it_a_draft_again(alice_client, alice, make_creation):
    draft = scheduled(make_creation(owner=alice, status="draft"))

    response = act(alice_client, draft.id, "unschedule")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["publish_at"]) == ("draft", None)
    draft.refresh_from_db()
    assert (draft.status, draft.publish_at) == ("draft", None)
    before = everything()
    again = act(alice_client, draft.id, "unschedule")
    assert (again.status_code, again.json()["error"]) == (409, "not_scheduled")
    assert everything() == before


def test_unpublish_takes_a_post_back_to_the_drafts(alice_client, alice, make_creation):
    post_ = make_creation(owner=alice, status="published", caption="kept")

    response = act(alice_client, post_.id, "unpublish")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["published_at"], body["caption"]) == ("draft", None, "kept")
    post_.refresh_from_db()
    assert (post_.status, post_.caption) == ("draft", "kept")
    assert not Creation.objects.public().filter(pk=post_.pk).exists()
    before = everything()
    again = act(alice_client, post_.id, "unpublish")
    assert (again.status_code, again.json()["error"]) == (409, "not_published")
    assert everything() == before


@pytest.mark.parametrize("make", ["published", "scheduled"])
def test_the_caption_of_a_post_is_edited(alice_client, alice, make_creation, make):
    creation = make_creation(owner=alice, status="draft")
    if make == "scheduled":
        scheduled(creation)
    else:
        services.creation_publish(creation=creation, caption="first")

    response = act(alice_client, creation.id, "caption", {"caption": " second "})

    assert response.status_code == 200
    assert response.json()["caption"] == "second"
    creation.refresh_from_db()
    assert (creation.status, creation.caption) == (make, "second")


CAPTION_REFUSALS = [
    ("draft", {"caption": "x"}, 409, "not_editable"),
    ("published", {"caption": "x" * 2201}, 422, "caption_too_long"),
    ("published", {"caption": "a\x00b"}, 422, "invalid_caption"),
    ("published", {"caption": 7}, 400, "invalid_caption"),
    ("published", {}, 400, "caption_required"),
    ("published", {"captoin": "x"}, 400, "unknown_field"),
]


@pytest.mark.parametrize(("status", "body", "code", "error"), CAPTION_REFUSALS)
def test_a_refused_caption_changes_nothing(
    alice_client, alice, make_creation, status, body, code, error
):
    creation = make_creation(owner=alice, status=status, caption="as it was")
    before = everything()

    response = act(alice_client, creation.id, "caption", body)

    assert (response.status_code, response.json()["error"]) == (code, error)
    assert everything() == before


# The creation's JSON


def test_the_status_answer_says_what_the_owner_may_do(alice_client, alice, make_creation):
    pending = make_creation(owner=alice, status="pending")
    post_ = make_creation(owner=alice, status="published")
    staff = get_user_model().objects.create_superuser(username="staffer", password="pw-123456")
    services.creation_take_down(creation=post_, staff=staff, reason="Copyrighted footage")

    body = alice_client.get(f"/api/creations/{pending.id}").json()
    assert body["actions"] == ["cancel"]
    for field in ("trashed_at", "publish_at", "published_at", "purged_at", "takedown_reason"):
        assert body[field] is None, field
    assert (body["caption"], body["status"], body["cost"], body["refunded"]) == (
        "",
        "pending",
        1,
        False,
    )

    taken_down = alice_client.get(f"/api/creations/{post_.id}").json()
    assert taken_down["status"] == "taken_down"
    assert taken_down["takedown_reason"] == "Copyrighted footage"
    assert taken_down["actions"] == ["trash"]


# Who may ask, and how


@pytest.mark.parametrize("action", ACTIONS)
def test_someone_elses_creation_answers_like_an_unknown_one(alice, bob, make_creation, action):
    theirs = [
        make_creation(owner=alice, status="pending"),
        make_creation(owner=alice, status="published"),
        trashed(make_creation(owner=alice, status="draft")),
        scheduled(make_creation(owner=alice, status="draft")),
    ]
    client = Client()
    client.force_login(bob)
    body = {"caption": "mine now"}
    unknown = act(client, uuid.uuid4(), action, body)
    assert unknown.status_code == 404
    before = everything()

    for creation in theirs:
        response = act(client, creation.id, action, body)
        assert (response.status_code, response.content) == (404, unknown.content)

    assert unknown.json() == {"error": "not_found", "message": "No such creation."}
    assert everything() == before


@pytest.mark.parametrize("action", ACTIONS)
def test_a_logged_out_visitor_gets_a_401(alice, make_creation, action):
    draft = make_creation(owner=alice, status="published")
    before = everything()

    response = act(Client(), draft.id, action, {"caption": "x"})

    assert response.status_code == 401
    assert response.json()["error"] == "authentication_required"
    assert everything() == before


def test_a_logged_out_bulk_gets_a_401(alice, make_creation):
    draft = make_creation(owner=alice, status="draft")
    before = everything()

    response = post(Client(), "/api/creations/bulk", {"action": "trash", "ids": [str(draft.id)]})

    assert response.status_code == 401
    assert everything() == before


def test_the_api_enforces_csrf(alice, make_creation):
    draft = make_creation(owner=alice, status="draft", kind="video")
    pending = make_creation(owner=alice, status="pending", kind="video")
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get("/create")
    token = {"X-CSRFToken": client.cookies["csrftoken"].value}
    before = everything()

    assert act(client, draft.id, "trash").status_code == 403
    assert act(client, pending.id, "cancel").status_code == 403
    bulk = {"action": "trash", "ids": [str(draft.id)]}
    assert post(client, "/api/creations/bulk", bulk).status_code == 403
    assert everything() == before

    assert act(client, pending.id, "cancel", headers=token).status_code == 200
    assert post(client, "/api/creations/bulk", bulk, headers=token).status_code == 200
    draft.refresh_from_db()
    pending.refresh_from_db()
    assert (draft.is_trashed, pending.status) == (True, "canceled")


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_takes_only_post(alice_client, alice, make_creation, action):
    draft = make_creation(owner=alice, status="draft")
    assert alice_client.get(f"/api/creations/{draft.id}/{action}").status_code == 405


MALFORMED = {
    "not JSON": ("{caption:", "malformed_json"),
    "a JSON array": ("[]", "malformed_request"),
    "a JSON string": ('"publish"', "malformed_request"),
    "a lone surrogate": ('{"caption": "\\ud800"}', "malformed_json"),
    "too deeply nested": ("[" * 100_000 + "]" * 100_000, "malformed_json"),
    "not UTF-8": (b'{"caption": "\xff"}', "malformed_json"),
    "an unknown field": ('{"caption": "x", "publish_at": null, "extra": 1}', "unknown_field"),
}


@pytest.mark.parametrize(("body", "code"), MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_body_is_a_400_and_changes_nothing(
    alice_client, alice, make_creation, body, code
):
    draft = make_creation(owner=alice, status="draft")
    before = everything()

    response = act(alice_client, draft.id, "publish", body)

    assert (response.status_code, response.json()["error"]) == (400, code)
    assert everything() == before


# Bulk


def bulk(client: Client, body):
    return post(client, "/api/creations/bulk", body)


def test_bulk_answers_for_each_item(alice_client, alice, bob, make_creation):
    drafts = [make_creation(owner=alice, status="draft") for _ in range(2)]
    pending = make_creation(owner=alice, status="pending")
    bobs = make_creation(owner=bob, status="draft")
    unknown = uuid.uuid4()
    ids = [*drafts, pending, bobs]

    response = bulk(
        alice_client,
        {
            "action": "publish",
            "ids": [str(c.id) for c in ids] + [str(unknown)],
            "caption": " all at once ",
        },
    )

    assert response.status_code == 200
    assert response.json() == {
        "results": {
            str(drafts[0].id): "ok",
            str(drafts[1].id): "ok",
            str(pending.id): "not_publishable",
            str(bobs.id): "not_found",
            str(unknown): "not_found",
        },
        "summary": {"ok": 2, "skipped": 3, "reasons": {"not_publishable": 1, "not_found": 2}},
    }
    for creation in ids:
        creation.refresh_from_db()
    assert [(c.status, c.caption) for c in ids] == [
        ("published", "all at once"),
        ("published", "all at once"),
        ("pending", ""),
        ("draft", ""),
    ]


def test_bulk_cancel_refunds_each_once(alice_client, alice, make_creation):
    videos = [make_creation(owner=alice, status="pending", kind="video") for _ in range(3)]
    draft = make_creation(owner=alice, status="draft")
    ids = [str(c.id) for c in [*videos, draft]] + [str(videos[0].id)]
    assert balance(alice) == 69

    response = bulk(alice_client, {"action": "cancel", "ids": ids})

    assert response.json()["summary"] == {"ok": 3, "skipped": 1, "reasons": {"not_cancelable": 1}}
    assert balance(alice) == 99
    assert [refunds(video) for video in videos] == [1, 1, 1]
    assert refunds(draft) == 0


def test_bulk_restore_and_purge_in_the_trash(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks
):
    first, second = (trashed(make_creation(owner=alice, status="draft")) for _ in range(2))

    restored = bulk(alice_client, {"action": "restore", "ids": [str(first.id)]})
    with django_capture_on_commit_callbacks(execute=True):
        purged = bulk(alice_client, {"action": "purge", "ids": [str(first.id), str(second.id)]})

    assert restored.json()["results"] == {str(first.id): "ok"}
    assert purged.json()["results"] == {str(first.id): "not_in_trash", str(second.id): "ok"}
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_trashed, first.is_purged, second.is_purged) == (False, False, True)
    assert default_storage.exists(first.media.name)


def test_bulk_from_a_form_takes_every_id(alice_client, alice, make_creation):
    drafts = [make_creation(owner=alice, status="draft") for _ in range(2)]

    response = alice_client.post(
        "/api/creations/bulk", {"action": "trash", "ids": [str(d.id) for d in drafts]}
    )

    assert response.json()["summary"]["ok"] == 2
    assert Creation.objects.in_trash().count() == 2


def test_bulk_takes_exactly_100_ids(alice_client, alice, make_creation):
    drafts = [make_creation(owner=alice, status="draft") for _ in range(3)]
    ids = [str(d.id) for d in drafts] + [str(uuid.uuid4()) for _ in range(97)]

    response = bulk(alice_client, {"action": "trash", "ids": ids})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 100
    assert response.json()["summary"] == {"ok": 3, "skipped": 97, "reasons": {"not_found": 97}}
    assert Creation.objects.in_trash().count() == 3


BAD_BULK = {
    "101 ids": (
        lambda ids: {"action": "trash", "ids": ids + [str(uuid.uuid4()) for _ in range(100)]},
        400,
        "too_many_ids",
    ),
    "an unknown action": (lambda ids: {"action": "delete", "ids": ids}, 400, "unknown_action"),
    "no action": (lambda ids: {"ids": ids}, 400, "unknown_action"),
    "ids not a list": (lambda ids: {"action": "trash", "ids": ids[0]}, 400, "invalid_ids"),
    "an empty list": (lambda ids: {"action": "trash", "ids": []}, 400, "invalid_ids"),
    "a bad id": (lambda ids: {"action": "trash", "ids": [*ids, "nope"]}, 400, "invalid_ids"),
    "a number id": (lambda ids: {"action": "trash", "ids": [*ids, 7]}, 400, "invalid_ids"),
    "a null in an id": (
        lambda ids: {"action": "trash", "ids": [*ids, ids[0] + "\x00"]},
        400,
        "invalid_ids",
    ),
    "a caption not text": (
        lambda ids: {"action": "publish", "ids": ids, "caption": 1},
        400,
        "invalid_caption",
    ),
    "a null in the caption": (
        lambda ids: {"action": "publish", "ids": ids, "caption": "a\x00"},
        422,
        "invalid_caption",
    ),
    "a caption too long": (
        lambda ids: {"action": "publish", "ids": ids, "caption": "x" * 2201},
        422,
        "caption_too_long",
    ),
    "a JSON array": (lambda ids: ids, 400, "malformed_request"),
    "not JSON": (lambda ids: "action=trash", 400, "malformed_json"),
}


@pytest.mark.parametrize(("make_body", "status", "code"), BAD_BULK.values(), ids=BAD_BULK.keys())
def test_a_bad_bulk_request_changes_nothing(
    alice_client, alice, make_creation, make_body, status, code
):
    draft = make_creation(owner=alice, status="draft")
    before = everything()

    response = bulk(alice_client, make_body([str(draft.id)]))

    assert (response.status_code, response.json()["error"]) == (status, code)
    assert response.json()["message"]
    assert everything() == before
