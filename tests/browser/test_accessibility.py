"""Every creator page and the staff pages, in each state a person meets them, checked by
axe-core (Deque's checker, vendored: tests/browser/vendor) on the WCAG 2.0/2.1 A and AA
rules: no serious or critical violation anywhere, at desktop width and on a phone.

One browser context is reused for the whole module (axe is served to it at a same-origin
path, so the site's CSP stays on); each case makes its data through the services, logs in
by session cookie and opens its page.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Browser, BrowserContext, Page, expect

from creations import services
from creations.models import Creation
from profiles.services import creator_signup
from sharing.services import comment_post, share_with_person
from tests.browser.conftest import (
    OUTPUT,
    SCREENSHOTS,
    assert_accessible,
    axe_violations,
    serve_axe,
)
from tests.browser.test_lifecycle_flow import make_drafts
from tests.conftest import staff_adjust
from tests.tokens.conftest import ensure_packs
from tokens.models import Purchase, TokenPack

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]

PASSWORD = "Phoenix-rises-at-dawn-42"
DESKTOP = 1280
PHONE = 390


@pytest.fixture(scope="module")
def a11y_context(browser: Browser, live_server) -> Iterator[BrowserContext]:
    context = browser.new_context(
        viewport={"width": DESKTOP, "height": 900}, base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    serve_axe(context)
    yield context
    context.close()


@pytest.fixture(scope="module")
def a11y_page(a11y_context: BrowserContext) -> Page:
    page = a11y_context.new_page()
    page.csp_refusals = []  # what our Content-Security-Policy refused, per case
    page.on(
        "console",
        lambda message: (
            page.csp_refusals.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return page


@dataclass
class Scene:
    page: Page
    make_creation: Callable
    base_url: str
    settings: object

    def creator(self, username: str = "maya"):
        return creator_signup(username=username, password=PASSWORD)

    def log_in(self, user) -> None:
        """A session made on the server, handed to the browser (faster than the form)."""
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.page.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": cookie,
                    "url": self.base_url,
                }
            ]
        )

    def open(self, path: str) -> None:
        self.page.goto(path)
        self.page.wait_for_load_state("load")

    def tab(self, username: str, tab: str) -> None:
        self.open(f"/soho/{username}?tab={tab}")


def published(scene: Scene, owner, *prompts: str) -> list[Creation]:
    posts = []
    for index, prompt in enumerate(prompts):
        posts.append(
            scene.make_creation(
                owner=owner,
                status="published",
                prompt=prompt,
                caption=f"Caption number {index + 1}, with a #tag",
            )
        )
    return posts


# ---------------------------------------------------------------- the cases, one a function

CASES: dict[str, Callable[[Scene], None]] = {}


def case(function: Callable[[Scene], None]) -> Callable[[Scene], None]:
    CASES[function.__name__] = function
    return function


@case
def feed_as_visitor(scene: Scene) -> None:
    maya = scene.creator()
    published(scene, maya, "A lighthouse at dusk", "Waves on black sand")
    scene.open("/")
    expect(scene.page.locator("article").first).to_be_visible()


@case
def feed_logged_in(scene: Scene) -> None:
    maya = scene.creator()
    published(scene, maya, "A lighthouse at dusk", "Waves on black sand")
    scene.make_creation(owner=maya, status="published", kind="video", caption="Moving")
    scene.log_in(scene.creator("viewer"))
    scene.open("/")
    expect(scene.page.locator("#nav-balance")).to_be_visible()


@case
def log_in(scene: Scene) -> None:
    scene.open("/accounts/login/")


@case
def log_in_with_error(scene: Scene) -> None:
    scene.creator()
    scene.open("/accounts/login/")
    scene.page.fill("#id_username", "maya")
    scene.page.fill("#id_password", "not-the-password")
    scene.page.get_by_role("button", name="Log in").click()
    expect(scene.page.get_by_role("alert")).to_contain_text("do not match an account")


@case
def sign_up(scene: Scene) -> None:
    scene.open("/accounts/signup/")


@case
def sign_up_with_errors(scene: Scene) -> None:
    scene.creator()
    scene.open("/accounts/signup/")
    scene.page.fill("#id_username", "maya")
    scene.page.fill("#id_email", "not-an-address")
    scene.page.fill("#id_password1", "password")
    scene.page.fill("#id_password2", "password")
    scene.page.get_by_role("button", name="Create account").click()
    expect(scene.page.locator(".errorlist").first).to_be_visible()


@case
def password_reset(scene: Scene) -> None:
    scene.open("/accounts/password_reset/")


@case
def password_reset_sent(scene: Scene) -> None:
    scene.open("/accounts/password_reset/")
    scene.page.fill("#id_email", "maya@example.com")
    scene.page.get_by_role("button", name="Send me the link").click()
    expect(scene.page.locator("h1")).to_have_text("Check your e-mail")


@case
def password_reset_new_password_with_errors(scene: Scene) -> None:
    maya = scene.creator()
    uid = urlsafe_base64_encode(force_bytes(maya.pk))
    scene.open(f"/accounts/reset/{uid}/{default_token_generator.make_token(maya)}/")
    scene.page.fill("#id_new_password1", "password")
    scene.page.fill("#id_new_password2", "passwort")
    scene.page.get_by_role("button", name="Set my password").click()
    expect(scene.page.locator(".errorlist").first).to_be_visible()


@case
def password_reset_bad_link(scene: Scene) -> None:
    scene.open("/accounts/reset/MQ/not-a-token/")


@case
def create_image(scene: Scene) -> None:
    scene.log_in(scene.creator())
    scene.open("/create")
    scene.page.fill("#prompt", "A phoenix over a neon city at dusk")


@case
def create_video(scene: Scene) -> None:
    scene.log_in(scene.creator())
    scene.open("/create")
    scene.page.locator("label:has(input[value='video'])").click()
    expect(scene.page.locator("[data-cost-label]")).to_contain_text("10")


@case
def create_with_error(scene: Scene) -> None:
    # The server refuses (one creation at a time here, and one is still queued): the
    # error is the server's, shown on the form.
    scene.settings.PHOENIX_MAX_IN_FLIGHT = 1
    maya = scene.creator()
    scene.make_creation(owner=maya, status="pending")
    scene.log_in(maya)
    scene.open("/create")
    scene.page.fill("#prompt", "A phoenix over a neon city at dusk")
    scene.page.locator("button[type=submit].create-form__submit").click()
    expect(scene.page.locator("#create-error")).to_be_visible()


@case
def create_out_of_tokens(scene: Scene) -> None:
    maya = scene.creator()
    staff_adjust(user=maya, amount=-maya.token_account.balance, reason="Spent elsewhere")
    scene.log_in(maya)
    scene.open("/create")
    expect(scene.page.locator("#out-of-tokens")).to_be_visible()


def drafts_of_every_kind(scene: Scene):
    maya = scene.creator()
    make_drafts("maya", "A paper boat on a rainy window sill")
    scene.make_creation(owner=maya, status="draft", kind="video", prompt="Waves, slow motion")
    scene.make_creation(owner=maya, status="failed", code="provider_unavailable", kind="video")
    scene.make_creation(owner=maya, status="processing", progress=40, prompt="A fox in snow")
    scene.make_creation(owner=maya, status="pending", prompt="A city of glass at noon")
    scene.log_in(maya)
    return maya


@case
def drafts_tab(scene: Scene) -> None:
    drafts_of_every_kind(scene)
    scene.tab("maya", "drafts")
    expect(scene.page.locator("article.card")).to_have_count(5)


@case
def drafts_tab_publish_form_open(scene: Scene) -> None:
    drafts_of_every_kind(scene)
    scene.tab("maya", "drafts")
    scene.page.locator("details.publish summary").first.click()
    expect(scene.page.locator("details.publish[open] textarea").first).to_be_visible()


@case
def posts_tab(scene: Scene) -> None:
    maya = scene.creator()
    published(scene, maya, "A lighthouse at dusk", "Waves on black sand")
    scene.make_creation(
        owner=maya,
        status="scheduled",
        prompt="Tomorrow's post",
        publish_at=timezone.now() + timedelta(days=1),
    )
    scene.make_creation(owner=maya, status="taken_down", prompt="Against the rules")
    scene.log_in(maya)
    scene.tab("maya", "posts")


@case
def post_page(scene: Scene) -> None:
    maya = scene.creator()
    (post,) = published(scene, maya, "A lighthouse at dusk")
    scene.log_in(scene.creator("viewer"))
    scene.open(f"/p/{post.id}")


@case
def trash_tab(scene: Scene) -> None:
    maya = scene.creator()
    for prompt in ("A discarded sketch", "Another try"):
        services.creation_trash(creation=scene.make_creation(owner=maya, prompt=prompt))
    scene.log_in(maya)
    scene.tab("maya", "trash")


@case
def token_history(scene: Scene) -> None:
    maya = scene.creator()
    scene.make_creation(owner=maya, prompt="A lighthouse")
    scene.make_creation(owner=maya, status="failed", kind="video", code="provider_unavailable")
    scene.make_creation(owner=maya, status="canceled", kind="video")
    staff_adjust(user=maya, amount=5, reason="Sorry for Monday's outage")
    scene.log_in(maya)
    scene.open("/tokens")


@case
def token_buy(scene: Scene) -> None:
    ensure_packs()
    maya = scene.creator()
    scene.log_in(maya)
    scene.open("/tokens/buy")


@case
def token_purchase_waiting(scene: Scene) -> None:
    """Back from Checkout before Stripe's event: the page that polls."""
    ensure_packs()
    maya = scene.creator()
    pack = TokenPack.objects.get(slug="creator")
    purchase = Purchase.objects.create(
        account=maya.token_account,
        pack=pack,
        tokens=pack.tokens,
        amount=pack.price,
        currency=pack.currency,
        checkout_session_id="cs_test_a11y",
    )
    scene.log_in(maya)
    scene.open(f"/tokens/purchases/{purchase.pk}")


