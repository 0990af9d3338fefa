"""The Russian demo company, read as each of its people reads it in Russian.

The demo is loaded once for the module, inside a transaction every test runs within and that is
rolled back at the end (as Django's ``TestCase.setUpTestData`` does).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client as HttpClient

from accounts.models import Client, User
from criteria.models import EvaluationRun, RulerVersion
from governance.models import Incident, Mandate, Meeting, Proposal, WebhookEndpoint
from skam.demo import (
    DEMO_USERS,
    DEMO_WEBHOOK_SECRET,
    NEEDS,
    SITUATIONS,
    TEAM_HELPERS,
    USPS,
    demo_load,
    demo_webhook_url,
)
from skam.demo_texts import TEXTS, demo_texts

# The pages each role opens first, every working day.
ROLE_PAGES = {
    "chair": [
        "/",
        "/clients/",
        "/committee/proposals/",
        "/committee/proposals/{proposal}/",
        "/committee/decisions/",
        "/committee/drift/",
        "/committee/policy/",
        "/committee/meetings/",
    ],
    "member": ["/", "/committee/proposals/", "/committee/decisions/", "/committee/interests/"],
    "kam": [
        "/",
        "/committee/my-mandate/",
        "/clients/",
        "/clients/{client}/",
        "/ruler/clients/{client}/",
        "/committee/incidents/",
        "/committee/playbook/",
    ],
    "director": ["/", "/committee/dashboards/", "/committee/mandates/", "/clients/"],
    "admin": ["/", "/clients/", "/ruler/", "/ruler/usps/", "/clients/imports/"],
}
# Every page a role may open, with the ids of the demo's rows filled in; a role's pages are those
# of these it is allowed to open.
ALL_PAGES = (
    "/",
    "/clients/",
    "/clients/?q=а&segment=enterprise&ordering=-name",
    "/clients/{client}/",
    "/clients/{client}/edit/",
    "/clients/{client}/needs/",
    "/clients/{client}/figures/",
    "/clients/imports/",
    "/ruler/",
    "/ruler/portfolio/",
    "/ruler/usps/",
    "/ruler/versions/{ruler}/",
    "/ruler/versions/{draft}/",
    "/ruler/runs/{run}/",
    "/ruler/clients/{client}/",
    "/ruler/clients/{client}/coverage/",
    "/committee/proposals/",
    "/committee/proposals/?state=adopted",
    "/committee/proposals/{proposal}/",
    "/committee/proposals/new/",
    "/committee/decisions/",
    "/committee/drift/",
    "/committee/dashboards/",
    "/committee/dashboards/account/{client}/",
    "/committee/policy/",
    "/committee/my-mandate/",
    "/committee/mandates/",
    "/committee/mandates/{mandate}/",
    "/committee/mandates/{mandate}/targets/",
    "/committee/exceptions/",
    "/committee/departments/",
    "/committee/incidents/",
    "/committee/incidents/?state=all",
    "/committee/incidents/{incident}/",
    "/committee/incidents/new/",
    "/committee/playbook/",
    "/committee/absences/",
    "/committee/budgets/",
    "/committee/meetings/",
    "/committee/meetings/{meeting}/",
    "/committee/interests/",
    "/committee/kpis/entries/",
)
# Latin that a Russian interface rightly shows: the product's name, abbreviations Russian
# business writes in Latin, file formats, a key's name, standards named in the demo's USPs, and
# the Roman numerals of quarters ("III кв. 2026").
LATIN_ALLOWED = {
    *("SKAM", "API", "KPI", "CSV", "XLSX", "xlsx", "ZIP", "PDF", "Excel", "UTF", "Windows", "Tab"),
    *("KOI", "R", "CP"),  # the encodings a CSV file is read in: KOI8-R, CP866
    *("ISO", "EDI", "ERP"),
    *("I", "II", "III", "IV"),
}
# 52.9, but neither 05.12.2026 nor 2026.
DECIMAL_POINT = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
LATIN = re.compile(r"[A-Za-z]")


class _VisibleText(HTMLParser):
    """The text a reader sees: no scripts, styles or templates. With ``interface_only``, also
    none of what is marked as not being Russian prose: code (file headers, field names) and
    anything in another language (the language switch's "English")."""

    HIDDEN = {"script", "style", "template", "noscript", "head"}
    VERBATIM = {"code", "kbd", "samp"}

    def __init__(self, *, interface_only: bool = False) -> None:
        super().__init__()
        self.interface_only = interface_only
        self.skipping: list[str] = []  # the tags whose content is being skipped, innermost last
        self.parts: list[str] = []

    def _skips(self, tag: str, attrs: dict[str, str | None]) -> bool:
        if tag in self.HIDDEN:
            return True
        if not self.interface_only:
            return False
        return tag in self.VERBATIM or (tag != "html" and attrs.get("lang") not in (None, "ru"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if self.skipping:
            if tag == self.skipping[0]:
                self.skipping.append(tag)
            return
        if self._skips(tag, named):
            self.skipping.append(tag)
        elif named.get("placeholder"):
            self.parts.append(named["placeholder"] or "")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and tag == self.skipping[0]:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def visible_text(html: str, *, interface_only: bool = False) -> str:
    parser = _VisibleText(interface_only=interface_only)
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def cyrillic_share(text: str) -> float:
    cyrillic, latin = len(CYRILLIC.findall(text)), len(LATIN.findall(text))
    return cyrillic / (cyrillic + latin) if cyrillic + latin else 1.0


@pytest.fixture(scope="module")
def russian_demo(django_db_setup, django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            demo_load(language="ru")
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def demo_ids() -> dict[str, int]:
    """The rows the pages show: one of the KAM's key accounts, an open proposal…"""
    kam = User.objects.get(username="kam")
    return {
        "client": Client.objects.filter(owner_kam=kam, is_key=True).order_by("pk").first().pk,
        "proposal": Proposal.objects.filter(state="open").order_by("pk").first().pk,
        "ruler": RulerVersion.objects.filter(status="in_force").get().pk,
        "draft": RulerVersion.objects.filter(status="draft").order_by("pk").first().pk,
        "run": EvaluationRun.objects.order_by("-pk").first().pk,
        "mandate": Mandate.objects.filter(kam=kam, status="in_force").get().pk,
        "incident": Incident.objects.order_by("pk").first().pk,
        "meeting": Meeting.objects.order_by("pk").first().pk,
    }


def russian_client(username: str) -> HttpClient:
    http = HttpClient()
    http.force_login(User.objects.get(username=username))
    http.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    return http


def read_in_russian(username: str) -> dict[str, str]:
    """Each of the role's main pages, as the visible text a Russian reader gets."""
    http, ids = russian_client(username), demo_ids()
    texts = {}
    for template in ROLE_PAGES[username]:
        url = template.format(**ids)
        response = http.get(url)
        assert response.status_code == 200, f"{username} {url}: {response.status_code}"
        texts[url] = visible_text(response.text)
    return texts


@pytest.mark.django_db
@pytest.mark.parametrize("username", sorted(ROLE_PAGES))
def test_russian_demo_reads_in_russian(russian_demo: None, username: str) -> None:
    """What each role reads on its main pages is Cyrillic, well above nine letters in ten."""
    pages = read_in_russian(username)
    share = cyrillic_share(" ".join(pages.values()))
    by_page = {url: round(cyrillic_share(text) * 100, 1) for url, text in pages.items()}
    print(f"{username}: {share:.1%} Cyrillic; by page {by_page}")
    assert share > 0.95, (username, by_page)


@pytest.fixture(scope="module")
def every_page_in_russian(russian_demo: None, django_db_blocker) -> dict[str, dict[str, str]]:
    """Each role's pages (those of ALL_PAGES it may open), as HTML, fetched once per role."""
    fetched: dict[str, dict[str, str]] = {}
    with django_db_blocker.unblock():
        for username in ROLE_PAGES:
            http, ids = russian_client(username), demo_ids()
            pages = fetched.setdefault(username, {})
            for template in ALL_PAGES:
                url = template.format(**ids)
                response = http.get(url)
                if response.status_code in (403, 404):
                    continue  # not this role's page
                assert response.status_code == 200, f"{username} {url}: {response.status_code}"
                pages[url] = response.text
    return fetched


@pytest.mark.django_db
@pytest.mark.parametrize("username", sorted(ROLE_PAGES))
def test_no_english_in_the_russian_interface(
    every_page_in_russian: dict[str, dict[str, str]], username: str
) -> None:
    """Every page the role may open, read in Russian, shows no English words: the Russian demo
    holds no English data, so any Latin word but a few abbreviations is an untranslated label."""
    pages = every_page_in_russian[username]
    english: dict[str, list[str]] = {}
    for url, html in pages.items():
        words = re.findall(r"[A-Za-z]+", visible_text(html, interface_only=True))
        unexpected = sorted({word for word in words if word not in LATIN_ALLOWED})
        if unexpected:
            english[url] = unexpected
    assert len(pages) >= 5
    assert english == {}, "\n".join(f"{url}: {words}" for url, words in english.items())


@pytest.mark.django_db
@pytest.mark.parametrize("username", sorted(ROLE_PAGES))
def test_russian_pages_write_numbers_with_a_decimal_comma(
    every_page_in_russian: dict[str, dict[str, str]], username: str
) -> None:
    """ "52,9 % из 75,0 %", never "52.9": a number with a decimal point (not a date's dots) is a
    number formatted outside Django's localization."""
    pointed = {}
    for url, html in every_page_in_russian[username].items():
        found = DECIMAL_POINT.findall(visible_text(html))
        if found:
            pointed[url] = sorted(set(found))[:5]
    assert pointed == {}, "\n".join(f"{url}: {numbers}" for url, numbers in pointed.items())


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_every_language_names_everything_the_demo_builds(language: str) -> None:
    """A language module names every person, USP, need and situation, and its random pools are
    as long as English's: the same seed then builds the same company in every language."""
    texts, english = demo_texts(language), demo_texts("en")
    assert set(texts.people) == {user.username for user in DEMO_USERS}
    assert set(texts.helpers) == set(TEAM_HELPERS)
    assert set(texts.usps) == set(USPS)
    assert set(texts.needs) == {need for need, _usp, _weights in NEEDS}
    assert set(texts.situations) == {key for key, _owner, _hours in SITUATIONS}
    for field in fields(texts):
        value, reference = getattr(texts, field.name), getattr(english, field.name)
        if isinstance(value, tuple | dict):
            assert len(value) == len(reference), field.name
            if isinstance(value, dict):
                assert set(value) == set(reference), field.name


def test_a_regional_variant_is_its_language_and_an_unknown_one_is_refused() -> None:
    assert demo_texts("ru-RU") is demo_texts("ru")
    with pytest.raises(ValueError, match="en, ru"):
        demo_texts("de")


def settings_languages(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """LANGUAGE_CODE and DEMO_LANGUAGE as a fresh interpreter reads them from ``variables``."""
    env = {k: v for k, v in os.environ.items() if k not in {"LANGUAGE_CODE", "SKAM_DEMO_LANGUAGE"}}
    env.update(DJANGO_SETTINGS_MODULE="skam.settings", SKAM_VAR_DIR=str(tmp_path), **variables)
    show = "from django.conf import settings as s; print(s.LANGUAGE_CODE, s.DEMO_LANGUAGE)"
    return subprocess.run(
        [sys.executable, "-c", show],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_demo_speaks_the_interface_language_unless_told_otherwise(tmp_path: Path) -> None:
    assert settings_languages(tmp_path).stdout.split() == ["en", "en"]
    assert settings_languages(tmp_path, LANGUAGE_CODE="ru").stdout.split() == ["ru", "ru"]
    assert settings_languages(tmp_path, SKAM_DEMO_LANGUAGE="ru").stdout.split() == ["en", "ru"]
    refused = settings_languages(tmp_path, LANGUAGE_CODE="de")
    assert refused.returncode != 0
    assert "LANGUAGE_CODE must be one of en, ru" in refused.stderr


@pytest.mark.django_db
def test_the_demo_tells_its_webhook_endpoint_of_its_events(russian_demo: None) -> None:
    """The demo's endpoint points at the receiver ``make run`` starts; the demo's own history
    (decisions, key status, mandates, exceptions, budgets, KPI snapshots) waits for it."""
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.url, endpoint.secret) == (demo_webhook_url(), DEMO_WEBHOOK_SECRET)
    told = set(endpoint.deliveries.values_list("event__type", flat=True))
    print(f"\nThe demo's webhook events: {sorted(told)}")
    assert told >= {
        "decision.adopted",
        "client.key_status_changed",
        "mandate.in_force",
        "exception.requested",
        "exception.decided",
        "kpi.snapshot_taken",
    }


@pytest.mark.django_db
def test_every_page_each_role_opens_is_nine_letters_in_ten_cyrillic(
    every_page_in_russian: dict[str, dict[str, str]],
) -> None:
    """Each page a role may open, read in Russian, is over 90 % Cyrillic letters: all its
    visible text, and (what is asserted) its text but for what is marked as not Russian prose —
    the English column names an import also takes (``<code>``), the switch's "English". The
    figures are printed per role and page (``pytest -s``) for the notes."""
    lines, below = [], {}
    for username, pages in every_page_in_russian.items():
        everything = []
        for url, html in pages.items():
            text = visible_text(html)
            everything.append(text)
            share = cyrillic_share(text)
            prose = cyrillic_share(visible_text(html, interface_only=True))
            lines.append(f"{username:8} {share:6.1%} {prose:6.1%}  {url}")
            if prose <= 0.90:
                below[f"{username} {url}"] = round(prose * 100, 1)
        lines.append(f"{username:8} {cyrillic_share(' '.join(everything)):6.1%}  (all its pages)")
    print(
        "\nCyrillic share of the letters, per role and page (all visible text, and without "
        "code and English marked as such):\n" + "\n".join(lines)
    )
    assert below == {}, below
