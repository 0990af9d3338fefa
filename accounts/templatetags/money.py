"""``{{ amount|money }}``: an amount in the company's currency (``SKAM_CURRENCY``), grouped
the reader's way, with no decimals; "—" for an amount not known."""

from __future__ import annotations

from decimal import Decimal

from django import template

from accounts.money import currency_sign, in_currency, money_text

register = template.Library()


@register.filter
def money(amount: Decimal | float | str | None) -> str:
    return money_text(amount)


@register.filter
def money_exact(amount: Decimal | float | str | None) -> str:
    """An amount with the cents it has (a limit, a request): "1,500.50 RUB", "1,500 RUB"."""
    return money_text(amount, places="-2g")


@register.simple_tag
def currency() -> str:
    return currency_sign()


@register.filter
def with_currency(label: str) -> str:
    """``{{ _("Revenue")|with_currency }}``: a column's header over amounts."""
    return in_currency(str(label))