def shared_draft_with_comments(scene: Scene):
    maya = scene.creator()
    ben = scene.creator("ben")
    (draft,) = make_drafts("maya", "A paper boat on a rainy window sill")
    share_with_person(creation=draft, owner=maya, username="ben")
    comment_post(creation=draft, author=ben, text="Love the light! Maybe warmer?")
    comment_post(creation=draft, author=maya, text="Thanks! Trying a warmer one next.")
    return maya, ben, draft


@case
def notifications_page(scene: Scene) -> None:
    maya, ben, _ = shared_draft_with_comments(scene)
    scene.make_creation(owner=ben, status="failed", kind="video", code="provider_unavailable")
    scene.log_in(ben)
    scene.open("/notifications")


@case
def sharing_panel(scene: Scene) -> None:
    maya, _, draft = shared_draft_with_comments(scene)
    scene.log_in(maya)
    scene.open(f"/creations/{draft.id}/sharing")


@case
def shared_with_me_tab(scene: Scene) -> None:
    _, ben, _ = shared_draft_with_comments(scene)
    scene.log_in(ben)
    scene.tab("ben", "shared")


@case
def shared_page_with_comments(scene: Scene) -> None:
    _, ben, draft = shared_draft_with_comments(scene)
    scene.log_in(ben)
    scene.open(f"/creations/{draft.id}/shared")
    expect(scene.page.locator("#thread .comment")).to_have_count(2)


