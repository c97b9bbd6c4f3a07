"""The one state table, and every action on a creation in every status, in and out of the
trash: an allowed action makes exactly the documented change (status, timestamps, refund,
files); a refused one raises ActionRefused with its code and changes nothing at all — the
row, the ledger and the files on disk are as they were."""

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.http import Http404
from django.utils import timezone

from creations import services
from creations.api import refusal_status
from creations.models import Creation, InvalidTransition
from creations.services import ActionRefused
from creations.validation import CreationRequest
from tokens.models import LedgerEntry

ALL = list(Creation.Status.values)
# The table as the issue documents it.
DOCUMENTED = {
    "pending": {"processing", "failed", "canceled"},
    "processing": {"draft", "failed", "canceled"},
    "draft": {"published", "scheduled"},
    "scheduled": {"published", "draft", "taken_down"},
    "published": {"draft", "taken_down"},
    "failed": set(),
    "canceled": set(),
    "taken_down": {"published"},
}
ALLOWED = {(source, target) for source, targets in DOCUMENTED.items() for target in targets}


def test_the_state_table_is_the_documented_one():
    assert {status: set(targets) for status, targets in Creation.TRANSITIONS.items()} == (
        DOCUMENTED
    )


@pytest.mark.parametrize("source", ALL)
@pytest.mark.parametrize("target", ALL)
def test_only_the_documented_transitions_are_allowed(source, target):
    creation = Creation(status=source)
    assert creation.can_become(target) == ((source, target) in ALLOWED)
    if (source, target) not in ALLOWED:
        with pytest.raises(InvalidTransition):
            creation.check_transition(target)


def test_the_guarded_update_refuses_a_source_the_table_does_not_allow(db):
    with pytest.raises(InvalidTransition):
        Creation.objects.transition(Creation.Status.PUBLISHED, sources=[Creation.Status.PENDING])


def test_the_guarded_update_moves_only_rows_still_in_an_allowed_status(alice, make_creation):
    draft = make_creation(owner=alice, status="draft")
    failed = make_creation(owner=alice, status="failed")
    both = Creation.objects.filter(pk__in=[draft.pk, failed.pk])

    assert both.transition(Creation.Status.PUBLISHED, published_at=timezone.now()) == 1
    assert both.transition(Creation.Status.PUBLISHED, published_at=timezone.now()) == 0

    statuses = dict(both.values_list("pk", "status"))
    assert statuses == {draft.pk: "published", failed.pk: "failed"}


# --- Every status × every action -----------------------------------------------------

CAPTION = "Edited words"
REASON = "Copyright claim from the rights holder."
LATER = timezone.now().replace(microsecond=0) + timedelta(days=2)


class Recent:
    """Equal to a time set during the action under test."""

    def __init__(self) -> None:
        self.since = timezone.now()

    def __eq__(self, other) -> bool:
        return isinstance(other, datetime) and self.since <= other <= timezone.now()

    def __repr__(self) -> str:
        return f"<a time after {self.since.isoformat()}>"


RECENT = object()  # stands for a Recent() made just before the action
STAFF = object()  # stands for the staff member's id
CANCELED = {
    "status": "canceled",
    "canceled_at": RECENT,
    "error_message": "Canceled. Your tokens were refunded.",
}
BACK_TO_DRAFT = {
    "status": "draft",
    "redrafted_at": RECENT,
    "publish_at": None,
    "published_at": None,
}
PURGED = {"purged_at": RECENT, "prompt": "", "caption": "", "media": "", "poster": ""}
TAKEN_DOWN = {
    "status": "taken_down",
    "taken_down_at": RECENT,
    "taken_down_by_id": STAFF,
    "takedown_reason": REASON,
}
TRASHABLE = ["draft", "scheduled", "published", "taken_down", "failed", "canceled"]

