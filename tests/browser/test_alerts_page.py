"""The staff alerts page in a real browser: an open incident (its e-mail delivered, its
webhook failing), a resolved one, and a silence made with the page's own form and ended
with its button, all under the CSP (the page fixture fails on any refusal)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import Page, expect

from ops.models import AlertDelivery, AlertRunner, Incident, Silence

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]


def incidents() -> None:
    now = timezone.now()
    AlertRunner.objects.create(id=1, snapshot_at=now, ran_at=now, window="1h")
    firing = Incident.objects.create(
        check_name="queue_depth",
        label="Queue depth ≤ 50",
        detail="images 137, videos 4, default 0",
        opened_at=now - timedelta(minutes=23),
        last_seen_at=now,
        open_notified_at=now - timedelta(minutes=23),
    )
    AlertDelivery.objects.create(
        incident=firing,
        event="opened",
        channel="email",
        created_at=firing.opened_at,
        delivered_at=firing.opened_at + timedelta(seconds=1),
        attempts=1,
    )
    AlertDelivery.objects.create(
        incident=firing,
        event="opened",
        channel="webhook",
        created_at=firing.opened_at,
        attempts=23,
        last_error="ConnectError: [Errno 111] Connection refused",
    )
    resolved = Incident.objects.create(
        check_name="storage_failures",
        label="No storage upload failures",
        detail="3 in the window",
        opened_at=now - timedelta(hours=6, minutes=10),
        last_seen_at=now - timedelta(hours=5),
        resolved_at=now - timedelta(hours=5),
        open_notified_at=now - timedelta(hours=6, minutes=10),
        resolve_notified_at=now - timedelta(hours=5),
    )
    for event, at in (("opened", resolved.opened_at), ("resolved", resolved.resolved_at)):
        for channel in ("email", "webhook"):
            AlertDelivery.objects.create(
                incident=resolved,
                event=event,
                channel=channel,
                created_at=at,
                delivered_at=at + timedelta(seconds=1),
                attempts=1,
            )


def test_staff_see_incidents_and_silence_a_check(page: Page, screenshot, settings):
    settings.PHOENIX_ALERT_EMAILS = ["ops@example.com"]
    settings.PHOENIX_ALERT_WEBHOOK_URL = "https://hooks.example.com/T000/B000/x"
    staff = get_user_model().objects.create_superuser("root", password="root-password-123")
    incidents()

    page.goto("/admin/login/?next=/staff/alerts")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", "root-password-123")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Open incidents")).to_be_visible()
    expect(page.locator("#open-incidents")).to_contain_text("images 137, videos 4, default 0")
    expect(page.locator("#open-incidents")).to_contain_text("not delivered (23 tries")
    expect(page.locator("#past-incidents")).to_contain_text("No storage upload failures")

    # Silence the failing-webhook incident's check with the form, as staff would.
    page.get_by_label("Check", exact=True).select_option("queue_depth")
    page.get_by_label("For", exact=True).select_option("4h")
    page.get_by_label("Reason", exact=True).fill(
        "Queue backlog after the provider outage, draining"
    )
    page.get_by_role("button", name="Silence", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("(queue_depth) silenced until")
    expect(page.locator("#silences")).to_contain_text("Queue backlog after the provider outage")
    expect(page.locator("#open-incidents .ops-badge--silenced")).to_have_text("SILENCED")
    path = screenshot(page, "staff-alerts")
    assert path.exists()

    # A reason left empty is refused by the browser before it is sent; the server's own
    # refusal is tested without a browser (tests/ops/test_alerting_views.py).
    page.get_by_role("button", name="End the silence of queue_depth now").click()
    expect(page.get_by_text("No check is silenced.")).to_be_visible()
    expect(page.locator("#open-incidents .ops-badge--red")).to_have_text("FIRING")
    assert Silence.objects.get().ended_by == staff
