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
from playwright.sync_api import Browser, Page, sync_playwright

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


@pytest.fixture
def worker(transactional_db, live_server) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start a long-running `manage.py rqworker` when the test says so (so the test can see
    a card still pending first), with RQ's scheduler if asked; it is stopped, with its work
    horses, at the end."""
    started: list[subprocess.Popen] = []
    OUTPUT.mkdir(exist_ok=True)

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
