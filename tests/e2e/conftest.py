import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import sync_playwright

from tests.e2e.pages import LAPTOP

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
# body are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """``new_page(viewport=PHONE)``: a fresh browser context (own cookies) on the live server."""
    contexts = []

    def _new(viewport=LAPTOP, **kwargs):
        context = browser.new_context(viewport=viewport, base_url=live_server.url, **kwargs)
        context.set_default_timeout(10_000)
        # The page's clock starts where the server's is (TEST_CLOCK, or a test's pinned
        # moment) and runs on, so "today" in the calendar is the server's today.
        context.clock.install(time=timezone.now())
        contexts.append(context)
        return context.new_page()

    yield _new
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    ARTIFACTS.mkdir(exist_ok=True)

    def _shot(page, name):
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return _shot
