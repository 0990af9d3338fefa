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
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.imports import import_check
from accounts.models import ImportKind, User
from governance.models import WebhookEndpoint
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
from tests.skam.demo_figures import demo_figures
from tests.skam.russian_pages import (
    ANONYMOUS_PAGES,
    READERS,
    ROLE_PAGES,
    cyrillic_share,
    demo_ids,
    read_every_page,
    russian_client,
    visible_text,
)

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
    """Each reader's pages (those of ALL_PAGES it may open), as HTML, fetched once."""
    with django_db_blocker.unblock():
        return read_every_page()


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
