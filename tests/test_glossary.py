"""The Russian catalogue speaks the method's words, as docs/glossary.md lists them."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings

GLOSSARY = Path(settings.BASE_DIR) / "docs" / "glossary.md"
# %(ruler)s, {kam}: a value the message is given, not a word it says.
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")
CATALOGUE = Path(settings.BASE_DIR) / "locale" / "ru" / "LC_MESSAGES" / "django.po"


def glossary_rows() -> list[tuple[list[str], str, list[str]]]:
    """(English terms, the Russian stem to find, the renderings not to use), one per row."""
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("English", "") or set(cells[0]) <= {"-"}:
            continue
        english = re.sub(r"\(.*?\)", "", cells[0])
        terms = [term.strip() for term in re.split(r"[,/]", english) if term.strip()]
        avoid = [word.strip() for word in cells[4].split(",") if word.strip()]
        rows.append((terms, cells[2], avoid))
    return rows


def translations() -> list[tuple[str, str]]:
    po = polib.pofile(str(CATALOGUE))
    pairs = []
    for entry in po.translated_entries():
        texts = [entry.msgstr] if entry.msgstr else list(entry.msgstr_plural.values())
        pairs += [(entry.msgid, text) for text in texts]
    return pairs


def test_the_glossary_lists_the_method_s_terms() -> None:
    rows = glossary_rows()
    assert len(rows) > 20
    assert sum(1 for _terms, stem, _avoid in rows if stem) > 10


@pytest.mark.parametrize(
    ("terms", "stem", "avoid"), glossary_rows(), ids=lambda value: str(value)[:30]
)
def test_the_catalogue_uses_the_glossary_terms(
    terms: list[str], stem: str, avoid: list[str]
) -> None:
    pairs = translations()
    if stem:
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, terms)) + r")s?\b", re.IGNORECASE)
        missing = sorted(
            {
                msgid
                for msgid, text in pairs
                if pattern.search(PLACEHOLDER.sub("", msgid)) and stem.lower() not in text.lower()
            }
        )
        assert missing == [], f"say {stem}… for {terms}: {missing}"
    used = sorted({text for _msgid, text in pairs for word in avoid if word in text})
    assert used == [], f"not {avoid}"
