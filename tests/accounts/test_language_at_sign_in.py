"""The language a person chose comes back when they sign in on another browser — with their
password or through the company's SSO — and the token API answers in it when a request names
no language of its own."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client as HttpClient
from mozilla_django_oidc import views as oidc_views

from accounts import sso
from accounts.models import User
from tests.accounts.sso import sso_switched_on
from tests.accounts.test_sso import ENDPOINTS, ISSUER, claims
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _lang_of(page: Any) -> str:
    return page["Content-Language"]


def test_a_password_sign_in_on_a_fresh_browser_is_in_the_language_chosen(kam: User) -> None:
    User.objects.filter(pk=kam.pk).update(language="ru")
    http = HttpClient()  # a browser that never saw SKAM, and asks for English
    answer = http.post("/login/", {"username": kam.username, "password": PASSWORD}, **EN)
    assert answer.status_code == 302
    assert answer.cookies["django_language"].value == "ru"
    home = http.get("/", **EN)
    assert _lang_of(home) == "ru" and '<html lang="ru">' in home.content.decode()


def test_a_person_who_chose_nothing_keeps_the_browser_s_language(kam: User) -> None:
    http = HttpClient()
    answer = http.post("/login/", {"username": kam.username, "password": PASSWORD}, **EN)
    assert "django_language" not in answer.cookies
    assert _lang_of(http.get("/", **EN)) == "en"


def test_a_language_chosen_on_the_login_page_becomes_theirs(kam: User) -> None:
    http = HttpClient()
    http.post("/i18n/setlang/", {"language": "ru", "next": "/login/"}, **EN)
    http.post("/login/", {"username": kam.username, "password": PASSWORD}, **EN)
    kam.refresh_from_db()
    assert kam.language == "ru"
    other = HttpClient()
    other.post("/login/", {"username": kam.username, "password": PASSWORD}, **EN)
    assert _lang_of(other.get("/", **EN)) == "ru"


def test_choosing_a_language_signed_in_saves_it_for_the_next_browser(kam: User) -> None:
    http = HttpClient()
    http.post("/login/", {"username": kam.username, "password": PASSWORD}, **EN)
    http.post("/i18n/setlang/", {"language": "ru", "next": "/"}, **EN)
    kam.refresh_from_db()
    assert kam.language == "ru"
    http.post("/logout/")
    fresh = HttpClient()
    fresh.post("/login/", {"username": kam.username, "password": PASSWORD}, **EN)
    assert _lang_of(fresh.get("/", **EN)) == "ru"
    fresh.post("/i18n/setlang/", {"language": "en", "next": "/"}, **EN)
    assert _lang_of(fresh.get("/", **EN)) == "en"
    kam.refresh_from_db()
    assert kam.language == "en"


def test_a_session_that_outlived_its_language_cookie_is_in_the_language_chosen(
    kam: User,
) -> None:
    User.objects.filter(pk=kam.pk).update(language="ru")
    http = HttpClient()
    http.force_login(kam)  # signed in; the cookie, a browser-session one, is gone
    assert _lang_of(http.get("/", **EN)) == "ru"


def test_a_sign_in_through_the_company_s_provider_is_in_the_language_chosen(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sso_switched_on(settings, issuer=ISSUER, endpoints=ENDPOINTS)
    person = sso.sso_person_for_claims(claims=claims())
    User.objects.filter(pk=person.pk).update(language="ru")
    person.refresh_from_db()
    person.backend = "accounts.sso.ProviderBackend"
    # The provider's answer checked below the protocol (tests/browser/test_sso.py runs it).
    monkeypatch.setattr(oidc_views.auth, "authenticate", lambda **_given: person)
    http = HttpClient()
    start = http.get("/oidc/authenticate/", **EN)
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    answer = http.get(f"/oidc/callback/?code=a-code&state={state}", **EN)
    assert answer.status_code == 302
    assert answer.cookies["django_language"].value == "ru"
    assert _lang_of(http.get("/", **EN)) == "ru"


def test_the_token_api_answers_in_the_holder_s_language_unless_the_request_names_one(
    kam: User,
) -> None:
    User.objects.filter(pk=kam.pk).update(language="ru")
    obtained = HttpClient().post(
        "/api/auth/token/", {"username": kam.username, "password": PASSWORD}
    )
    assert obtained.status_code == 200
    assert "django_language" not in obtained.cookies  # no browser, no cookie
    bearer = {"HTTP_AUTHORIZATION": f"Token {obtained.json()['token']}"}
    api = HttpClient()
    assert _lang_of(api.get("/api/clients/", **bearer)) == "ru"
    assert _lang_of(api.get("/api/clients/", **bearer, **EN)) == "en"
    assert "django_language" not in api.get("/api/clients/", **bearer).cookies
