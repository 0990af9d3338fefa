"""``{{ amount|money }}``: an amount in the company's currency (``SKAM_CURRENCY``), grouped
the reader's way, with no decimals; "—" for an amount not known."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat

from accounts.money import currency_sign, in_currency

register = template.Library()


@register.filter
def money(amount: Decimal | float | str | None) -> str:
    if amount is None or amount == "":
        return "—"
    return f"{floatformat(amount, '0g')}\N{NO-BREAK SPACE}{currency_sign()}"


@register.simple_tag
def currency() -> str:
    return currency_sign()


@register.filter
def with_currency(label: str) -> str:
    """``{{ _("Revenue")|with_currency }}``: a column's header over amounts."""
    return in_currency(str(label))
