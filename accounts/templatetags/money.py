"""``{{ amount|money }}``: an amount in the company's currency (``SKAM_CURRENCY``), grouped
the reader's way, with no decimals; "—" for an amount not known."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.conf import settings
from django.template.defaultfilters import floatformat

register = template.Library()


@register.filter
def money(amount: Decimal | float | str | None) -> str:
    if amount is None or amount == "":
        return "—"
    return f"{floatformat(amount, '0g')}\N{NO-BREAK SPACE}{settings.SKAM_CURRENCY}"


@register.simple_tag
def currency() -> str:
    return settings.SKAM_CURRENCY