# (status, where) → the fields the action changes; any other case is refused with the
# action's code. `where`: "" (not in the trash), "trashed", or "purged" (trashed, then
# deleted forever).
CHANGES: dict[str, dict[tuple[str, str], dict]] = {
    "cancel": {("pending", ""): CANCELED, ("processing", ""): CANCELED},
    "trash": {(status, ""): {"trashed_at": RECENT} for status in TRASHABLE},
    "restore": {
        ("draft", "trashed"): {"trashed_at": None, **BACK_TO_DRAFT},
        # A post, or a scheduled one, comes back as a draft: never straight into public.
        ("scheduled", "trashed"): {"trashed_at": None, **BACK_TO_DRAFT},
        ("published", "trashed"): {"trashed_at": None, **BACK_TO_DRAFT},
        ("taken_down", "trashed"): {"trashed_at": None},
        ("failed", "trashed"): {"trashed_at": None},
        ("canceled", "trashed"): {"trashed_at": None},
    },
    "publish": {
        ("draft", ""): {
            "status": "published",
            "caption": CAPTION,
            "published_at": RECENT,
            "first_published_at": RECENT,
        }
    },
    "schedule": {("draft", ""): {"status": "scheduled", "caption": CAPTION, "publish_at": LATER}},
    "unschedule": {
        ("scheduled", ""): {"status": "draft", "publish_at": None, "redrafted_at": RECENT}
    },
    "unpublish": {
        ("published", ""): {"status": "draft", "published_at": None, "redrafted_at": RECENT}
    },
    "edit_caption": {
        ("scheduled", ""): {"caption": CAPTION},
        ("published", ""): {"caption": CAPTION},
    },
    "purge": {(status, "trashed"): PURGED for status in TRASHABLE},
    # Moderation reaches a post in its owner's trash too (Restore keeps it taken down).
    "take_down": {
        (status, where): TAKEN_DOWN
        for status in ("published", "scheduled")
        for where in ("", "trashed")
    },
}
REFUSAL = {
    "cancel": "not_cancelable",
    "trash": "not_trashable",
    "restore": "not_in_trash",
    "publish": "not_publishable",
    "schedule": "not_publishable",
    "unschedule": "not_scheduled",
    "unpublish": "not_published",
    "edit_caption": "not_editable",
    "purge": "not_in_trash",
    "take_down": "not_published_post",
}
ACTIONS = {
    "cancel": lambda creation, staff: services.creation_cancel(creation=creation),
    "trash": lambda creation, staff: services.creation_trash(creation=creation),
    "restore": lambda creation, staff: services.creation_restore(creation=creation),
    "publish": lambda creation, staff: services.creation_publish(
        creation=creation, caption=CAPTION
    ),
    "schedule": lambda creation, staff: services.creation_publish(
        creation=creation, caption=CAPTION, publish_at=LATER
    ),
    "unschedule": lambda creation, staff: services.creation_unschedule(creation=creation),
    "unpublish": lambda creation, staff: services.creation_unpublish(creation=creation),
    "edit_caption": lambda creation, staff: services.creation_edit_caption(
        creation=creation, caption=CAPTION
    ),
    "purge": lambda creation, staff: services.creation_purge(creation=creation),
    "take_down": lambda creation, staff: services.creation_take_down(
        creation=creation, staff=staff, reason=REASON
    ),
}
CASES = [
    *((status, "") for status in ALL),
    *((status, "trashed") for status in TRASHABLE),
    ("draft", "purged"),
    ("published", "purged"),
    ("failed", "purged"),
]
assert set(CHANGES) == set(REFUSAL) == set(ACTIONS)


@pytest.fixture
def media_folder(private_media) -> Path:
    return private_media


@pytest.fixture
def moderator(db):
    return get_user_model().objects.create_user(
        username="moderator", password="moderator-password-123", is_staff=True
    )


def files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


def snapshot(creation: Creation, folder: Path) -> tuple[dict, list[dict], dict[str, bytes]]:
    row = Creation.objects.filter(pk=creation.pk).values().get()
    ledger = list(
        LedgerEntry.objects.filter(account__user_id=creation.owner_id).order_by("id").values()
    )
    return row, ledger, files(folder)


def build(make_creation, owner, status: str, where: str) -> Creation:
    """A video (media and poster on disk) in `status`, through the real services."""
    creation = make_creation(owner=owner, status=status, kind="video", caption="First words")
    if where in ("trashed", "purged"):
        services.creation_trash(creation=creation)
    if where == "purged":
        services.creation_purge(creation=creation)
    return Creation.objects.get(pk=creation.pk)


def resolved(changes: dict, *, recent: Recent, staff) -> dict:
    stand_ins = {id(RECENT): recent, id(STAFF): staff.pk}
    return {name: stand_ins.get(id(value), value) for name, value in changes.items()}


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize(
    ("status", "where"), CASES, ids=[f"{s}{'-' + w if w else ''}" for s, w in CASES]
)
def test_each_action_in_each_state_makes_exactly_its_change_or_changes_nothing(
    alice,
    make_creation,
    moderator,
    media_folder,
    django_capture_on_commit_callbacks,
    status,
    where,
    action,
):
    with django_capture_on_commit_callbacks(execute=True):
        creation = build(make_creation, alice, status, where)
    row, ledger, stored = snapshot(creation, media_folder)
    changes = CHANGES[action].get((status, where))
    recent = Recent()

    with django_capture_on_commit_callbacks(execute=True):
        if changes is None:
            with pytest.raises(ActionRefused) as refusal:
                ACTIONS[action](creation, moderator)
        else:
            ACTIONS[action](creation, moderator)

    row_after, ledger_after, stored_after = snapshot(creation, media_folder)
    if changes is None:
        assert (refusal.value.code, refusal_status(refusal.value)) == (REFUSAL[action], 409)
        assert row_after == row
        assert ledger_after == ledger
        assert stored_after == stored
        return

    assert row_after == {**row, **resolved(changes, recent=recent, staff=moderator)}
    # The caller's copy is the row as committed.
    assert {field: getattr(creation, field) for field in row} == row_after
    assert ledger_after[: len(ledger)] == ledger
    added = [(e["kind"], e["amount"], e["creation_id"]) for e in ledger_after[len(ledger) :]]
    if action == "cancel":
        assert added == [("refund", creation.cost, creation.pk)]
    else:
        assert added == []
    if action == "purge":
        names = {row["media"], row["poster"]} - {""}
        assert len(names) == (2 if status in Creation.FINISHED else 0)
        assert names <= set(stored)
        assert stored_after == {
            name: content
            for name, content in stored.items()
            if name not in (row["media"], row["poster"])
        }
    else:
        assert stored_after == stored


