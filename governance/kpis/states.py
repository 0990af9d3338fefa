"""A KPI's state against its target (on track, watch, off track), and a KAM's KPI rows."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Subquery
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.money import money_text
from accounts.periods import quarter_start, quarters_back
from governance.kpis.counting import mandates_for_quarter, scope_key_of
from governance.kpis.snapshots import HUNDRED
from governance.models import (
    Kpi,
    KpiDirection,
    KpiSnapshot,
    KpiTarget,
    KpiUnit,
)

# State against target ------------------------------------------------------------------------


class KpiState:
    """How an actual stands against its target."""

    GOOD = "good"
    WATCH = "watch"
    BAD = "bad"
    NO_TARGET = "no_target"
    NO_ACTUAL = "no_actual"

    LABELS = {
        GOOD: _("On target"),
        WATCH: _("Watch"),
        BAD: _("Off target"),
        NO_TARGET: _("No target"),
        NO_ACTUAL: _("No actual yet"),
    }


def kpi_state(kpi: Kpi, actual: Decimal | None, target: Decimal | None) -> str:
    """``"good"``, ``"watch"``, ``"bad"``, ``"no_target"`` or ``"no_actual"``.

    Higher is better: at or above the target is good; short of it by up to the KPI's watch
    band (a share of the target) is watch; further, bad. Lower is better: mirrored. The band is
    taken of the target's size, so a negative target (a growth KPI) has a watch zone too.
    """
    if target is None:
        return KpiState.NO_TARGET
    if actual is None:
        return KpiState.NO_ACTUAL
    actual, target = Decimal(actual), Decimal(target)
    band = abs(target) * Decimal(kpi.watch_band_percent) / HUNDRED
    if kpi.direction == KpiDirection.LOWER:
        if actual <= target:
            return KpiState.GOOD
        return KpiState.WATCH if actual <= target + band else KpiState.BAD
    if actual >= target:
        return KpiState.GOOD
    return KpiState.WATCH if actual >= target - band else KpiState.BAD


def target_words(kpi: Kpi, target: str) -> str:
    """A target with the way its KPI points, in words: "at most 1" reads as a limit where a
    bare "1" reads as a goal."""
    if kpi.direction == KpiDirection.LOWER:
        return gettext("at most %(target)s") % {"target": target}
    return gettext("at least %(target)s") % {"target": target}


def kpi_value_text(kpi: Kpi, value: Decimal | None) -> str:
    """An actual or a target as a sentence says it: a money KPI's with the company's currency
    ("1,400 RUB"), any other as a number; "—" when there is none."""
    if value is None:
        return "—"
    if kpi.unit == KpiUnit.MONEY:
        return money_text(value)
    return floatformat(value, "-2g")


# Reading the snapshots -----------------------------------------------------------------------


@dataclass
class KpiRow:
    """One KPI of a scope in a quarter, for pages and the API."""

    kpi: Kpi
    period: datetime.date
    actual: Decimal | None
    target: Decimal | None
    state: str
    # (quarter, actual) for the quarters up to and including ``period``, oldest first.
    trend: list[tuple[datetime.date, Decimal | None]]

    @property
    def state_label(self) -> str:
        return str(KpiState.LABELS[self.state])

    @property
    def target_text(self) -> str:
        """The target as My mandate says it, "at most 1", "at least 1,400 RUB"; "—" when none
        is set."""
        if self.target is None:
            return "—"
        return target_words(self.kpi, kpi_value_text(self.kpi, self.target))

    @property
    def actual_text(self) -> str:
        return kpi_value_text(self.kpi, self.actual)

    @property
    def trend_texts(self) -> list[str]:
        return [kpi_value_text(self.kpi, value) for _quarter, value in self.trend]


def kpi_rows_for_kam(*, kam: User | int, period: datetime.date, history: int = 4) -> list[KpiRow]:
    """The KAM's own KPIs for a quarter (My mandate): every catalogue KPI with the actual from
    the snapshots, the target of the mandate the KAM is measured under in that quarter, its
    state, and the last ``history`` quarters' actuals as a trend. Three queries, whatever the
    history and the catalogue's size."""
    period = quarter_start(period)
    kam_id = kam if isinstance(kam, int) else kam.pk
    quarters = quarters_back(period, history)
    kpis = list(Kpi.objects.order_by("name", "pk"))
    actuals = {
        (kpi_id, quarter): value
        for kpi_id, quarter, value in KpiSnapshot.objects.filter(
            scope_key=scope_key_of(kam_id=kam_id), period__in=quarters
        ).values_list("kpi_id", "period", "value")
    }
    mandate = mandates_for_quarter(period).filter(kam_id=kam_id).values("pk")[:1]
    targets = dict(
        KpiTarget.objects.filter(
            mandate_id=Subquery(mandate), period=period, client__isnull=True
        ).values_list("kpi_id", "target")
    )
    rows = []
    for kpi in kpis:
        actual = actuals.get((kpi.pk, period))
        target = targets.get(kpi.pk)
        rows.append(
            KpiRow(
                kpi=kpi,
                period=period,
                actual=actual,
                target=target,
                state=kpi_state(kpi, actual, target),
                trend=[(quarter, actuals.get((kpi.pk, quarter))) for quarter in quarters],
            )
        )
    return rows
