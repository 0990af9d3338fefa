"""Single sign-on in Chromium against a real OpenID Connect provider: django-oidc-provider in
its own small project (tests/oidc_provider/), started on 127.0.0.1 for the session. A person
signs in through it, gets the role its group gives, signs out of both, loses the role at the
next sign-in once the provider took the group away, and is refused once deactivated in SKAM."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from accounts.models import User
from accounts.roles import Role
from governance.models import RecordEntry
from tests.accounts.sso import CLIENT_ID, CLIENT_SECRET, sso_switched_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BASE_DIR = Path(__file__).resolve().parents[2]
PROVIDER_PASSWORD = "company-password-1"


@pytest.fixture(scope="session")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The provider's base URL, its server running in a subprocess until the session ends."""
    database = tmp_path_factory.mktemp("oidc-provider") / "provider.sqlite3"
    env = {**os.environ, "PROVIDER_DATABASE": str(database)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.oidc_provider.serve"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()  # "listening on <port>", or nothing if it died
        if not line.startswith("listening on "):
            pytest.fail(f"the test provider did not start: {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[-1])}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def provider_person(provider: str, username: str, *, groups: list[str]) -> str:
    """Put a person with these groups at the provider; their subject there."""
    answer = requests.post(
        f"{provider}/control/person/",
        json={
            "username": username,
            "password": PROVIDER_PASSWORD,
            "first_name": "Nina",
            "last_name": "Orlova",
            "email": f"{username}@acme.example",
            "groups": groups,
        },
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["sub"]


def sign_in_at_provider(page: Page, username: str) -> None:
    page.goto("/login/")
    page.get_by_role("link", name="Sign in with Acme").click()
    expect(page.get_by_role("heading", name="Company sign-in")).to_be_visible()
    page.get_by_label("Company user name").fill(username)
    page.get_by_label("Company password").fill(PROVIDER_PASSWORD)
    page.get_by_role("button", name="Sign in at the company").click()


def test_a_person_gets_the_role_of_their_group_and_loses_it_with_the_group(
    page: Page, live_server, provider: str, settings
) -> None:
    sso_switched_on(settings, issuer=f"{provider}/openid")
    requests.post(
        f"{provider}/control/client/",
        json={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [f"{live_server.url}/oidc/callback/"],
            "post_logout_redirect_uris": [f"{live_server.url}/login/"],
        },
        timeout=10,
    ).raise_for_status()
    subject = provider_person(provider, "nina", groups=["skam-kams", "canteen"])

    sign_in_at_provider(page, "nina")
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("current-user")).to_contain_text("Nina Orlova")
    page.get_by_test_id("current-user").click()
    expect(page.get_by_test_id("my-roles")).to_have_text("Key-account manager")

    nina = User.objects.get(sso_subject=subject)
    assert nina.sso_issuer == f"{provider}/openid"
    assert not nina.has_usable_password()
    assert not (nina.is_staff or nina.is_superuser)
    # The record names the path the role came by.
    given = RecordEntry.objects.filter(table_name="accounts_user_groups", operation="I")
    assert [entry.path for entry in given.filter(after__user_id=nina.pk)] == ["sso"]

    # Logging out ends the provider's session too: the next sign-in asks for the password.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server.url}/login/")
    provider_person(provider, "nina", groups=["canteen"])

    sign_in_at_provider(page, "nina")
    expect(page).to_have_url(f"{live_server.url}/")
    page.get_by_test_id("current-user").click()
    expect(page.get_by_test_id("my-roles")).to_have_text("none")
    assert not nina.groups.filter(name=Role.KAM).exists()
    assert User.objects.filter(sso_subject=subject).count() == 1

    # Deactivated in SKAM: the provider's word does not sign her in (its session still runs).
    User.objects.filter(pk=nina.pk).update(is_active=False)
    page.context.clear_cookies(domain="localhost")
    page.goto("/login/")
    page.get_by_role("link", name="Sign in with Acme").click()
    expect(page).to_have_url(f"{live_server.url}/login/")
    expect(page.get_by_role("status")).to_contain_text("Your SKAM account is deactivated")
    expect(page.get_by_test_id("current-user")).to_have_count(0)
