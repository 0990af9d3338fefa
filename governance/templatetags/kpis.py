"""``{{ value|kpi_value:kpi }}``: a KPI's actual or target as a sentence says it, a money KPI's
with the company's currency (``governance.kpis.states.kpi_value_text``)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from governance.kpis.states import kpi_value_text
from governance.models import Kpi

register = template.Library()


@register.filter
def kpi_value(value: Decimal | None, kpi: Kpi) -> str:
    return kpi_value_text(kpi, value)
