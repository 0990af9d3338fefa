"""Pages put in the layout kept rendered (skam/layout.py) are the pages the template renders:
for every role, both languages, any address, a refused period; and what differs between users
or requests never leaks from one to the next."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse

from accounts.models import User
from tests.factories import UserFactory
from tests.kpi_world import build_world

pytestmark = pytest.mark.django_db

LAYOUT = "skam.layout.LayoutMiddleware"
TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")([A-Za-z0-9]+)')


def without_tokens(html: str) -> tuple[str, set[str]]:
    """The page with its CSRF tokens blanked, and the secrets they carry: each request masks the
    token afresh, so only what it unmasks to may be compared."""
    secrets = {_unmask_cipher_token(match[2]) for match in TOKEN.finditer(html)}
    return TOKEN.sub(r"\1…", html), secrets


def both_ways(http: HttpClient, url: str, settings) -> tuple[object, object]:
    """The page as served, and as the template renders it, for the same browser (a client of
    its own: a client loads the middleware once)."""
    kept = http.get(url)
    with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m != LAYOUT]):
        plain = HttpClient()
        plain.cookies = http.cookies
        rendered = plain.get(url)
    return kept, rendered


def assert_same_page(kept: object, rendered: object) -> None:
    assert kept.status_code == rendered.status_code
    kept_html, kept_secrets = without_tokens(kept.content.decode())
    rendered_html, rendered_secrets = without_tokens(rendered.content.decode())
    # The dashboards say when their figures were read; both requests read the same kept page.
    assert kept_html == rendered_html
    # Three tokens on the page (htmx's header, the language switch, logging out), all valid for
    # the browser's cookie, which the response sets as a rendered page would.
    assert len(TOKEN.findall(kept.content.decode())) == 3
    assert kept_secrets == rendered_secrets == {kept.cookies["csrftoken"].value}


@pytest.fixture
def world(kam: User, kam2: User):
    return build_world(kam, kam2)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_kept_layout_renders_what_the_template_renders_for_every_role(
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
            kept, rendered = both_ways(http, url, settings)
            assert kept.status_code == 200, (user, url)
            assert_same_page(kept, rendered)
            assert f'<html lang="{language}">' in kept.content.decode()
            assert str(user) in kept.content.decode()


def test_the_address_and_the_title_are_escaped_as_the_template_escapes_them(
    world, kam, director, client_as, settings
) -> None:
    kam.last_name = "O'Neil & <Sons>"
    kam.save()
    http = client_as(director)
    url = reverse("governance:dashboard-kam", args=[kam.pk]) + "?period=someday&x=<b>"
    kept, rendered = both_ways(http, url, settings)
    assert kept.status_code == 400  # the period cannot be read: the page says why
    assert_same_page(kept, rendered)
    html = kept.content.decode()
    assert "<Sons>" not in html
    assert re.search(r"<title>[^<]*O&#x27;Neil &amp; &lt;Sons&gt;[^<]*</title>", html)
    assert 'name="next" type="hidden" value="' + url.replace("&", "&amp;")[:-3] in html


def test_one_users_layout_never_shows_to_another(world, kam, director, settings) -> None:
    """Same role, same page, the layout already kept for the first: the second sees their own
    name; a KAM after a director is offered no portfolio."""
    twin = UserFactory(username="twin", first_name="Other", last_name="Director")
    twin.groups.set(director.groups.all())
    url = reverse("governance:dashboard-kam", args=[kam.pk])
    seen = {}
    for user in (director, twin, kam):
        http = HttpClient()
        http.force_login(user)
        kept, rendered = both_ways(http, url, settings)
        assert_same_page(kept, rendered)
        seen[user] = kept.content.decode()
    assert str(twin) in seen[twin] and str(director) not in seen[twin]
    portfolio = f'href="{reverse("governance:dashboard-portfolio")}"'
    assert portfolio in seen[director]
    assert portfolio not in seen[kam]


def test_messages_waiting_are_shown_once_then_gone(world, director, client_as) -> None:
    http = client_as(director)
    url = reverse("governance:dashboard-portfolio")
    http.get(url)  # the layout is kept for this user from now on
    # A message left for the next page, as a view that redirects leaves it.
    storage = CookieStorage(HttpRequest())
    storage.add(constants.SUCCESS, "The budget was allocated.")
    carrier = HttpResponse()
    storage.update(carrier)
    http.cookies.update(carrier.cookies)
    assert "The budget was allocated." in http.get(url).content.decode()
    assert "The budget was allocated." not in http.get(url).content.decode()


def test_the_language_switch_of_a_kept_page_returns_to_it_in_the_other_language(
    world, director
) -> None:
    """The token and the address filled into the kept layout are this browser's: the switch
    passes Django's CSRF check and comes back to the same quarter."""
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