@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_action_on_a_creation_whose_row_is_gone_is_not_found(
    alice, make_creation, moderator, action
):
    creation = make_creation(owner=alice, status="draft")
    Creation.objects.filter(pk=creation.pk).delete()

    with pytest.raises(services.CreationGone) as gone:
        ACTIONS[action](creation, moderator)

    assert (gone.value.code, refusal_status(gone.value)) == ("not_found", 404)


def test_a_take_down_without_a_reason_is_refused_and_changes_nothing(
    alice, make_creation, moderator
):
    post = make_creation(owner=alice, status="published")
    before = Creation.objects.filter(pk=post.pk).values().get()

    with pytest.raises(ActionRefused) as refusal:
        services.creation_take_down(creation=post, staff=moderator, reason="   ")

    assert (refusal.value.code, refusal_status(refusal.value)) == ("reason_required", 400)
    assert Creation.objects.filter(pk=post.pk).values().get() == before


@pytest.mark.parametrize(
    ("caption", "code", "status"),
    [("x" * 2201, "caption_too_long", 422), ("a\x00b", "invalid_caption", 422)],
)
def test_a_publish_or_caption_edit_with_a_bad_caption_changes_nothing(
    alice, make_creation, caption, code, status
):
    draft = make_creation(owner=alice, status="draft")
    post = make_creation(owner=alice, status="published", caption="kept")
    rows = {c.pk: Creation.objects.filter(pk=c.pk).values().get() for c in (draft, post)}

    for attempt in (
        lambda: services.creation_publish(creation=draft, caption=caption),
        lambda: services.creation_edit_caption(creation=post, caption=caption),
    ):
        with pytest.raises(ActionRefused) as refusal:
            attempt()
        assert (refusal.value.code, refusal_status(refusal.value)) == (code, status)

    assert {c.pk: Creation.objects.filter(pk=c.pk).values().get() for c in (draft, post)} == rows


# --- The pipeline's own transitions ---------------------------------------------------


@pytest.fixture
def pending(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        creation, _ = services.creation_submit(
            user=alice, request=CreationRequest("image", "a fox", "1:1")
        )
    return creation


def test_completing_a_pending_creation_raises_and_changes_nothing(pending):
    with pytest.raises(InvalidTransition):
        services.creation_complete(creation=pending, media="x.png", width=1, height=1)
    pending.refresh_from_db()
    assert (pending.status, pending.media.name) == ("pending", "")


def test_failing_a_draft_is_refused_and_refunds_nothing(pending):
    services.creation_claim(creation_id=pending.id)
    pending.refresh_from_db()
    assert services.creation_complete(creation=pending, media="x.png", width=1, height=1)
    assert services.creation_fail(creation=pending, code="generation_failed") is False
    pending.refresh_from_db()
    assert pending.status == "draft"
    assert pending.ledger_entries.filter(kind="refund").count() == 0


@pytest.mark.parametrize("status", ["canceled", "failed"])
def test_a_canceled_or_failed_creation_cannot_be_claimed_completed_or_failed_again(
    alice, make_creation, status
):
    creation = make_creation(owner=alice, status=status)
    before = Creation.objects.filter(pk=creation.pk).values().get()

    assert services.creation_claim(creation_id=creation.id) is None
    assert services.creation_fail(creation=creation, code="timed_out") is False
    assert services.creation_report_progress(creation=creation, percent=50) is False
    assert services.creation_record_task(creation=creation, task_id="task-1") is False

    assert Creation.objects.filter(pk=creation.pk).values().get() == before
    assert creation.ledger_entries.filter(kind="refund").count() == 1


def test_a_claim_succeeds_once(pending):
    assert services.creation_claim(creation_id=pending.id) is not None
    assert services.creation_claim(creation_id=pending.id) is None
    pending.refresh_from_db()
    assert (pending.status, pending.attempts) == ("processing", 1)


def test_the_owner_lookup_is_404_for_anyone_else(pending, bob):
    assert services.creation_for_owner(owner=pending.owner, creation_id=pending.id) == pending
    with pytest.raises(Http404):
        services.creation_for_owner(owner=bob, creation_id=pending.id)
    with pytest.raises(Http404):
        services.creation_for_owner(owner=bob, creation_id="not-a-uuid")
