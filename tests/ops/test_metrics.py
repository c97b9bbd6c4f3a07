"""Metrics and alert computations on fixtures with known answers."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from creations import queues, services
from creations.models import Creation
from ops import analytics, outcomes
from ops import figures as ops_figures
from ops.figures import CreationRow, QueueFigures, Thresholds
from tests.conftest import run_worker_burst
from tokens.models import TokenAccount
from tokens.services import Discrepancy

from .conftest import creation_in_state

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
THRESHOLDS = Thresholds(
    queue_depth=50,
    failure_rate=0.10,
    latency_targets={"image": 30, "video": 180},
    target_share=0.95,
)


def row(kind="image", status="draft", seconds=10.0, error_code="", refunded=False) -> CreationRow:
    ended = T0 + timedelta(seconds=seconds)
    reached = status in Creation.FINISHED
    return CreationRow(
        kind=kind,
        status=status,
        created_at=T0,
        draft_at=ended if reached else None,
        failed_at=ended if status == "failed" else None,
        error_code=error_code,
        refunded=refunded,
    )


def checks_for(rows=(), *, depths=None, discrepancies=(), unrefunded=0, past_deadline=0, error=""):
    depths = {"images": 0, "videos": 0, "default": 0} if depths is None else depths
    snapshot = ops_figures.build_snapshot(
        window="1h",
        now=T0,
        rows=list(rows),
        queue=QueueFigures(depths=depths, failed_jobs={}, workers=1, error=error),
        discrepancies=list(discrepancies),
        unrefunded_failures=unrefunded,
        past_deadline=past_deadline,
        thresholds=THRESHOLDS,
    )
    return {check.name: check for check in snapshot.checks}, snapshot


# --- percentiles ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "p95", "median"),
    [
        (list(range(1, 21)), 19, 10.5),
        (list(range(1, 101)), 95, 50.5),
        (list(range(100, 0, -1)), 95, 50.5),
        ([7.5], 7.5, 7.5),
        ([3, 1, 2], 3, 2),
        ([], None, None),
    ],
)
def test_the_95th_percentile_is_the_nearest_rank(values, p95, median):
    assert outcomes.percentile(values, 95) == p95
    assert outcomes.median(values) == median


def test_the_percentile_bounds():
    assert outcomes.percentile([4, 8, 15, 16, 23, 42], 100) == 42
    assert outcomes.percentile([4, 8, 15, 16, 23, 42], 0) == 4
    assert outcomes.percentile([4, 8, 15, 16, 23, 42], 50) == 15


def test_latency_counts_only_creations_that_reached_draft():
    rows = [row(seconds=s) for s in (5, 10, 20)] + [
        row(status="failed", seconds=1, error_code="x"),
        row(status="processing"),
        row(kind="video", seconds=100),
    ]
    stats = ops_figures.latency_stats(rows, kind="image", target_seconds=30, target_share=0.95)
    assert (stats.count, stats.median, stats.p95, stats.within_target) == (3, 10, 20, 3)
    assert stats.meets_target is True


def test_the_image_target_is_met_at_exactly_95_percent_within_30_seconds():
    rows = [row(seconds=30) for _ in range(19)] + [row(seconds=31)]
    checks, snapshot = checks_for(rows)
    assert snapshot.latency["image"].share_within_target == 0.95
    assert snapshot.latency["image"].p95 == 30
    assert checks["latency_image"].state == "green"


def test_the_image_target_is_missed_below_95_percent():
    rows = [row(seconds=29) for _ in range(18)] + [row(seconds=31), row(seconds=90)]
    checks, snapshot = checks_for(rows)
    assert snapshot.latency["image"].share_within_target == 0.9
    assert snapshot.latency["image"].p95 == 31
    assert checks["latency_image"].state == "red"
    # A missed target is shown red but is not an alert.
    assert snapshot.alerts_firing == []


def test_the_video_target_is_three_minutes_and_no_videos_means_no_data():
    checks, _ = checks_for([row(kind="video", seconds=180)] * 20)
    assert checks["latency_video"].state == "green"
    assert checks["latency_video"].label == "95% of videos within 3 min"
    checks, _ = checks_for([row(kind="video", seconds=181)] * 20)
    assert checks["latency_video"].state == "red"
    checks, _ = checks_for([])
    assert checks["latency_video"].state == "no-data"


# --- rates ------------------------------------------------------------------------------


def test_the_rates_on_a_known_mix():
    rows = [
        *[row(status="draft") for _ in range(4)],
        *[row(status="published") for _ in range(4)],
        row(status="failed", error_code="storage_failed", refunded=True),
        row(status="failed", error_code="timed_out", refunded=True),
        row(status="pending"),
        row(status="processing"),
    ]
    figures = ops_figures.creation_figures(rows)
    assert figures.total == 12
    assert (figures.succeeded, figures.failed) == (8, 2)
    assert figures.success_rate == 0.8
    assert figures.failure_share == 2 / 12
    assert figures.refund_rate == 1.0
    assert figures.conversion == 0.5
    assert figures.storage_failures == 1
    assert figures.failure_reasons == {"storage_failed": 1, "timed_out": 1}
    assert figures.by_kind_status["image"] == {
        "pending": 1,
        "processing": 1,
        "draft": 4,
        "scheduled": 0,
        "published": 4,
        "failed": 2,
        "canceled": 0,
        "taken_down": 0,
    }
    assert figures.by_kind_status["video"]["draft"] == 0


def test_a_failure_without_a_refund_lowers_the_refund_rate():
    figures = ops_figures.creation_figures(
        [row(status="failed", error_code="x", refunded=True), row(status="failed", error_code="x")]
    )
    assert figures.refund_rate == 0.5


def test_no_data_gives_no_rates():
    figures = ops_figures.creation_figures([])
    assert figures.success_rate is figures.refund_rate is figures.conversion is None


def test_every_status_has_its_count_and_every_figure_and_check_is_computed():
    rows = [
        row(kind=kind, status=status) for kind in ops_figures.KINDS for status in Creation.Status
    ]

    checks, snapshot = checks_for(rows)

    figures = snapshot.figures
    assert set(ops_figures.STATUSES) == set(Creation.Status.values)
    for kind in ops_figures.KINDS:
        assert figures.by_kind_status[kind] == dict.fromkeys(Creation.Status.values, 1)
    assert figures.total == 2 * len(Creation.Status)
    # draft, scheduled, published and taken down reached draft; one failed, one canceled.
    assert (figures.succeeded, figures.failed, figures.canceled) == (8, 2, 2)
    assert figures.success_rate == 0.8
    assert figures.conversion == 0.5
    assert {check.state for check in checks.values()} <= {"green", "red", "no-data"}


def test_a_cancel_is_the_creators_choice_not_a_failure():
    rows = [row() for _ in range(8)] + [row(status="canceled", refunded=True)] * 5

    checks, snapshot = checks_for(rows)

    figures = snapshot.figures
    assert figures.canceled == 5
    assert figures.failed == figures.system_failures == 0
    assert figures.success_rate == 1.0
    assert figures.failure_reasons == {}
    assert figures.refund_rate is None  # refunds of failures; there were none
    assert checks["failure_rate"].state == "green"
    assert checks["failure_rate"].detail.startswith("0 of 13 failed")


def test_a_post_taken_down_or_trashed_still_counts_as_published_for_conversion():
    rows = [
        row(status="published"),
        row(status="taken_down"),
        row(status="scheduled"),  # not published yet
        row(status="draft"),
    ]
    figures = ops_figures.creation_figures(rows)
    assert (figures.published, figures.finished_drafts) == (2, 4)
    assert figures.conversion == 0.5


# --- alert thresholds -------------------------------------------------------------------


def test_everything_green_on_a_healthy_window():
    checks, snapshot = checks_for([row() for _ in range(10)])
    assert snapshot.alerts_firing == []
    assert {c.state for c in checks.values() if not c.is_target} == {"green"}


@pytest.mark.parametrize(("depth", "state"), [(50, "green"), (51, "red")])
def test_queue_depth_alerts_above_50(depth, state):
    checks, _ = checks_for(depths={"images": 3, "videos": depth, "default": 0})
    assert checks["queue_depth"].state == state


def test_an_unreachable_redis_is_an_alert():
    checks, snapshot = checks_for(depths={}, error="Connection refused")
    assert checks["queue_depth"].state == "red"
    assert "Connection refused" in checks["queue_depth"].detail


@pytest.mark.parametrize(
    ("failed", "succeeded", "state"),
    [(1, 9, "green"), (2, 18, "green"), (2, 17, "red"), (0, 0, "green")],
)
def test_failures_alert_above_10_percent_of_the_window(failed, succeeded, state):
    rows = [row(status="failed", error_code="x", refunded=True)] * failed + [row()] * succeeded
    checks, _ = checks_for(rows)
    assert checks["failure_rate"].state == state


def test_refused_prompts_do_not_count_towards_the_failure_alert():
    refusals = [
        row(status="failed", error_code=code, refunded=True)
        for code in ("safety_filter", "policy_violation")
    ]
    checks, snapshot = checks_for(refusals + [row(status="failed", error_code="x")] + [row()] * 7)
    assert snapshot.figures.failure_share == 0.3
    assert snapshot.figures.system_failure_share == 0.1
    assert checks["failure_rate"].state == "green"
    assert "2 refused prompt(s) not counted" in checks["failure_rate"].detail


@pytest.mark.parametrize(("unrefunded", "state"), [(0, "green"), (1, "red")])
def test_any_failure_without_a_refund_alerts(unrefunded, state):
    checks, _ = checks_for(unrefunded=unrefunded)
    assert checks["unrefunded_failures"].state == state


def test_any_storage_failure_alerts():
    checks, _ = checks_for([row()] * 99 + [row(status="failed", error_code="storage_failed")])
    assert checks["storage_failures"].state == "red"
    assert checks["failure_rate"].state == "green"


def test_any_other_failure_is_not_a_storage_alert():
    checks, _ = checks_for([row()] * 99 + [row(status="failed", error_code="timed_out")])
    assert checks["storage_failures"].state == "green"


@pytest.mark.parametrize(("count", "state"), [(0, "green"), (1, "red")])
def test_any_creation_past_its_deadline_alerts(count, state):
    checks, _ = checks_for(past_deadline=count)
    assert checks["past_deadline"].state == state


def test_a_balance_discrepancy_alerts():
    checks, _ = checks_for(discrepancies=[Discrepancy(1, "alice", 100, 99)])
    assert checks["token_discrepancies"].state == "red"
    assert "off by +1" in checks["token_discrepancies"].detail


# --- charts -----------------------------------------------------------------------------


def test_the_daily_series_fills_days_without_data_with_zero():
    first = date(2025, 1, 1)
    series = analytics.daily_series({date(2025, 1, 2): 5}, first=first, last=date(2025, 1, 4))
    assert series == [
        (first, 0),
        (date(2025, 1, 2), 5),
        (date(2025, 1, 3), 0),
        (date(2025, 1, 4), 0),
    ]


def test_the_bar_chart_scales_bars_to_the_largest_value():
    series = [(date(2025, 1, d), v) for d, v in ((1, 0), (2, 5), (3, 10))]
    chart = analytics.bar_chart(series, width=300, height=130)
    heights = [bar.height for bar in chart.bars]
    assert heights == [0, 50, 100]  # 130 minus the 12 + 18 margins
    assert [bar.y + bar.height for bar in chart.bars] == [chart.baseline] * 3
    assert chart.bars[1].x > chart.bars[0].x
    assert (chart.maximum, chart.first_label, chart.last_label) == (10, "2025-01-01", "2025-01-03")


# --- collected from the database and Redis ------------------------------------------------


def test_collect_reads_the_database_and_redis(alice, bob):
    now = timezone.now()
    for seconds in (4, 6, 8, 10):
        creation_in_state(owner=alice, status="draft", seconds=seconds, now=now)
    creation_in_state(owner=alice, status="published", seconds=40, now=now)
    creation_in_state(owner=bob, kind="video", status="draft", seconds=120, now=now)
    creation_in_state(owner=bob, status="failed", error_code="storage_failed", now=now)
    creation_in_state(owner=bob, status="failed", error_code="timed_out", refunded=False, now=now)
    stuck = creation_in_state(owner=bob, status="processing", age=timedelta(hours=2), now=now)
    creation_in_state(owner=alice, status="draft", age=timedelta(days=2), now=now)  # outside 24h
    queues.get_queue("images").enqueue("builtins.print", "waiting")
    queues.get_queue("default").enqueue("builtins.int", "not a number")
    run_worker_burst()  # the print job succeeds, the int job fails
    queues.get_queue("videos").enqueue("builtins.print", "waiting")

    snapshot = ops_figures.collect(window="24h", now=now)

    figures = snapshot.figures
    assert figures.total == 9  # the 2-hour-old stuck one included, the 2-day-old one not
    assert figures.by_kind_status["image"]["draft"] == 4
    assert (figures.succeeded, figures.failed, figures.failures_refunded) == (6, 2, 1)
    assert figures.conversion == 1 / 6
    image = snapshot.latency["image"]
    assert (image.count, image.median, image.p95, image.within_target) == (5, 8, 40, 4)
    assert snapshot.latency["video"].p95 == 120
    assert snapshot.queue.depths == {
        "images": 0,
        "videos": 1,
        "default": 0,
        "light": 0,
        "housekeeping": 0,
    }
    assert snapshot.queue.failed_jobs["default"] == 1
    assert snapshot.queue.workers == 0
    assert snapshot.unrefunded_failures == 1
    assert snapshot.past_deadline == 1 and stuck.deadline < now
    assert snapshot.discrepancies == []
    firing = {c.name for c in snapshot.alerts_firing}
    assert firing == {"failure_rate", "unrefunded_failures", "storage_failures", "past_deadline"}

    one_hour = ops_figures.collect(window="1h", now=now)
    assert one_hour.figures.total == 8


def test_trashed_purged_canceled_and_taken_down_creations_all_count(alice, bob, staff_user):
    """Rows are never deleted: what its creator trashed or purged since stays in the
    figures (a failure the user deleted still counts against the failure alert)."""
    now = timezone.now()
    for _ in range(4):
        creation_in_state(owner=alice, status="draft", seconds=5, now=now)
    failure = creation_in_state(owner=bob, status="failed", error_code="timed_out", now=now)
    trashed_post = creation_in_state(owner=alice, status="published", now=now)
    taken_down = creation_in_state(owner=bob, status="published", now=now)
    canceled = creation_in_state(owner=bob, kind="video", status="processing", now=now)
    services.creation_trash(creation=failure)
    services.creation_purge(creation=failure)
    services.creation_trash(creation=trashed_post)
    services.creation_take_down(creation=taken_down, staff=staff_user(), reason="spam")
    services.creation_cancel(creation=canceled)

    snapshot = ops_figures.collect(window="24h", now=timezone.now())

    figures = snapshot.figures
    assert figures.total == 8
    assert (figures.succeeded, figures.failed, figures.canceled) == (6, 1, 1)
    assert figures.failure_reasons == {"timed_out": 1}
    assert figures.failures_refunded == 1
    assert figures.published == 2 and figures.conversion == 2 / 6
    assert figures.by_kind_status["image"]["taken_down"] == 1
    assert figures.by_kind_status["video"]["canceled"] == 1
    assert snapshot.unrefunded_failures == 0
    checks = {check.name: check for check in snapshot.checks}
    assert checks["failure_rate"].detail.startswith("1 of 8 failed")
    assert checks["failure_rate"].state == "red"  # 12.5%: the purged failure still counts
    assert checks["unrefunded_failures"].state == "green"

    report = analytics.collect_analytics(days=7)
    assert report.total_creations == 8
    assert report.failure_reasons == [("timed_out", 1)]
    assert {c["username"]: c["published"] for c in report.top_creators} == {
        "alice": 1,
        "bob": 1,
    }
    # Spent: alice's 5 images and bob's post; his failure and his canceled video refunded.
    assert report.total_tokens == 6


def test_a_canceled_creation_without_its_refund_alerts(alice):
    canceled = creation_in_state(owner=alice, status="processing")
    # The bug the check is for: canceled, but its refund never written.
    Creation.objects.filter(pk=canceled.pk).update(status="canceled")

    snapshot = ops_figures.collect(window="1h")

    assert snapshot.unrefunded_failures == 1
    check = {c.name: c for c in snapshot.checks}["unrefunded_failures"]
    assert check.state == "red"
    assert "1 failed or canceled creation(s) without a refund" in check.detail


def test_a_balance_that_drifted_from_the_ledger_shows_as_a_discrepancy(alice):
    TokenAccount.objects.filter(user=alice).update(balance=101)
    snapshot = ops_figures.collect(window="1h")
    assert [d.username for d in snapshot.discrepancies] == ["alice"]
    assert "token_discrepancies" in {c.name for c in snapshot.alerts_firing}


# --- pages ------------------------------------------------------------------------------


def test_the_metrics_page_is_for_staff_only(client, alice, plain_staff):
    url = reverse("staff_metrics")
    assert client.get(url).status_code == 302
    client.force_login(alice)
    assert client.get(url).status_code == 302
    client.force_login(plain_staff)
    assert client.get(url).status_code == 200


def test_the_metrics_page_shows_the_checks_red_and_green(client, plain_staff, alice):
    creation_in_state(owner=alice, status="failed", error_code="storage_failed", refunded=False)
    client.force_login(plain_staff)

    response = client.get(reverse("staff_metrics"), {"window": "7d"})

    page = response.content.decode()
    assert response.context["snapshot"].window == "7d"
    assert 'data-check="storage_failures" data-state="red"' in page
    assert 'data-check="unrefunded_failures" data-state="red"' in page
    assert 'data-check="queue_depth" data-state="green"' in page
    assert 'data-check="token_discrepancies" data-state="green"' in page
    assert "0.0%" in page  # the refund rate of one unrefunded failure


def test_the_metrics_page_shows_cancels_apart_and_a_column_for_every_status(
    client, plain_staff, alice
):
    for _ in range(2):
        services.creation_cancel(creation=creation_in_state(owner=alice, status="pending"))
    creation_in_state(owner=alice, status="draft")
    client.force_login(plain_staff)

    response = client.get(reverse("staff_metrics"))

    page = response.content.decode()
    assert response.status_code == 200
    canceled = page.split('data-figure="canceled">')[1].split("</div>")[0]
    assert canceled == '<h3>Canceled</h3><div class="figure">2'
    assert "1 succeeded, 0 failed" in page
    assert 'data-check="failure_rate" data-state="green"' in page
    for label in Creation.Status.labels:
        assert f'<th class="num">{label}</th>' in page


def test_the_admin_index_links_the_operations_pages(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    for name in ("staff_metrics", "staff_analytics", "admin:django_rq_home"):
        assert reverse(name) in page
    assert admin_client.get(reverse("admin:django_rq_home")).status_code == 200


def test_the_analytics_page_shows_days_top_creators_and_failure_reasons(
    client, plain_staff, alice, bob
):
    creation_in_state(owner=alice, kind="video", status="published")
    creation_in_state(owner=alice, status="draft")
    creation_in_state(owner=bob, status="draft")
    creation_in_state(owner=bob, status="failed", error_code="policy_violation")
    client.force_login(plain_staff)

    response = client.get(reverse("staff_analytics"), {"days": "7"})

    analytics = response.context["analytics"]
    assert analytics.total_creations == 4
    assert analytics.total_tokens == 12  # 10 + 1 + 1 spent, bob's failure refunded
    assert [(c["username"], c["tokens_spent"], c["published"]) for c in analytics.top_creators] == [
        ("alice", 11, 1),
        ("bob", 1, 0),
    ]
    assert analytics.failure_reasons == [("policy_violation", 1)]
    page = response.content.decode()
    assert page.count('<svg class="ops-chart"') == 4
    assert "<script src=" not in page.split("<body")[1].split("</svg>")[0]


def test_counting_creations_past_their_deadline_is_one_query(alice, django_assert_num_queries):
    now = timezone.now()
    old = timedelta(hours=3)
    creation_in_state(owner=alice, status="pending", age=old)
    requeued = creation_in_state(owner=alice, status="pending", age=old)
    Creation.objects.filter(pk=requeued.pk).update(requeued_at=now)  # sent again just now
    creation_in_state(owner=alice, status="processing", age=old)
    remote = creation_in_state(owner=alice, kind="video", status="processing", age=old)
    Creation.objects.filter(pk=remote.pk).update(provider_task_id="task-1")

    with django_assert_num_queries(1):
        count = ops_figures.past_deadline_count(now=now)

    assert count == 3  # the one sent again just now is not late


def test_the_success_chart_draws_a_line_per_type_that_breaks_on_days_without_an_end():
    first = date(2025, 1, 1)
    counts = {
        (first, "image"): analytics.DaySuccess(1, 1),
        (date(2025, 1, 2), "image"): analytics.DaySuccess(1, 2),
        (date(2025, 1, 4), "image"): analytics.DaySuccess(0, 3),
        (date(2025, 1, 2), "video"): analytics.DaySuccess(0, 0),
    }
    chart = analytics.success_chart(counts, first=first, last=date(2025, 1, 4), height=130)
    image, video = chart.lines
    # 100% at the top rule, 50% at the middle one, 0% on the baseline.
    assert [p.y for p in image.points] == [chart.grid[0][0], chart.grid[1][0], chart.baseline]
    # The 3rd has no point: the line is picked up again with a move, not drawn across.
    assert image.path.count("M") == 2 and image.path.count("L") == 1
    assert image.points[1].label == "2025-01-02: 50.0% (1 of 2)"
    assert video.points == [] and video.path == ""
    assert chart.description == (
        "Images: 33.3% over the period (2 of 6), lowest 0.0% on 2025-01-04. "
        "Videos: nothing ended in the period."
    )
    assert (image.marker, video.marker) == ("circle", "square") and video.dash
