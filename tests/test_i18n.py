"""English and Russian: the Russian catalogue is complete, compiled, and the pages use it."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "ru" / "LC_MESSAGES"


def test_every_russian_string_is_translated_and_not_fuzzy() -> None:
    po = polib.pofile(str(CATALOGUE / "django.po"))
    assert len(po) > 100
    assert [entry.msgid for entry in po.untranslated_entries()] == []
    assert [entry.msgid for entry in po.fuzzy_entries()] == []


def test_compiled_catalogue_matches_the_po_file() -> None:
    po = polib.pofile(str(CATALOGUE / "django.po"))
    mo = polib.mofile(str(CATALOGUE / "django.mo"))
    compiled = {(entry.msgctxt, entry.msgid): entry for entry in mo}
    stale = [
        entry.msgid
        for entry in po.translated_entries()
        if (entry.msgctxt, entry.msgid) not in compiled
        or compiled[(entry.msgctxt, entry.msgid)].msgstr != entry.msgstr
        or compiled[(entry.msgctxt, entry.msgid)].msgstr_plural != entry.msgstr_plural
    ]
    assert stale == [], "run `make messages` to recompile locale/ru"


@pytest.mark.django_db
def test_pages_speak_russian_when_asked(client_as, chair) -> None:
    http = client_as(chair)
    http.post(reverse("set_language"), {"language": "ru", "next": "/"})
    page = http.get(reverse("accounts:client-list")).text
    assert '<html lang="ru">' in page
    assert "Клиенты" in page
    assert "Наименование или ИНН" in page


@pytest.mark.django_db
def test_pages_speak_english_by_default(client_as, chair) -> None:
    page = client_as(chair).get(reverse("accounts:client-list")).text
    assert '<html lang="en">' in page
    assert "Name or registration number" in page
