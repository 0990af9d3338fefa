"""Quarters and numbers said in the reader's language."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from accounts.filenames import file_slug
from accounts.numbers import amount_text, number_text
from accounts.periods import quarter_code, quarter_label

Q3 = datetime.date(2026, 7, 1)


@pytest.mark.parametrize(
    ("language", "label"),
    [("en", "2026 Q3"), ("ru", "III кв. 2026")],
)
def test_a_quarter_is_said_in_the_reader_s_language(language: str, label: str) -> None:
    with translation.override(language):
        assert quarter_label(Q3) == label
        assert Template("{% load periods %}{{ day|quarter }}").render(Context({"day": Q3})) == label


def test_the_quarter_filter_reads_a_label_stored_earlier() -> None:
    """A proposal's frozen evidence holds "2026 Q3": a Russian reader still reads a quarter."""
    template = Template("{% load periods %}{{ stored|quarter }}|{{ other|quarter }}")
    with translation.override("ru"):
        shown = template.render(Context({"stored": "2026 Q3", "other": "soon"}))
    assert shown == "III кв. 2026|soon"


def test_file_names_keep_one_quarter_code_in_every_language() -> None:
    with translation.override("ru"):
        assert quarter_code(Q3) == "2026-Q3"


def test_numbers_in_a_sentence_take_the_locale_s_marks() -> None:
    with translation.override("ru"):
        assert number_text(Decimal("52.94"), 1) == "52,9"
        assert amount_text(Decimal("500000.00")) == "500\xa0000,00"
    with translation.override("en"):
        assert number_text(Decimal("52.94"), 1) == "52.9"
        assert amount_text(Decimal("500000.00")) == "500,000.00"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("ООО «Волга-Сталь»", "ooo-volga-stal"),
        ("Анна Петрова", "anna-petrova"),
        ("Щукин Ёжик Объёмный", "shchukin-ezhik-obieemnyi"),
        ("Volga Steel Works JSC", "volga-steel-works-jsc"),
        ("«»", ""),
    ],
)
def test_names_in_file_names_are_transliterated_safely(name: str, slug: str) -> None:
    assert file_slug(name) == slug
