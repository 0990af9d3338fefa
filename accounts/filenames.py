"""Names of people and clients made safe for a downloaded file's name: Latin letters, digits and
hyphens, Cyrillic transliterated as in Russian passports (ICAO Doc 9303): «Анна Петрова» →
"anna-petrova", «ООО «Волга-Сталь»» → "ooo-volga-stal". A file name then says whose figures it
holds, without a login or a database id."""

from __future__ import annotations

from django.utils.text import slugify

_CYRILLIC = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "ie",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "iu",
    "я": "ia",
}


def file_slug(text: str, *, limit: int = 60) -> str:
    """``text`` as a lowercase ASCII slug of at most ``limit`` characters ("" when nothing of
    it can be written so)."""
    latin = "".join(_CYRILLIC.get(char, char) for char in text.lower())
    return slugify(latin)[:limit].strip("-")
