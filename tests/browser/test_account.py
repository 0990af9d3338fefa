"""One's own account in Chromium: a newcomer sets their first password through the e-mailed
link (nobody set one for them), and a signed-in person changes theirs from "My account"."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from knox.models import AuthToken
from playwright.sync_api import Page, expect

from tests.browser.conftest import login
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHOSEN = "Chosen-by-me-0nly"


def choose(page: Page, password: str) -> None:
    page.get_by_label(re.compile(r"^New password\W*$")).fill(password)
    page.get_by_label("New password confirmation").fill(password)


def test_a_newcomer_sets_their_first_password_through_the_link(page: Page, live_server) -> None:
    UserFactory(username="newkam", first_name="Nina", email="newkam@example.com", password=None)

    page.goto("/login/")
    page.get_by_role("link", name="Forgot your password, or never had one?").click()
    page.get_by_label("Email").fill("newkam@example.com")
    page.get_by_role("button", name="Send me the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")

    (letter,) = mail.outbox
    link = re.search(r"http://\S+/password/\S+/", letter.body).group(0)
    page.goto(link.replace("http://127.0.0.1:8000", live_server.url))
    choose(page, CHOSEN)
    page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_test_id("password-set")).to_contain_text("Your password is set")

    login(page, live_server, "newkam", CHOSEN)
    expect(page.get_by_test_id("current-user")).to_contain_text("Nina")


def test_i_change_my_password_from_my_account(page: Page, live_server, kam) -> None:
    login(page, live_server, kam.username)
    page.get_by_test_id("current-user").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My account")
    expect(page.get_by_test_id("my-roles")).to_have_text("Key-account manager")
    page.get_by_role("link", name="Change my password").click()

    page.get_by_label("Old password").fill("not my password")
    choose(page, CHOSEN)
    page.get_by_role("button", name="Change my password").click()
    expect(page.get_by_role("alert").first).to_contain_text("old password was entered incorrectly")

    page.get_by_label("Old password").fill("correct horse battery staple")
    choose(page, CHOSEN)
    page.get_by_role("button", name="Change my password").click()
    expect(page.get_by_test_id("password-changed")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    login(page, live_server, kam.username, CHOSEN)


def test_guessing_a_password_locks_the_login_out(page: Page, live_server, kam, settings) -> None:
    page.goto("/login/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        page.get_by_label("User name").fill(kam.username)
        page.get_by_label("Password").fill("a guess")
        page.get_by_role("button", name="Log in", exact=True).click()
        expect(page.get_by_role("alert")).to_contain_text("didn't match")
    page.get_by_label("User name").fill(kam.username)
    page.get_by_label("Password").fill("another guess")
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_test_id("locked-out")).to_contain_text("Too many failed attempts")

    page.goto("/login/")  # the right password does not get through either
    page.get_by_label("User name").fill(kam.username)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_test_id("locked-out")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_count(0)


def test_i_revoke_an_api_token_on_my_account_page(page: Page, live_server, kam) -> None:
    AuthToken.objects.create(user=kam)
    login(page, live_server, kam.username)
    page.goto("/account/")
    tokens = page.get_by_test_id("my-tokens")
    expect(tokens.locator("tbody tr")).to_have_count(1)
    tokens.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text("1 API token revoked.")
    expect(page.get_by_test_id("my-tokens")).to_have_text("You hold no API token.")
    assert not AuthToken.objects.filter(user=kam).exists()


def test_the_api_docs_run_under_the_content_security_policy(page: Page, live_server, kam) -> None:
    """Swagger UI's start-up script comes from a URL and its style carries the nonce: the page
    shows the operations (the conftest fails the test on anything the policy blocked)."""
    login(page, live_server, kam.username)
    page.goto("/api/docs/")
    expect(page.get_by_text("SKAM API").first).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()


def test_the_people_admin_runs_under_the_content_security_policy(
    page: Page, live_server, administrator, kam
) -> None:
    """The administrator's pages in Django admin, widgets included (the roles' two-list
    selector): nothing blocked (checked by the conftest), and no password field anywhere."""
    login(page, live_server, administrator.username)
    page.goto("/admin/")
    expect(page.get_by_role("link", name="Users")).to_be_visible()
    page.goto(f"/admin/accounts/user/{kam.pk}/change/")
    expect(page.locator("#id_groups_from")).to_be_visible()  # the two-list widget, built by JS
    expect(page.locator("input[type=password]")).to_have_count(0)
    page.goto("/admin/accounts/user/add/")
    expect(page.get_by_label("Email address")).to_be_visible()
    expect(page.locator("input[type=password]")).to_have_count(0)
