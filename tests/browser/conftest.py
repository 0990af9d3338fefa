"""Playwright (sync API) against pytest-django's ``live_server``, in Debian's Chromium.

One browser per session, a fresh context (cookies, storage) per test. The browser is never
downloaded: it is the system's ``/usr/bin/chromium``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests.factories import PASSWORD

# Playwright's sync API runs an event loop in the test thread; Django would then refuse ORM calls
# made by the test itself (factories, assertions on the database) as "async unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path(os.environ.get("SKAM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


# Chromium reports what the Content-Security-Policy blocked on the console ("Refused to execute
# inline script because it violates the following Content Security Policy directive…"); the
# listener below reports too what it blocked without a console line (an inline style, say).
CSP_VIOLATIONS_REPORTED = """
document.addEventListener("securitypolicyviolation", (event) => {
  const what = `${event.violatedDirective} ${event.blockedURI}`;
  console.error(`Content Security Policy violation: ${what}`);
});
"""


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    """A page in a fresh context (no cookies), English UI, with ``live_server`` as base URL.
    The test fails if the Content-Security-Policy blocked anything on any page it opened."""
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport=VIEWPORT, timezone_id="Europe/Moscow"
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    context.add_init_script(CSP_VIOLATIONS_REPORTED)
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()
    assert not violations, "the Content-Security-Policy blocked:\n" + "\n".join(violations)


def login(page: Page, live_server, username: str, password: str = PASSWORD) -> None:
    """Log in through the real login form and wait until the home page is shown."""
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("current-user")).to_be_visible()