def staff_with_activity(scene: Scene):
    staff = get_user_model().objects.create_superuser("root", password=PASSWORD)
    maya = scene.creator()
    scene.make_creation(owner=maya, status="published")
    scene.make_creation(owner=maya, status="failed", code="provider_unavailable")
    scene.make_creation(owner=maya, status="draft", kind="video")
    scene.log_in(staff)
    return staff


@case
def staff_metrics(scene: Scene) -> None:
    staff_with_activity(scene)
    scene.open("/staff/metrics")


@case
def staff_analytics(scene: Scene) -> None:
    staff_with_activity(scene)
    scene.open("/staff/analytics")


@case
def staff_alerts(scene: Scene) -> None:
    staff_with_activity(scene)
    scene.open("/staff/alerts")


@case
def admin_index(scene: Scene) -> None:
    staff_with_activity(scene)
    scene.open("/admin/")
    expect(scene.page.locator("#site-name")).to_be_visible()


# The pages a phone meets most, again at 390 px (the layout changes there).
ON_PHONE = [
    "feed_logged_in",
    "sign_up_with_errors",
    "create_image",
    "drafts_tab",
    "shared_page_with_comments",
    "token_history",
    "token_buy",
    "notifications_page",
]
# Looked at by a person after a colour change: the brand must stay recognisable.
SCREENSHOTS_OF = {"create_image", "drafts_tab", "staff_metrics", "sign_up_with_errors"}


@pytest.mark.parametrize(
    ("name", "width"),
    [(name, DESKTOP) for name in CASES] + [(name, PHONE) for name in ON_PHONE],
    ids=lambda value: str(value),
)
def test_page_has_no_serious_accessibility_violation(
    a11y_page: Page, live_server, make_creation, settings, name: str, width: int
):
    page = a11y_page
    page.context.clear_cookies()
    page.goto("about:blank")
    page.set_viewport_size({"width": width, "height": 900})
    page.csp_refusals.clear()

    CASES[name](
        Scene(page=page, make_creation=make_creation, base_url=live_server.url, settings=settings)
    )

    page.wait_for_timeout(150)  # toasts and HTMX swaps settle
    # Every violation, minor ones too, one JSON line a case (what the report counts by
    # rule), and the page as the browser holds it, for an HTML checker (vnu) to read.
    record = {"case": f"{name}-{width}", "violations": axe_violations(page)}
    # A fresh clone has no test-output folder yet.
    (OUTPUT / "a11y-html").mkdir(parents=True, exist_ok=True)
    with open(OUTPUT / "a11y-violations.jsonl", "a") as log:
        log.write(json.dumps(record) + "\n")
    (OUTPUT / "a11y-html" / f"{name}-{width}.html").write_text(page.content())
    assert_accessible(page, f"{name} at {width}px ({page.url})")
    if name in SCREENSHOTS_OF and width == DESKTOP:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(
            path=str(SCREENSHOTS / f"a11y-{name.replace('_', '-')}.png"), full_page=True
        )
    assert page.csp_refusals == []
