"""Chromium (Debian's package, never a downloaded one) driving the live server, with a real
`rqworker` subprocess on the test database."""

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.conftest import QUEUE_NAMES, ROOT, worker_environment

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUT = ROOT / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
# axe-core, vendored from the npm registry (tests/browser/vendor/README.md): nothing is
# fetched at test time.
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# Where the page asks for it. The browser context answers this path itself (it never reaches
# the server), so to the page it is a script from 'self' and our CSP (script-src 'self', no
# inline scripts) lets it run: the CSP stays fully on while axe checks the page.
AXE_PATH = "/__tests__/axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = ("serious", "critical")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Debian's chromium is not installed: apt-get install -y chromium")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
    # meanwhile are ordinary blocking ones.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture
def context_options() -> dict:
    """More options for the browser context; a test module may override this fixture (say,
    with a time zone other than the server's UTC)."""
    return {}


@pytest.fixture
def page(browser: Browser, live_server, context_options) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, base_url=live_server.url, **context_options
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    # Whatever the test did, nothing on the page was refused by our Content-Security-Policy.
    assert blocked == []


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def serve_axe(context: BrowserContext) -> None:
    """Let every page of this context load axe-core (see AXE_PATH)."""
    context.route(
        f"**{AXE_PATH}",
        lambda route: route.fulfill(path=AXE, content_type="text/javascript; charset=utf-8"),
    )


def axe_violations(page: Page) -> list[dict]:
    """Run axe-core on the page as it is now, on the WCAG 2.0/2.1 A and AA rules; every
    violation, whatever its impact. The page's context must have had serve_axe()."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(url=AXE_PATH)
    return page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({
                    target: n.target.join(" "), impact: n.impact, summary: n.failureSummary,
                })),
            }));
        }""",
        AXE_TAGS,
    )


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


def assert_accessible(page: Page, where: str = "") -> list[dict]:
    """Fail on any serious or critical axe-core violation, naming each (rule, impact, the
    element, axe's summary of what is wrong). Returns all the violations, minor ones too."""
    violations = axe_violations(page)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, (
        f"axe-core: {len(blocking)} serious/critical violation(s) on {where or page.url}:\n"
        + describe_violations(blocking)
    )
    return violations


@pytest.fixture
def worker(transactional_db, live_server) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start a long-running `manage.py rqworker` when the test says so (so the test can see
    a card still pending first), with RQ's scheduler if asked; it is stopped, with its work
    horses, at the end."""
    started: list[subprocess.Popen] = []
    OUTPUT.mkdir(parents=True, exist_ok=True)

    def start(*, delay: float = 2.0, scheduler: bool = False) -> subprocess.Popen:
        log = open(OUTPUT / "browser-worker.log", "ab")  # noqa: SIM115 - closed with the process
        # With RQ's scheduler, as production runs it: it moves jobs enqueued for a time
        # (scheduled posts) onto their queue when the time comes.
        options = ["--with-scheduler"] if scheduler else []
        process = subprocess.Popen(
            [sys.executable, "manage.py", "rqworker", *QUEUE_NAMES, *options],
            cwd=ROOT,
            env=worker_environment(PHOENIX_LOCAL_PROVIDER_DELAY=str(delay)),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        started.append(process)
        return process

    yield start

    for process in started:
        stop_process_group(process)


def stop_process_group(process: subprocess.Popen) -> None:
    """Stop the worker and its forked work horse: they share the session we started."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # whatever is left of the group
    except ProcessLookupError:
        pass
    process.wait(timeout=5)


@pytest.fixture
def open_page_as(browser: Browser, live_server) -> Iterator[Callable[..., Page]]:
    """A page at `size` (a desk's by default), logged in as `user` by its session cookie
    (anonymous without one), with axe-core served to it."""
    contexts = []

    def open_page(user=None, *, size=None, **options) -> Page:
        viewport = size or {"width": 1280, "height": 900}
        context = browser.new_context(viewport=viewport, base_url=live_server.url, **options)
        context.set_default_timeout(10_000)
        serve_axe(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
            )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
