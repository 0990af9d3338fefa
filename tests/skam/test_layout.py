"""The dashboards are ``page.html`` in the site's layout, rendered for every request: the page
served is the page the template renders, for every role and both languages; what differs between
users or requests (the name, the sections offered, the CSRF token, the address) never shows to
another."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import _unmask_cipher_token
from django.template.loader import render_to_string
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from accounts.models import User
from tests.factories import UserFactory
from tests.kpi_world import build_world

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")([A-Za-z0-9]+)')


def without_tokens(html: str) -> tuple[str, set[str]]:
    """The page with its CSRF tokens blanked, and the secrets they carry: each rendering masks
    the token afresh, so only what it unmasks to may be compared."""
    secrets = {_unmask_cipher_token(match[2]) for match in TOKEN.finditer(html)}
    return TOKEN.sub(r"\1…", html), secrets


def assert_same_page(served: str, expected: str, *, csrf_secret: str) -> None:
    served_html, served_secrets = without_tokens(served)
    expected_html, expected_secrets = without_tokens(expected)
    assert served_html == expected_html
    # Three tokens on the page (htmx's header, the language switch, logging out), all valid for
    # the browser's cookie.
    assert len(TOKEN.findall(served)) == 3
    assert served_secrets == expected_secrets == {csrf_secret}


def csrf_secret(http: HttpClient) -> str:
    return http.cookies["csrftoken"].value


@pytest.fixture
def world(kam: User, kam2: User):
    return build_world(kam, kam2)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_dashboard_is_the_page_the_template_renders_for_every_role(
    world, chair, member, kam, director, administrator, language, settings
) -> None:
    pages = {
        director: [
            reverse("governance:dashboard-portfolio"),
            reverse("governance:dashboard-kam", args=[kam.pk]),
            reverse("governance:dashboard-account", args=[world.a.pk]),
        ],
        chair: [reverse("governance:dashboard-portfolio")],
        member: [reverse("governance:dashboard-kam", args=[kam.pk])],
        administrator: [reverse("governance:dashboard-portfolio")],
        kam: [
            reverse("governance:dashboard-kam", args=[kam.pk]),
            reverse("governance:dashboard-account", args=[world.a.pk]),
        ],
    }
    for user, urls in pages.items():
        http = HttpClient()
        http.force_login(user)
        http.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        for url in urls:
            for _built_then_kept in range(2):
                response = http.get(url)
                assert response.status_code == 200, (user, url)
                assert [t.name for t in response.templates][-2:] == ["page.html", "base.html"]
                with translation.override(language):
                    rendered = render_to_string(
                        "page.html", response.context_data, request=response.wsgi_request
                    )
                html = response.content.decode()
                assert_same_page(html, rendered, csrf_secret=csrf_secret(http))
                assert f'<html lang="{language}">' in html
                assert f'data-testid="current-user">{user}<' in html


def test_the_address_and_the_title_are_escaped(world, kam, director, client_as) -> None:
    kam.last_name = "O'Neil & <Sons>"
    kam.save()
    http = client_as(director)
    url = reverse("governance:dashboard-kam", args=[kam.pk]) + "?period=someday&x=<b>"
    response = http.get(url)
    assert response.status_code == 400  # the period cannot be read: the page says why
    html = response.content.decode()
    assert "<Sons>" not in html
    assert "<b>" not in html
    assert re.search(r"<title>[^<]*O&#x27;Neil &amp; &lt;Sons&gt;[^<]*</title>", html)
    # The address arrives percent-encoded, as from a browser; its "&" is escaped on the page.
    sent = url.replace("<b>", "%3Cb%3E")
    assert f'name="next" type="hidden" value="{escape(sent)}"' in html
    assert "&amp;x=" in escape(sent)


def test_one_users_layout_never_shows_to_another(world, kam, director) -> None:
    """Same role, same page, one after the other: the second sees their own name; a KAM after a
    director is offered no portfolio."""
    twin = UserFactory(username="twin", first_name="Other", last_name="Director")
    twin.groups.set(director.groups.all())
    url = reverse("governance:dashboard-kam", args=[kam.pk])
    seen = {}
    for user in (director, twin, kam):
        http = HttpClient()
        http.force_login(user)
        seen[user] = http.get(url).content.decode()
    assert str(twin) in seen[twin] and str(director) not in seen[twin]
    portfolio = f'href="{reverse("governance:dashboard-portfolio")}"'
    assert portfolio in seen[director]
    assert portfolio not in seen[kam]


def test_messages_waiting_are_shown_once_then_gone(world, director, client_as) -> None:
    http = client_as(director)
    url = reverse("governance:dashboard-portfolio")
    http.get(url)  # the dashboard is kept built from now on
    # A message left for the next page, as a view that redirects leaves it.
    storage = CookieStorage(HttpRequest())
    storage.add(constants.SUCCESS, "The budget was allocated.")
    carrier = HttpResponse()
    storage.update(carrier)
    http.cookies.update(carrier.cookies)
    assert "The budget was allocated." in http.get(url).content.decode()
    assert "The budget was allocated." not in http.get(url).content.decode()


def test_the_language_switch_of_a_dashboard_returns_to_it_in_the_other_language(
    world, director
) -> None:
    """The token and the address on the page are this browser's: the switch passes Django's
    CSRF check and comes back to the same quarter."""
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(director)
    url = reverse("governance:dashboard-portfolio") + "?period=2026-07-01"
    html = http.get(url).content.decode()
    form = re.search(
        r'<form action="([^"]+)" method="post" class="lang-switch">(.*?)</form>', html, re.S
    )
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form[2])[1]
    here = re.search(r'name="next" type="hidden" value="([^"]+)"', form[2])[1]
    assert here == url
    response = http.post(form[1], {"csrfmiddlewaretoken": token, "next": here, "language": "ru"})
    assert response.status_code == 302 and response["Location"] == url
    assert '<html lang="ru">' in http.get(url).content.decode()
