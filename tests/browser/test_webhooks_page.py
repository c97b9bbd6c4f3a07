"""The webhooks settings page in a real browser: add an endpoint (its secret shown once),
deliveries made by the real delivery job to a local receiver, the log (delivered, waiting
for a retry, failed) and Resend; axe-core on the way."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect
from werkzeug import Response

from tests.browser.conftest import assert_accessible, serve_axe
from tests.browser.test_creator_flow import sign_up
from tests.conftest import run_worker_burst
from webhooks import services
from webhooks.models import WebhookEndpoint

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]


@pytest.fixture
def page(page: Page) -> Page:
    serve_axe(page.context)
    return page


def test_add_an_endpoint_then_read_its_delivery_log_and_resend(
    page: Page, screenshot, httpserver, settings
):
    # The live server runs in this process: a loopback receiver is allowed for this test.
    settings.PHOENIX_WEBHOOKS_ALLOW_PRIVATE = True
    settings.PHOENIX_WEBHOOK_TIMEOUT = 2

    def answer(request):
        kind = request.get_json()["data"].get("answer", 204)
        return Response("", status=kind)

    httpserver.expect_request("/phoenix-hook").respond_with_handler(answer)

    username = sign_up(page)
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Deliveries")
    assert_accessible(page, "webhooks (none)")

    page.get_by_label("Endpoint URL").fill(httpserver.url_for("/phoenix-hook"))
    page.get_by_label(re.compile(r"^creation\.finished")).check()
    page.get_by_label(re.compile(r"^tokens\.low")).check()
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.locator("#new-secret").inner_text().strip()
    assert secret.startswith("whsec_")
    endpoint = WebhookEndpoint.objects.get(owner__username=username)
    assert endpoint.secret == secret
    assert_accessible(page, "webhooks (secret shown)")
    screenshot(page, "webhooks-01-endpoint-added")

    owner = get_user_model().objects.get(username=username)
    for key, answer_with in (("ok", 204), ("busy", 503), ("refused", 400)):
        services.event_emit(
            owner_id=owner.pk,
            event_type="tokens.low",
            key=key,
            data={"balance": 3, "threshold": 10, "answer": answer_with},
        )
    run_worker_burst()  # the real delivery job, in this process

    page.reload()
    expect(page.locator("#new-secret")).to_have_count(0)  # shown once
    rows = page.locator("table.webhook-log tbody tr")
    expect(rows).to_have_count(3)
    log = page.locator("table.webhook-log")
    expect(log).to_contain_text("Delivered")
    expect(log).to_contain_text("204")
    expect(log).to_contain_text("Waiting")  # the 503, for a retry
    expect(log).to_contain_text("HTTP 503")
    expect(log).to_contain_text("Failed")  # the 400, not retried
    assert_accessible(page, "webhooks (delivery log)")
    screenshot(page, "webhooks-02-delivery-log")

    failed = rows.filter(has_text="HTTP 400")
    failed.get_by_role("button", name=re.compile("^Resend")).click()
    expect(rows.filter(has_text="HTTP 400")).to_have_count(0)
    expect(log).to_contain_text("Waiting")
    run_worker_burst()
    page.reload()
    expect(page.locator("table.webhook-log tbody tr").filter(has_text="HTTP 400")).to_have_count(1)
    assert len([r for r, _ in httpserver.log if r.path == "/phoenix-hook"]) == 4
