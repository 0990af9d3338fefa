"""Searching the register by name and registration number, forgiving of how a name is spelled.

A name is compared in its *folded* form: lower case, Cyrillic spelled in Latin letters (one
transliteration, close to the passport one), so ``ё`` and ``е`` are one letter and "Волга"
finds "Volga". The client keeps its folded name in a column the database computes
(``Client.search_name``, a generated column: every write path keeps it, bulk imports and SQL
included), and the query is folded the same way here in Python.

On PostgreSQL the folded name and the registration number carry trigram indexes (pg_trgm,
``accounts/migrations/0003``): what holds the text typed (a part of a word) is found through
the index; when nothing does, a typo is found through trigram word similarity, the closest
match first. SQLite, the embedded default, keeps
the plain substring search it always had (its column holds the name in lower case only: its
parser cannot nest the replacements). A leaf: it imports no model.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connections
from django.db.models import F, FloatField, Func, Q, QuerySet, TextField, Value
from django.db.models.functions import Cast, Greatest

from accounts.pagination import first_ids

# Each Cyrillic letter's Latin spelling in the folded form; ``ё`` folds like ``е``.
CYRILLIC_TO_LATIN = {
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
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
}
# Upper case too: SQLite's LOWER() leaves letters outside ASCII as they are.
_FOLDS = [
    *((letter.upper(), latin) for letter, latin in CYRILLIC_TO_LATIN.items()),
    *CYRILLIC_TO_LATIN.items(),
]
_FOLD_TABLE = str.maketrans(dict(_FOLDS))


def fold(text: str) -> str:
    """``text`` as the folded column holds it: Cyrillic in Latin letters, then lower case."""
    return text.translate(_FOLD_TABLE).lower()


class Folded(Func):
    """The database's ``fold``: the same replacements, then ``LOWER``. Deterministic, so a
    generated column may hold it."""

    output_field = TextField()
    arity = 1

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list]:
        sql, params = compiler.compile(self.source_expressions[0])
        params = list(params)
        for letter, latin in _FOLDS:
            sql = f"REPLACE({sql}, %s, %s)"
            params += [letter, latin]
        return f"LOWER({sql})", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list]:
        # SQLite's parser refuses sixty-odd nested REPLACE calls; the embedded default's search
        # does not read this column (``clients_search``), which keeps the name in lower case.
        sql, params = compiler.compile(self.source_expressions[0])
        return f"LOWER({sql})", list(params)


# Matches of a search read once, by id, up to here; a search holding more is read through
# the index for its count and for its page.
FEW_MATCHES = 1000


def clients_search(queryset: QuerySet, text: str) -> QuerySet:
    """The clients of ``queryset`` whose name or registration number holds ``text``, in the
    register's order; when none does, those whose name comes closest to it (a typo, another
    spelling), the closest first (on PostgreSQL; SQLite finds only what holds the text).

    Ranking every name by closeness costs the same as reading every match: at a million
    clients, a few common words match tens of thousands of names, and ranking them took half
    a second. What holds the text as typed is found through the trigram index and read in
    the name's order, so the closeness is computed only when nothing holds it (one query
    tells which, and reads the matches when they are few)."""
    text = text.replace("\x00", "").strip()  # a NUL no database column holds
    if not text:
        return queryset
    if not fold(text).strip() and not text.isdigit():
        return queryset.none()  # "ь" alone: nothing any name could hold
    if connections[queryset.db].vendor != "postgresql":
        return queryset.filter(Q(name__icontains=text) | Q(registration_number__icontains=text))
    folded = fold(text)
    # ``~*`` rather than Django's ``UPPER(…) LIKE UPPER(…)``, which no trigram index serves: an
    # OR with one unindexed branch reads every client.
    holding = queryset.filter(
        Q(search_name__contains=folded) | Q(registration_number__iregex=re.escape(text))
    )
    # Read as a set rather than asked ``exists()``: under ``LIMIT 1`` PostgreSQL expects to
    # meet a match soon and reads the table in order, 25 ms at 100,000 clients for a name no
    # client has. A search usually holds a few names: they are read once, and the page, its
    # count and its order are taken from their ids, where each read the index again (a third
    # of the page's time each at a million clients, with a name's common words).
    ids = first_ids(holding, FEW_MATCHES + 1)
    if len(ids) > FEW_MATCHES:
        return holding.order_by("name", "pk")
    if ids:
        return queryset.filter(pk__in=ids).order_by("name", "pk")
    return closest(queryset, text)


def closest(queryset: QuerySet, text: str) -> QuerySet:
    """The clients whose name comes close to ``text`` (pg_trgm's word similarity above its
    threshold, through the trigram index), the closest first. The closeness is kept in double
    precision, so that a cursor holding it finds it again."""
    folded = fold(text.strip())
    return (
        queryset.filter(search_name__trigram_word_similar=folded)
        .annotate(
            search_rank=Cast(
                Greatest(
                    TrigramWordSimilarity(Value(folded), F("search_name")),
                    TrigramWordSimilarity(Value(text.strip().lower()), F("registration_number")),
                ),
                FloatField(),
            ),
        )
        # Equally close names in the register's order.
        .order_by("-search_rank", "name", "pk")
    )


def is_closest(queryset: QuerySet) -> bool:
    """Whether ``queryset`` is a search that found nothing holding the text, and lists the
    closest names instead (the page says so)."""
    return "search_rank" in queryset.query.annotations
