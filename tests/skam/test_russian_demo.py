"""The Russian demo company, read as each of its people reads it in Russian.

The demo is loaded once for the module, inside a transaction every test runs within and that is
rolled back at the end (as Django's ``TestCase.setUpTestData`` does).
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client as HttpClient
from django.utils import timezone

from accounts.imports import import_check
from accounts.models import Client, ImportBatch, ImportKind, User
from criteria.models import USP, EvaluationRun, RulerVersion
from governance.committee.proposing import QUESTIONS
from governance.models import (
    Decision,
    ExceptionRequest,
    Incident,
    Mandate,
    Meeting,
    Proposal,
    WebhookEndpoint,
)
from skam.demo import (
    DEMO_USERS,
    DEMO_WEBHOOK_SECRET,
    DEMO_WEBHOOK_URL,
    NEEDS,
    SITUATIONS,
    TEAM_HELPERS,
    USPS,
    demo_load,
)
from skam.demo_texts import TEXTS, demo_texts
from tests.skam.demo_figures import demo_figures

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
    # Those of tests/test_permissions.py's MATRIX the above did not open.
    "/account/",
    "/account/password/",
    "/account/password/done/",
    "/clients/new/",
    "/clients/imports/{batch}/",
    "/ruler/usps/new/",
    "/ruler/usps/{usp}/",
    *(f"/committee/proposals/new/{question}/" for question in QUESTIONS),
    "/committee/decisions/{decision}/revisit/",
    "/committee/mandates/drafting/",
    "/committee/mandates/drafting/new/",
    "/committee/mandates/{mandate}/draft/",
    "/committee/mandates/{mandate}/compare/",
    "/committee/dashboards/kam/{kam}/",
    "/committee/exceptions/{exception}/",
    "/committee/record/",
    "/committee/record/?table=governance_decision",
    "/committee/meetings/new/",
    "/committee/meetings/{meeting}/minutes/",
    "/committee/meetings/{meeting}/packs/",
    "/committee/calendar/",
)
# The pages anyone opens before signing in; read as ``ANONYMOUS``, nobody signed in.
ANONYMOUS = "anonymous"
ANONYMOUS_PAGES = (
    "/login/",
    "/password/forgotten/",
    "/password/sent/",
    "/password/MQ/not-a-token/",
    "/password/done/",
)
# Who reads the pages: each role, and someone not signed in yet.
READERS = (*sorted(ROLE_PAGES), ANONYMOUS)
# Latin that a Russian interface rightly shows: the product's name, abbreviations Russian
# business writes in Latin, file formats, a key's name, standards named in the demo's USPs, and
# the Roman numerals of quarters ("III кв. 2026").
LATIN_ALLOWED = {
    *("SKAM", "API", "KPI", "CSV", "XLSX", "xlsx", "ZIP", "PDF", "Excel", "UTF", "Windows", "Tab"),
    *("KOI", "R", "CP", "BOM", "DOS"),  # the encodings a CSV file is read in: KOI8-R, CP866…
    "csv",  # a file's name: «клиенты.csv»
    *("ISO", "EDI", "ERP"),
    *("I", "II", "III", "IV"),
}
# 52.9, but neither 05.12.2026 nor 2026.
DECIMAL_POINT = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
LATIN = re.compile(r"[A-Za-z]")


class _VisibleText(HTMLParser):
    """The text a reader sees: no scripts, styles or templates. With ``interface_only``, also
    none of what is marked as not being Russian prose: code (file headers, field names),
    anything in another language (the language switch's "English"), and what is in no
    language and marked not to be translated (a login, an e-mail address)."""

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
        return (
            tag in self.VERBATIM
            or (tag != "html" and attrs.get("lang") not in (None, "ru"))
            or attrs.get("translate") == "no"
        )

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


# A client file as a Russian administrator checks it, with a mistyped INN: the import's pages
# have something to show.
RUSSIAN_FILE = (
    "ИНН;Наименование;Регион\n7707083893;ООО «Ладога-Сталь»;Москва\n"
    "7707083890;ООО «Тайга-Энерго»;Казань\n"
).encode()


@contextmanager
def rolled_back() -> Iterator[None]:
    """A transaction rolled back at the end, whatever happened within."""
    outer = transaction.atomic()
    outer.__enter__()
    try:
        yield
    finally:
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@dataclass(frozen=True)
class EnglishDemo:
    day: datetime.date
    figures: dict[str, Any]


@pytest.fixture(scope="module")
def english_demo(django_db_setup, django_db_blocker) -> EnglishDemo:
    """The English demo's figures, loaded and rolled back before the Russian one is loaded."""
    day = timezone.localdate()
    with django_db_blocker.unblock(), rolled_back():
        demo_load(language="en", today=day)
        return EnglishDemo(day=day, figures=demo_figures(demo_texts("en")))


@pytest.fixture(scope="module")
def russian_demo(english_demo: EnglishDemo, django_db_setup, django_db_blocker) -> Iterator[None]:
    """The Russian demo, for the module, and a client file the administrator checked; the
    English demo was loaded (and its figures kept) first, on the same day, so that the two can
    be compared."""
    with django_db_blocker.unblock(), rolled_back():
        demo_load(language="ru", today=english_demo.day)
        import_check(
            kind=ImportKind.CLIENTS,
            filename="клиенты.csv",
            content=RUSSIAN_FILE,
            user=User.objects.get(username="admin"),
        )
        yield


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
        "kam": kam.pk,
        "exception": ExceptionRequest.objects.order_by("pk").first().pk,
        "decision": Decision.objects.filter(client__isnull=False).order_by("pk").first().pk,
        "usp": USP.objects.order_by("pk").first().pk,
        # None where the demo is read without the client file the module checks.
        "batch": ImportBatch.objects.order_by("pk").values_list("pk", flat=True).first(),
    }


