"""Numbers said inside a sentence, in the reader's locale: "52,9" and "500 000" in Russian.

A template localizes the numbers it prints; a sentence built in Python with ``%`` does not, so it
formats its numbers with these first.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import formats


def number_text(value: Decimal | int | float, places: int | None = None) -> str:
    """``value`` with the locale's decimal mark and thousands grouping; ``places`` decimals, or
    as many as the value has."""
    return formats.number_format(value, places, use_l10n=True, force_grouping=True)


def amount_text(value: Decimal | int) -> str:
    """A sum of money, with the decimals it is kept with ("500 000,00" in Russian)."""
    return number_text(value)
