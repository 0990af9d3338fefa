"""The company's one currency (``SKAM_CURRENCY``), as the reader writes it: "₽" in Russian for
the commonest currencies, the ISO 4217 code otherwise and in English. Every amount SKAM shows
says it, in its cell or in its column's header."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.template.defaultfilters import floatformat
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# How a Russian reader writes the commonest currencies (a Latin code reads as a foreign word
# there); any other currency, and English, keep the ISO 4217 code.
RUSSIAN_SIGNS = {"RUB": "₽", "USD": "$", "EUR": "€", "CNY": "¥"}


def currency_sign() -> str:
    code = settings.SKAM_CURRENCY
    if (get_language() or "").startswith("ru"):
        return RUSSIAN_SIGNS.get(code, code)
    return code


def money_text(amount: Decimal | float | str | None, *, places: str = "0g") -> str:
    """An amount followed by the company's currency, grouped the reader's way ("1,500 RUB",
    «1 500 ₽»); ``places`` as ``floatformat`` takes it. "—" for an amount not known."""
    if amount is None or amount == "":
        return "—"
    return f"{floatformat(amount, places)}\N{NO-BREAK SPACE}{currency_sign()}"


def in_currency(label: str) -> str:
    """A header over amounts, with their currency: "Revenue, RUB", «Выручка, ₽»."""
    return _("%(label)s, %(currency)s") % {"label": label, "currency": currency_sign()}


@extend_schema_field(
    {"type": "string", "pattern": "^[A-Z]{3}$", "example": "RUB", "readOnly": True}
)
class CurrencyField(serializers.Field):
    """The ISO 4217 code of the company's currency, beside the amounts of an API object: an
    amount alone does not say what it counts. Read-only; the same for every object."""

    def __init__(self, *, amounts: str, **kwargs: object) -> None:
        kwargs.update(
            source="*",
            read_only=True,
            help_text=gettext_lazy(
                "The currency of %(amounts)s: the ISO 4217 code of the company's one currency "
                "(the SKAM_CURRENCY setting)."
            )
            % {"amounts": amounts},
        )
        super().__init__(**kwargs)

    def to_representation(self, value: object) -> str:
        return settings.SKAM_CURRENCY
