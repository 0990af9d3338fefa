"""The demo in a 1,366 px window and on a 390 px phone, in Russian and in English: Russian words
are longer than English ones, and no page may grow wider than the window for it (a long table
scrolls inside itself), nor a state's badge break over two lines; the administrator's navigation
stays on one line on a laptop and folds behind "Menu" on a phone; the charts speak the page's
language."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from skam.demo import DEMO_PASSWORD, demo_load
from tests.browser.conftest import TIMEOUT_MS
from tests.skam.russian_pages import ROLE_PAGES, demo_ids

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
# Every page of each role's day, and those that overflowed in Russian once.
EXTRA_PAGES = {
    "admin": ["/ruler/portfolio/", "/committee/dashboards/"],
    "director": ["/ruler/", "/committee/dashboards/account/{client}/"],
    "kam": ["/committee/dashboards/kam/{kam}/"],
}


def page_in(language: str, browser: Browser, live_server) -> Page:
    """A page of a fresh browser context in ``language``, signed in as nobody yet."""
    context = browser.new_context(
        base_url=live_server.url, locale=language, viewport=LAPTOP, timezone_id="Europe/Moscow"
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def sign_in_afresh(page: Page, language: str, live_server, username: str) -> None:
    """Signed in as ``username`` with none of the previous reader's cookies (their session
    included), and the language's: as in a fresh context, whose start-up (a renderer process,
    a third of a second) each of the five readers need not pay. The pages keep nothing in the
    browser's storage but cookies."""
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    log_in_by_ids(page, live_server, username)


def log_in_by_ids(page: Page, live_server, username: str) -> None:
    """Through the login form, by its fields' ids, which do not change with the language."""
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("button.primary[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")


MEASURE = (
    "[document.documentElement.scrollWidth,"
    " [...document.querySelectorAll('.card, table.data')]"
    ".filter(box => box.scrollWidth > box.clientWidth).length,"
    # A badge taller than two of its letters has broken over two lines ("Цель / достигнута").
    " [...document.querySelectorAll('.badge')].filter(badge =>"
    " badge.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(badge).fontSize))"
    ".map(badge => badge.textContent.trim())]"
)


def widths_of(page: Page, url: str, language: str) -> dict[int, tuple[int, int, list[str]]]:
    """By window width (the laptop's, then the phone's, on the same loaded page): the document's
    width, how many cards or tables scroll sideways to hold a wide table, and the badges that
    broke over two lines."""
    page.set_viewport_size(LAPTOP)
    page.goto(url)
    assert page.locator("html").get_attribute("lang") == language
    measured = {LAPTOP["width"]: page.evaluate(MEASURE)}
    page.set_viewport_size(PHONE)
    measured[PHONE["width"]] = page.evaluate(MEASURE)
    return measured


@pytest.mark.parametrize("language", ["ru", "en"])
def test_no_page_is_wider_than_a_laptop_window_or_a_phone(
    browser: Browser, live_server, language: str
) -> None:
    """Measured as each demo role, on its pages; the charts are checked on the way, since
    loading the demo is what takes the time."""
    demo_load(language=language)
    ids = {**demo_ids(), "kam": User.objects.get(username="kam").pk}
    too_wide, widths, broken_badges = {}, {}, {}
    page = page_in(language, browser, live_server)
    for username, pages in ROLE_PAGES.items():
        sign_in_afresh(page, language, live_server, username)
        for template in [*pages, *EXTRA_PAGES.get(username, [])]:
            url = template.format(**ids)
            for window, (width, scrolling, badges) in widths_of(page, url, language).items():
                widths[f"{window} {username} {url}"] = (width, scrolling)
                if width > window:
                    too_wide[f"{window} {username} {url}"] = width
                if badges:
                    broken_badges[f"{window} {username} {url}"] = badges
        if username == "director":
            page.goto("/committee/dashboards/")
            page.wait_for_function("window.skamDashboardCharts !== undefined")
            locales = page.evaluate(
                "Object.values(window.skamDashboardCharts).map(chart => chart.options.locale)"
            )
            assert locales, "the portfolio dashboard draws charts"
            assert set(locales) == {language}, "Chart.js writes numbers in the page's language"
        if username == "admin":
            page.set_viewport_size(LAPTOP)
            page.goto("/")
            middles = page.evaluate(
                "[...document.querySelectorAll('header nav li, .topbar-end')].map(item => {"
                " const box = item.getBoundingClientRect(); return (box.top + box.bottom) / 2; })"
            )
            assert max(middles) - min(middles) < 20, "the administrator's header wraps"
            expect(page.get_by_test_id("nav-toggle")).to_be_hidden()
            # On a phone the eleven sections fold behind one button, and open on a tap.
            page.set_viewport_size(PHONE)
            nav = page.locator("header nav")
            expect(nav).to_be_hidden()
            assert page.locator("header").bounding_box()["height"] < 60
            page.get_by_test_id("nav-toggle").click()
            expect(nav).to_be_visible()
            expect(page.get_by_test_id("current-user")).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.context.close()
    print(
        "\n".join(
            f"{w:>5} px, {boxes} box(es) scrolling: {at}" for at, (w, boxes) in widths.items()
        )
    )
    assert too_wide == {}
    assert broken_badges == {}