def russian_client(username: str) -> HttpClient:
    http = HttpClient()
    if username != ANONYMOUS:
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
def test_the_russian_demo_is_the_english_one_in_russian(
    english_demo: EnglishDemo, russian_demo: None
) -> None:
    """The same company in both languages: the same clients in the same order, with the same
    needs, weights, coverage, scores, verdicts and key status; the same proposals, votes,
    decisions, mandates, budgets, exceptions, incidents, meetings, KPIs and drift. Only the
    words differ."""
    english, russian = english_demo.figures, demo_figures(demo_texts("ru"))
    assert set(russian) == set(english)
    summary = {
        what: (len(english[what]), len(russian[what]))
        for what in ("proposals", "decisions", "exceptions", "budgets", "mandates")
    }
    print(f"\nRows in English and in Russian: {summary}; drift {russian['drift']}")
    # The figures a committee compares first, each with its own message.
    by_position = [
        (english_row, russian_row)
        for english_row, russian_row in zip(english["verdicts"], russian["verdicts"], strict=True)
        if english_row != russian_row
    ]
    assert by_position == [], f"clients that differ (English, Russian): {by_position[:5]}"
    assert russian["drift"] == english["drift"]
    assert [len(m[-1]) for m in russian["mandates"]] == [len(m[-1]) for m in english["mandates"]]
    assert summary == {what: (n, n) for what, (n, _) in summary.items()}
    differing = [what for what in english if russian[what] != english[what]]
    assert differing == [], f"the demos differ in: {differing}"


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
        for username in READERS:
            http, ids = russian_client(username), demo_ids()
            pages = fetched.setdefault(username, {})
            for template in ANONYMOUS_PAGES if username == ANONYMOUS else ALL_PAGES:
                url = template.format(**ids)
                response = http.get(url)
                if response.status_code in (403, 404):
                    continue  # not this role's page
                assert response.status_code == 200, f"{username} {url}: {response.status_code}"
                pages[url] = response.text
    return fetched


@pytest.mark.django_db
@pytest.mark.parametrize("username", READERS)
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
    assert len(pages) >= len(ANONYMOUS_PAGES)
    assert english == {}, "\n".join(f"{url}: {words}" for url, words in english.items())


@pytest.mark.django_db
@pytest.mark.parametrize("username", READERS)
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


def test_a_language_whose_pools_differ_is_refused_when_it_is_built() -> None:
    """The demo draws positions in its pools: a pool one word short (or repeating one) would
    shift every draw after it, and make another company of the demo in that language."""
    english = demo_texts("en")
    with pytest.raises(ValueError, match="regions must be 10 different words"):
        replace(english, regions=english.regions[:-1])
    with pytest.raises(ValueError, match="name_stems must be 20 different words"):
        replace(english, name_stems=(*english.name_stems[:-1], english.name_stems[0]))


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
    assert (endpoint.url, endpoint.secret) == (DEMO_WEBHOOK_URL, DEMO_WEBHOOK_SECRET)
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
