"""Browser tests: Debian's Chromium driven by Playwright (sync API) against pytest-django's live server.

Fixtures for every module in this folder:

- `browser`: Chromium for one test, launched from /usr/bin/chromium (never a download).
  Missing, it skips with how to install it, unless PSP_REQUIRE_BROWSER=1 (set by .ci/run) makes
  that a failure.
- `site_url`: the live server's address. The database is transactional (the server runs in another
  thread) with serialized rollback, so rows written by data migrations (the PSP program, the staff
  groups) are restored for every test.
- `seeded`: the seed's 16 PSP enrollments built with the factories ({slug: enrollment}).
- `console_errors`: console errors and uncaught page errors seen by pages opened with `open_page`.
- `open_page(width=1280, height=900, javascript=True, **options)`: a new page in its own context, at
  that viewport, whose relative URLs go to the live server and whose console errors are collected;
  `options` go to Playwright's `new_context` (say `has_touch=True, is_mobile=True` for a phone).
- `page`: `open_page()` at desktop width. Any console error fails the test at teardown; a test that
  expects one (say, a 4xx page) empties `console_errors` itself.
"""

import os
from pathlib import Path

import pytest
from django.db import connections

from tests.factories import seed_psp_2017

# Playwright's sync API runs an event loop in this thread; Django refuses database calls from a
# thread with a running loop unless told that this is deliberate.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DESKTOP = 1280
PHONE = 375


def _unavailable(message):
    if os.environ.get("PSP_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{message} (PSP_REQUIRE_BROWSER=1: the browser tests must run here).")
    pytest.skip(message)


@pytest.fixture
def site_url(live_server, django_db_serialized_rollback):
    return live_server.url


@pytest.fixture
def browser(site_url):
    """Chromium for one test, started after the test database is set up and stopped before it is
    flushed.

    While Playwright runs, its event loop makes Django hand this thread other connection objects
    (connections are per task when a loop runs). Set up and torn down around the database
    fixtures, the test database's own connection (and its serialized rows) is the one that
    resets the data between tests, so every test starts with the data migrations' rows.
    """
    if not os.path.exists(CHROMIUM):
        _unavailable(f"{CHROMIUM} is missing: install Debian's Chromium with `apt-get install chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed: pip install -r requirements-dev.txt")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
            # Close the connections opened while the loop ran, so none outlives the test.
            for connection in connections.all(initialized_only=True):
                connection.close()


@pytest.fixture
def seeded(site_url):
    return seed_psp_2017()


@pytest.fixture
def console_errors():
    return []


@pytest.fixture
def open_page(site_url, browser, console_errors):
    contexts = []

    def open_page(width=DESKTOP, height=900, javascript=True, **options):
        context = browser.new_context(
            base_url=site_url,
            viewport={"width": width, "height": height},
            accept_downloads=True,
            java_script_enabled=javascript,
            **options,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on(
            "console",
            lambda message: (
                console_errors.append(f"{page.url}: {message.text}") if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: console_errors.append(f"{page.url}: {error}"))
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page, console_errors):
    page = open_page()
    yield page
    assert console_errors == [], "the pages logged console errors"


def fits_without_sideways_scrolling(page):
    return page.evaluate("document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth")
