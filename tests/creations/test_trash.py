"""The trash with real files on local storage: Delete moves a creation to the trash with its
status and files kept, Restore gives it back, Delete forever (or the daily purge after
PHOENIX_TRASH_DAYS) deletes the files and clears the words but keeps the row — the record
the staff figures go on counting."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils import timezone

from creations import selectors, services
from creations.jobs import housekeeping
from creations.models import Creation
from ops import figures
from tokens.models import LedgerEntry
from tokens.services import ledger_discrepancies


@pytest.fixture
def media(private_media) -> Path:
    return private_media


def files_in(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


def row(creation: Creation) -> dict:
    return Creation.objects.filter(pk=creation.pk).values().get()


def ids(page) -> list:
    return [creation.pk for creation in page.items]


def test_a_trashed_draft_keeps_its_status_and_files_and_restore_gives_it_back(
    alice, make_creation, media
):
    draft = make_creation(owner=alice, status="draft", kind="video")
    before = row(draft)
    stored = files_in(media)
    assert stored == {draft.media.name, draft.poster.name}

    services.creation_trash(creation=draft)

    draft.refresh_from_db()
    assert (draft.status, draft.is_trashed, draft.is_purged) == ("draft", True, False)
    assert files_in(media) == stored
    assert ids(selectors.drafts_page(owner=alice)) == []
    assert ids(selectors.trash_page(owner=alice)) == [draft.pk]
    assert draft.expires_at is None  # the trash has its own clock

    services.creation_restore(creation=draft)

    draft.refresh_from_db()
    restored = row(draft)
    assert restored == {**before, "redrafted_at": restored["redrafted_at"]}
    assert restored["redrafted_at"] > before["draft_at"]
    assert files_in(media) == stored
    assert ids(selectors.drafts_page(owner=alice)) == [draft.pk]
    assert ids(selectors.trash_page(owner=alice)) == []


def test_undo_works_for_as_long_as_it_is_in_the_trash(alice, make_creation, media, settings):
    draft = make_creation(owner=alice, status="draft")
    trashed_at = timezone.now() - timedelta(days=settings.PHOENIX_TRASH_DAYS) + timedelta(hours=1)
    services.creation_trash(creation=draft, now=trashed_at)

    assert housekeeping.trash_purge() == 0
    services.creation_restore(creation=draft)

    draft.refresh_from_db()
    assert (draft.status, draft.trashed_at) == ("draft", None)
    assert files_in(media) == {draft.media.name}


def test_a_trashed_post_leaves_the_feed_and_its_page_at_once_and_comes_back_as_a_draft(
    alice, bob, make_creation, media
):
    post = make_creation(owner=alice, status="published", caption="Look")
    assert ids(selectors.feed_page()) == [post.pk]
    assert post.media_visible_to(AnonymousUser())

    services.creation_trash(creation=post)

    post.refresh_from_db()
    assert post.status == "published"
    assert ids(selectors.feed_page()) == []
    assert ids(selectors.posts_page(owner=alice, for_owner=True)) == []
    for viewer in (AnonymousUser(), bob, alice):
        with pytest.raises(Http404):
            selectors.post_for_viewer(viewer=viewer, creation_id=post.pk)
    assert not post.media_visible_to(AnonymousUser())
    assert not post.media_visible_to(bob)
    assert post.media_visible_to(alice)  # the owner still sees it in the trash

    services.creation_restore(creation=post)

    post.refresh_from_db()
    # Back among the drafts, with its caption for the next publish; not public again.
    assert (post.status, post.published_at, post.caption) == ("draft", None, "Look")
    assert ids(selectors.feed_page()) == []
    assert ids(selectors.drafts_page(owner=alice)) == [post.pk]


def test_delete_forever_deletes_the_files_clears_the_words_and_keeps_the_row(
    alice, make_creation, media, django_capture_on_commit_callbacks
):
    post = make_creation(owner=alice, status="published", kind="video", caption="My words")
    services.creation_trash(creation=post)
    ledger = list(LedgerEntry.objects.order_by("id").values())
    assert files_in(media) == {post.media.name, post.poster.name}

    with django_capture_on_commit_callbacks(execute=True):
        services.creation_purge(creation=post)

    assert files_in(media) == set()
    post.refresh_from_db()
    assert (post.status, post.prompt, post.caption, post.media.name, post.poster.name) == (
        "published",
        "",
        "",
        "",
        "",
    )
    assert post.is_purged and post.is_trashed
    assert post.purged_at >= post.trashed_at
    assert ids(selectors.trash_page(owner=alice)) == []
    assert not post.media_visible_to(alice)
    # The money history is untouched: the debit is still the creation's.
    assert list(LedgerEntry.objects.order_by("id").values()) == ledger
    assert ledger_discrepancies() == []


def test_the_files_are_kept_until_the_purge_commits(
    alice, make_creation, media, django_capture_on_commit_callbacks
):
    draft = make_creation(owner=alice, status="draft")
    name = draft.media.name
    services.creation_trash(creation=draft)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.creation_purge(creation=draft)
    # A purge that rolled back would leave a row pointing at no file: none goes before.
    assert files_in(media) == {name}

    bump, delete_files, told = callbacks  # the card's version first (creations.versions)
    assert told.args[:1] == ("purged",)
    delete_files()
    assert files_in(media) == set()


def test_the_daily_purge_after_the_trash_days_purges_once_and_a_second_run_does_nothing(
    alice, make_creation, media, settings, django_capture_on_commit_callbacks
):
    settings.PHOENIX_TRASH_DAYS = 7
    now = timezone.now()
    old = make_creation(owner=alice, status="draft", kind="video")
    fresh = make_creation(owner=alice, status="failed")
    kept = make_creation(owner=alice, status="draft")
    services.creation_trash(creation=old, now=now - timedelta(days=7, minutes=1))
    services.creation_trash(creation=fresh, now=now - timedelta(days=7, minutes=1))
    services.creation_trash(creation=kept, now=now - timedelta(days=6, hours=23))

    with django_capture_on_commit_callbacks(execute=True):
        assert housekeeping.trash_purge(now=now) == 2
    rows = {c.pk: row(c) for c in (old, fresh, kept)}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert housekeeping.trash_purge(now=now) == 0
        assert housekeeping.trash_purge(now=now + timedelta(minutes=30)) == 0

    assert callbacks == []
    assert {c.pk: row(c) for c in (old, fresh, kept)} == rows
    assert rows[old.pk]["purged_at"] == now and rows[old.pk]["media"] == ""
    assert rows[fresh.pk]["purged_at"] == now and rows[fresh.pk]["status"] == "failed"
    assert rows[kept.pk]["purged_at"] is None
    assert files_in(media) == {kept.media.name}
    assert ids(selectors.trash_page(owner=alice)) == [kept.pk]


def test_a_creation_restored_while_the_daily_purge_runs_is_not_purged(
    alice, make_creation, media, monkeypatch, django_capture_on_commit_callbacks
):
    """The purge reads its candidates, then purges each under its row lock only if it is
    still in the trash since before the cutoff: a Restore (and a new Delete) in between
    wins."""
    now = timezone.now()
    first = make_creation(owner=alice, status="draft")
    second = make_creation(owner=alice, status="draft")
    for creation in (first, second):
        services.creation_trash(creation=creation, now=now - timedelta(days=30))
    real_purge = housekeeping.creation_purge
    order = []

    def purge_and_meanwhile_restore_the_other(*, creation, now):
        order.append(creation.pk)
        if len(order) == 1:
            other = second if creation.pk == first.pk else first
            services.creation_restore(creation=other)
            services.creation_trash(creation=other)  # in the trash again, since just now
        return real_purge(creation=creation, now=now)

    monkeypatch.setattr(housekeeping, "creation_purge", purge_and_meanwhile_restore_the_other)
    with django_capture_on_commit_callbacks(execute=True):
        assert housekeeping.trash_purge(now=now) == 1

    purged, spared = (first, second) if order[0] == first.pk else (second, first)
    assert row(purged)["purged_at"] == now
    spared_row = row(spared)
    assert (spared_row["purged_at"], spared_row["media"]) == (None, spared.media.name)
    assert spared_row["trashed_at"] > now
    assert files_in(media) == {spared.media.name}


def test_the_staff_figures_still_count_a_failed_creation_after_its_owner_trashed_and_purged_it(
    alice, make_creation, media, django_capture_on_commit_callbacks
):
    failed = make_creation(owner=alice, status="failed", code="provider_unavailable")
    draft = make_creation(owner=alice, status="draft")
    make_creation(owner=alice, status="published")
    make_creation(owner=alice, status="draft")
    before = figures.collect(window="24h")
    assert (before.figures.failed, before.figures.succeeded) == (1, 3)
    assert before.figures.success_rate == pytest.approx(0.75)
    assert before.figures.failure_reasons == {"provider_unavailable": 1}

    with django_capture_on_commit_callbacks(execute=True):
        for creation in (failed, draft):
            services.creation_trash(creation=creation)
            services.creation_purge(creation=creation)

    after = figures.collect(window="24h")
    assert after.figures == before.figures
    assert after.figures.success_rate == pytest.approx(0.75)
    assert after.unrefunded_failures == 0
    assert [check.name for check in after.checks if check.firing] == [
        check.name for check in before.checks if check.firing
    ]


def test_undo_of_a_deleted_post_brings_it_back_as_the_post_it_was(
    alice, alice_client, make_creation, media
):
    older = make_creation(owner=alice, status="published", caption="First")
    post = make_creation(owner=alice, status="published", caption="Look")
    published_at = Creation.objects.get(pk=post.pk).published_at

    deleted = alice_client.post(f"/creations/{post.pk}/delete", headers={"HX-Request": "true"})
    undone = alice_client.post(
        f"/creations/{post.pk}/restore", {"undo": "1"}, headers={"HX-Request": "true"}
    )

    assert deleted.status_code == undone.status_code == 200
    post.refresh_from_db()
    assert (post.status, post.trashed_at, post.caption) == ("published", None, "Look")
    assert post.published_at == published_at
    assert ids(selectors.feed_page()) == [post.pk, older.pk]  # in its place, not re-posted
    assert "Restored as a draft" not in undone.content.decode()


def test_an_undo_long_after_the_delete_or_a_restore_from_the_trash_gives_a_draft(
    alice, make_creation, media, settings
):
    settings.PHOENIX_UNDO_SECONDS = 600
    late, restored = (make_creation(owner=alice, status="published") for _ in range(2))
    for post in (late, restored):
        services.creation_trash(creation=post)

    services.creation_restore(creation=late, undo=True, now=timezone.now() + timedelta(seconds=601))
    services.creation_restore(creation=restored)

    for post in (late, restored):
        post.refresh_from_db()
        assert (post.status, post.published_at) == ("draft", None)
    assert ids(selectors.feed_page()) == []
