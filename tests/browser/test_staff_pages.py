"""Staff pages in a real browser: the admin (with the creation's media preview and the
balance adjustment), metrics and analytics render and nothing on them breaks our CSP (the
page fixture fails the test on any Content-Security-Policy refusal)."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from creations.models import Creation
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
