"""``{{ amount|money }}``: an amount in the company's currency (``SKAM_CURRENCY``), grouped
the reader's way, with no decimals; "—" for an amount not known."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.conf import settings
from django.template.defaultfilters import floatformat
from django.utils.translation import get_language

register = template.Library()

# How a Russian reader writes the commonest currencies (a Latin code reads as a foreign word
# there); any other currency, and English, keep the ISO 4217 code.
RUSSIAN_SIGNS = {"RUB": "₽", "USD": "$", "EUR": "€", "CNY": "¥"}


def currency_sign() -> str:
    code = settings.SKAM_CURRENCY
    if (get_language() or "").startswith("ru"):
        return RUSSIAN_SIGNS.get(code, code)
    return code


@register.filter
def money(amount: Decimal | float | str | None) -> str:
    if amount is None or amount == "":
        return "—"
    return f"{floatformat(amount, '0g')}\N{NO-BREAK SPACE}{currency_sign()}"


@register.simple_tag
def currency() -> str:
    return currency_sign()
