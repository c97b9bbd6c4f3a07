"""The staff figures count every creation ever started: trashed, purged, expired ones and
those of a deactivated creator included; per type, against the seed's targets."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from creations import services
from creations.jobs.housekeeping import drafts_expire
from creations.models import Creation
from ops import analytics, figures, outcomes
from ops.figures import CreationRow
from tokens.services import account_grant

from .conftest import creation_in_state

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def row(status="failed", code="", *, ran=True, kind="image") -> CreationRow:
    return CreationRow(
        kind=kind,
        status=status,
        created_at=T0,
        draft_at=T0 + timedelta(seconds=5) if status == "draft" else None,
        error_code=code,
        refunded=status in ("failed", "canceled"),
        processing_at=T0 + timedelta(seconds=1) if ran else None,
    )


def test_worker_errors_are_our_failures_over_the_jobs_a_worker_ran():
    rows = [
        *[row("draft") for _ in range(4)],
        row(code="worker_lost"),
        row(code="timed_out"),
        row(code="generation_failed"),
        row(code="storage_failed"),
        # Not ours, or no job ran: not worker errors.
        row(code="safety_filter"),
        row(code="policy_violation"),
        row(code="provider_unavailable"),
        row(code="task_lost"),
        row(code="queue_stalled", ran=False),
        row(code="queue_unavailable", ran=False),
        row("canceled", ran=False),
        row("pending", ran=False),
    ]

    result = outcomes.outcomes(rows)

    assert (result.worker_errors, result.jobs_run) == (4, 12)
    assert result.worker_error_rate == 4 / 12
    assert (result.failed, result.refused_prompts, result.canceled, result.in_flight) == (
        10,
        2,
        1,
        1,
    )
    assert result.success_rate == 4 / 14
    assert result.refund_rate == 1.0
    assert result.cancels_refunded == 1


def test_the_average_target_is_strictly_under_and_missing_data_is_no_data():
    def average(seconds):
        rows = [
            CreationRow(kind="video", status="draft", created_at=T0, draft_at=T0 + timedelta(0, s))
            for s in seconds
        ]
        return figures.latency_stats(rows, kind="video", target_seconds=180, target_share=0.95)

    assert average([100, 139.9]).meets_average is True
    assert average([100, 140]).meets_average is False  # 120 s on average: not under 120
    assert average([]).meets_average is None
    assert average([100, 140]).average_target == 120


@pytest.fixture
def known_mix(alice, bob, settings, django_capture_on_commit_callbacks):
    """12 creations: 9 images, 3 videos; one image 40 days old expired into the trash."""
    settings.PHOENIX_DRAFT_TTL_DAYS = 30
    now = timezone.now()
    trashed, purged, _ = (
        creation_in_state(owner=alice, status="draft", seconds=s, now=now) for s in (10, 20, 30)
    )
    expired = creation_in_state(
        owner=alice, status="draft", seconds=12, age=timedelta(days=40), now=now
    )
    creation_in_state(owner=bob, status="published", seconds=16, now=now)
    creation_in_state(owner=bob, kind="video", status="draft", seconds=100, now=now)
    creation_in_state(owner=bob, kind="video", status="draft", seconds=140, now=now)
    creation_in_state(owner=bob, status="failed", error_code="worker_lost", now=now)
    creation_in_state(owner=bob, status="failed", error_code="safety_filter", now=now)
    creation_in_state(owner=bob, kind="video", status="failed", error_code="storage_failed")
    canceled = creation_in_state(owner=alice, status="pending", now=now)
    creation_in_state(owner=alice, status="processing", now=now)
    with django_capture_on_commit_callbacks(execute=True):
        services.creation_cancel(creation=canceled)
        services.creation_trash(creation=trashed)
        services.creation_trash(creation=purged)
        services.creation_purge(creation=purged)
        assert drafts_expire(now=now) == 1
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    # What happened to them, as the figures must not mind.
    assert Creation.objects.filter(purged_at__isnull=False).count() == 1
    assert Creation.objects.in_trash().count() == 2
    assert Creation.objects.get(pk=expired.pk).trashed_at is not None
    assert Creation.objects.filter(owner__is_active=False).count() == 6
    return now


def test_every_creation_ever_started_counts_on_a_known_mix(known_mix):
    snapshot = figures.collect(window="all", now=known_mix)

    f = snapshot.figures
    assert snapshot.since is None
    assert (f.total, f.succeeded, f.failed, f.canceled, f.in_flight) == (12, 7, 3, 1, 1)
    assert (f.worker_errors, f.jobs_run) == (2, 11)
    assert (f.failures_refunded, f.cancels_refunded, f.refund_rate) == (3, 1, 1.0)
    assert (f.published, f.conversion) == (1, 1 / 7)

    image, video = f.by_kind["image"], f.by_kind["video"]
    assert (image.total, image.succeeded, image.failed, image.canceled) == (9, 5, 2, 1)
    assert image.success_rate == 5 / 7
    assert (image.worker_errors, image.jobs_run) == (1, 8)  # worker_lost; safety_filter is not
    assert (image.refused_prompts, image.published, image.conversion) == (1, 1, 1 / 5)
    assert (video.total, video.succeeded, video.failed) == (3, 2, 1)
    assert video.success_rate == 2 / 3
    assert (video.worker_errors, video.jobs_run) == (1, 3)  # storage_failed

    image_time, video_time = snapshot.latency["image"], snapshot.latency["video"]
    # Images: 10, 20, 30 (trashed, purged, kept), 12 (expired), 16 (deactivated owner).
    assert image_time.mean == pytest.approx(17.6)
    assert (image_time.median, image_time.p95, image_time.within_target) == (16, 30, 5)
    assert (video_time.mean, video_time.median, video_time.p95) == (120, 120, 140)

    checks = {check.name: check for check in snapshot.checks}
    assert checks["average_image"].state == "green"
    assert checks["average_video"].state == "red"  # 120 s on average is not under 2 min
    assert checks["average_video"].label == "Videos take under 2 min on average"
    assert checks["worker_errors"].state == "red"
    assert checks["worker_errors"].detail == "2 of 11 jobs (18.2%)"
    assert checks["latency_image"].state == checks["latency_video"].state == "green"
    assert not {"average_video", "worker_errors"} & {c.name for c in snapshot.alerts_firing}


def test_the_30_day_window_leaves_out_only_what_was_started_before_it(known_mix):
    f = figures.collect(window="30d", now=known_mix).figures
    assert (f.total, f.by_kind["image"].total, f.by_kind["image"].succeeded) == (11, 8, 4)


def test_the_metrics_page_shows_the_figures_per_type(client, plain_staff, known_mix):
    client.force_login(plain_staff)

    response = client.get(reverse("staff_metrics"), {"window": "all"})

    page = response.content.decode()
    assert response.status_code == 200
    image = page.split('<tr data-kind="image">')[1].split("</tr>")[0]
    assert '<th scope="row">image</th><td class="num">9</td><td class="num">5</td>' in image
    assert "71.4%" in image  # 5 of 7 ended
    assert "12.5% <span" in image and "(1 of 8)" in image  # worker errors
    assert "100.0% <span" in image  # refunded failures
    video_time = page.split('<tr data-kind="video">')[2].split("</tr>")[0]
    assert "120.0 s" in video_time and "under 2 min" in video_time and "MISSED" in video_time
    assert "every creation ever started" in page
    # The definition of a worker error is on the page.
    for code in ("worker_lost", "timed_out", "generation_failed", "storage_failed"):
        assert f"<code>{code}</code>" in page
    assert 'data-check="worker_errors" data-state="red"' in page


def test_the_analytics_page_shows_the_success_rate_per_day_and_type(client, plain_staff, alice):
    now = timezone.now()
    for status in ("draft", "draft", "failed"):
        creation_in_state(owner=alice, status=status, age=timedelta(seconds=30), now=now)
    creation_in_state(owner=alice, kind="video", status="failed", age=timedelta(days=1), now=now)
    creation_in_state(owner=alice, kind="video", status="processing", age=timedelta(days=1))
    client.force_login(plain_staff)

    response = client.get(reverse("staff_analytics"), {"days": "7"})

    trend = response.context["analytics"].success_by_day
    assert len(trend) == 2  # the days on which something ended
    today, yesterday = trend[0], trend[1]
    assert today[0] == timezone.localdate(now)
    assert today[1]["image"].label == "66.7% (2 of 3)"
    assert today[1]["video"].label == "—"
    assert yesterday[1]["video"].label == "0.0% (0 of 1)"  # the one in flight is not counted
    page = response.content.decode()
    assert "Success rate per day and type" in page
    assert f'<tr data-day="{today[0]:%Y-%m-%d}">' in page
    assert '<td class="num" data-kind="image">66.7% (2 of 3)</td>' in page


def test_the_success_trend_leaves_out_days_on_which_nothing_ended():
    first, last = datetime(2025, 1, 1).date(), datetime(2025, 1, 3).date()
    counts = {
        (first, "video"): analytics.DaySuccess(1, 2),
        (last, "image"): analytics.DaySuccess(3, 3),
        (datetime(2025, 1, 2).date(), "image"): analytics.DaySuccess(0, 0),
    }
    trend = analytics.success_trend(counts, first=first, last=last)
    assert [day for day, _ in trend] == [last, first]
    assert trend[1][1]["video"].rate == 0.5
    assert trend[1][1]["image"].label == "—"
    assert trend[0][1]["image"].label == "100.0% (3 of 3)"


def test_the_grouped_read_gives_the_figures_a_row_per_creation_gives(known_mix, alice):
    # One failure left without its refund: the groups must keep it apart.
    creation_in_state(owner=alice, status="failed", refunded=False, now=known_mix)

    one_by_one = figures.creation_rows()
    grouped = figures.creation_groups()

    assert sum(group.count for group in grouped) == len(one_by_one) == 13
    assert len(grouped) < len(one_by_one)
    assert figures.creation_figures(grouped) == figures.creation_figures(one_by_one)
    for kind in ("image", "video"):
        latency = {"kind": kind, "target_seconds": 30, "target_share": 0.95}
        assert figures.latency_stats(grouped, **latency) == figures.latency_stats(
            one_by_one, **latency
        )
    window = known_mix - timedelta(days=30)
    assert figures.creation_figures(
        figures.creation_groups(since=window)
    ) == figures.creation_figures(figures.creation_rows(since=window))


def test_the_grouped_read_is_one_query_whatever_the_window_holds(alice, django_assert_num_queries):
    for status in ("draft", "failed", "published", "pending"):
        creation_in_state(owner=alice, status=status)

    with django_assert_num_queries(1):
        groups = figures.creation_groups(since=timezone.now() - timedelta(hours=1))

    assert sum(group.count for group in groups) == 4


@pytest.mark.parametrize("remote", [False, True])
@pytest.mark.parametrize("kind", ["image", "video"])
def test_the_past_deadline_count_follows_the_deadline_rule_to_the_second(
    alice, settings, kind, remote
):
    """Creation.objects.past_deadline (SQL, for the figures) and Creation.deadline (the
    recovery pass's rule) agree on each side of every deadline."""
    settings.PHOENIX_QUEUE_STALL = 900
    settings.PHOENIX_DEADLINE_GRACE = 60
    settings.PHOENIX_REMOTE_TASK_TIMEOUT = 1800
    settings.PHOENIX_JOB_TIMEOUT = {"image": 120, "video": 600}
    account_grant(user=alice, amount=1000, reason="many creations")
    now = timezone.now()
    made = []
    for age in (0, 100, 659, 661, 899, 901, 1859, 1861, 4000):
        for status in ("pending", "processing", "draft", "failed"):
            creation = creation_in_state(
                owner=alice, kind=kind, status=status, age=timedelta(seconds=age + 1), now=now
            )
            changes = {"processing_at": now - timedelta(seconds=age)} if status != "pending" else {}
            if remote and status == "processing":
                changes["provider_task_id"] = f"task-{age}"
            if status == "pending" and age == 4000:
                changes["requeued_at"] = now - timedelta(seconds=100)  # sent again lately
            Creation.objects.filter(pk=creation.pk).update(**changes)
            made.append(creation.pk)
    in_flight = Creation.objects.filter(pk__in=made, status__in=Creation.IN_FLIGHT)
    by_rule = {c.pk for c in in_flight if now >= c.deadline}

    by_sql = set(Creation.objects.past_deadline(now=now).values_list("pk", flat=True))

    assert by_sql == by_rule
    assert 0 < len(by_rule) < in_flight.count()
    assert figures.past_deadline_count(now=now) == len(by_rule)
