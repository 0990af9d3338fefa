"""``{{ day|quarter }}``: a quarter as the reader writes it ("2026 Q3", "III кв. 2026")."""

from __future__ import annotations

import datetime

from django import template

from accounts.periods import quarter_label, quarter_of_label, quarter_start

register = template.Library()


@register.filter
def quarter(value: datetime.date | str | None) -> str:
    """The quarter of a date, or of a label stored earlier ("2026 Q3" in a proposal's frozen
    evidence); anything else is shown as it is."""
    if isinstance(value, datetime.date):
        return quarter_label(quarter_start(value))
    if isinstance(value, str):
        day = quarter_of_label(value)
        return quarter_label(day) if day else value
    return "" if value is None else str(value)
