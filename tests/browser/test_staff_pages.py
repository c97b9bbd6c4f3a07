"""Staff pages in a real browser: the admin (with the creation's media preview and the
balance adjustment), metrics and analytics render and nothing on them breaks our CSP (the
page fixture fails the test on any Content-Security-Policy refusal)."""

import random
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Page, expect

from creations.models import Creation
from ops import rollup
from profiles.services import creator_signup

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]


def test_staff_pages_render_under_the_csp(page: Page, make_creation, screenshot):
    staff = get_user_model().objects.create_superuser("root", password="root-password-123")
    creator = creator_signup(username="maker", password="maker-password-123")
    draft = make_creation(owner=creator, status="draft")

    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", "root-password-123")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_be_visible()
    screenshot(page, "admin-index")

    page.goto(f"/admin/creations/creation/{draft.pk}/change/")
    expect(page.locator("img[alt='a red fox in the snow']")).to_be_visible()
    page.goto(f"/admin/tokens/tokenaccount/{creator.token_account.pk}/adjust/")
    expect(page.locator("input[value='Adjust balance']")).to_be_visible()
    page.goto("/staff/metrics")
    expect(page.get_by_text("Balance discrepancies")).to_be_visible()
    screenshot(page, "metrics")
    page.goto("/staff/analytics")
    expect(page.locator("svg").first).to_be_visible()
    screenshot(page, "analytics")
    assert Creation.objects.filter(pk=draft.pk, status="draft").exists()


def thirty_days_of_activity(owner) -> None:
    """A month of creations of both types, some failed or canceled (and refunded), with
    their ledger rows on the days they happened (the services stamp rows with now)."""
    rng = random.Random(7)
    now = timezone.now()
    # Each on its own UTC day (the page's days), whatever the time the test runs at: a
    # creation "10 hours ago" just after midnight would fall on yesterday.
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    account = owner.token_account
    for days_ago in range(29, -1, -1):
        latest = int((now - midnight).total_seconds()) - 60 if days_ago == 0 else 86_399
        for _ in range(rng.randint(3, 12)):
            kind = "video" if rng.random() < 0.3 else "image"
            status = rng.choices(["draft", "published", "failed", "canceled"], [6, 3, 1, 0.5])[0]
            created_at = midnight - timedelta(
                days=days_ago, seconds=-rng.randint(0, max(0, latest))
            )
            finished = status in ("draft", "published")
            creation = Creation.objects.create(
                owner=owner,
                kind=kind,
                prompt="a red fox in the snow",
                cost=settings.PHOENIX_COSTS[kind],
                created_at=created_at,
                status=status,
                media="creations/fixture.png" if finished else "",
                progress=100 if finished else 0,
                processing_at=created_at + timedelta(seconds=1),
                draft_at=created_at + timedelta(seconds=12) if finished else None,
                published_at=created_at + timedelta(minutes=1) if status == "published" else None,
                error_code="timed_out" if status == "failed" else "",
            )
            moves = [("debit", -creation.cost, created_at)]
            if not finished:
                moves.append(("refund", creation.cost, created_at + timedelta(seconds=30)))
            with connection.cursor() as cursor:
                for kind_, amount, at in moves:
                    cursor.execute(
                        "INSERT INTO tokens_ledgerentry (account_id, kind, amount, balance_after,"
                        " creation_id, reason, created_at) VALUES (%s, %s, %s, 0, %s, '', %s)",
                        [account.pk, kind_, amount, creation.pk, at],
                    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_analytics_page_draws_its_trends_as_charts(page: Page, screenshot, scheme):
    staff = get_user_model().objects.create_superuser("root", password="root-password-123")
    creator = creator_signup(username="maker", password="maker-password-123")
    thirty_days_of_activity(creator)
    # Most of it from the rollups, the last minutes from the tail.
    rollup.rollup_run()
    page.emulate_media(color_scheme=scheme)
    page.goto("/admin/login/?next=/staff/analytics")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", "root-password-123")
    page.get_by_role("button", name="Log in").click()

    for name in (
        "Creations per day",
        "Tokens spent per day",
        "Refunds per day",
        "Success rate per day and type",
    ):
        chart = page.get_by_role("img", name=name)
        expect(chart).to_be_visible()
        # Its sentence for screen readers names the period's days.
        expect(chart.locator("desc")).to_contain_text("Images" if "Success" in name else "days")
    success = page.get_by_role("img", name="Success rate per day and type")
    assert success.locator(".ops-series--image circle").count() >= 25
    assert success.locator(".ops-series--video rect").count() >= 10
    # The numbers behind the bars are there for screen readers, and the table stays.
    expect(page.get_by_role("table", name="Refunds per day")).to_be_attached()
    expect(page.locator("#success-trend + figure + table tbody tr")).to_have_count(30)
    screenshot(page, f"analytics-charts-{scheme}")
