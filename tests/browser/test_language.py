"""The language a person chose follows them to another browser: chosen in one, it is the one
they find after signing in on a browser that never saw SKAM and asks for English."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from tests.browser.conftest import TIMEOUT_MS, VIEWPORT, login
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_russian_chosen_in_one_browser_is_russian_after_signing_in_on_another(
    page: Page, browser: Browser, live_server
) -> None:
    person = UserFactory(username="nina", first_name="Nina", last_name="Orlova")
    login(page, live_server, "nina")
    page.locator("form.lang-switch button[value=ru]").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    assert User.objects.get(pk=person.pk).language == "ru"
    page.get_by_role("button", name="Выйти").click()
    expect(page).to_have_url(f"{live_server.url}/login/")

    fresh = browser.new_context(base_url=live_server.url, locale="en-US", viewport=VIEWPORT)
    fresh.set_default_timeout(TIMEOUT_MS)
    try:
        other = fresh.new_page()
        other.goto("/login/")
        expect(other.locator("html")).to_have_attribute("lang", "en")  # the browser's, first
        other.get_by_label("User name").fill("nina")
        other.get_by_label("Password").fill(PASSWORD)
        other.get_by_role("button", name="Log in", exact=True).click()
        expect(other).to_have_url(f"{live_server.url}/")
        expect(other.locator("html")).to_have_attribute("lang", "ru")
        expect(other.get_by_role("button", name="Выйти")).to_be_visible()
    finally:
        fresh.close()
