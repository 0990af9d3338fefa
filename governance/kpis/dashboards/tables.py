"""What a dashboard is made of: cells, tables with their charts, headlines, and the quarter it
shows. Pages, exports and the API all render these.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Client, User
from accounts.money import in_currency
from accounts.periods import quarter_code, quarter_label, quarter_start
from governance.kpis.states import KpiState, target_words
from governance.models import (
    Kpi,
    KpiDirection,
    KpiUnit,
    PortfolioSnapshot,
)

TREND_QUARTERS = 8
RECENT_EXCEPTIONS = 10

# The states a KPI (or a policy target) can be in, as the page says them: never colour alone.
# Drift counts are not KPIs: none is "clear", some are "to decide". Lazy: built at import,
# before any reader's language is known.
STATE_LABELS: dict[str, Promise] = {
    **KpiState.LABELS,
    "clear": _("Clear"),
    "to_decide": _("To decide"),
}
# CSS badge classes of the house style, by state.
STATE_BADGES = {
    "good": "key",
    "watch": "warn",
    "bad": "bad",
    "no_target": "",
    "no_actual": "",
    "clear": "key",
    "to_decide": "bad",
}


# --- cells and tables -------------------------------------------------------------------------


def _rounded(value: Decimal | int | float | None, places: int) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(slots=True)
class Cell:
    """One value as the page shows it (``text``) and as exports and the API carry it
    (``value``, rounded exactly as shown), with an optional state and link."""

    value: object
    text: str
    state: str = ""
    url: str = ""
    # A cell that is a state and nothing else (the badge is its text).
    is_state: bool = False

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state]) if self.state else ""

    @property
    def badge(self) -> str:
        return STATE_BADGES.get(self.state, "")

    @property
    def is_number(self) -> bool:
        return isinstance(self.value, int | Decimal) and not isinstance(self.value, bool)


def text_cell(value: object, url: str = "") -> Cell:
    return Cell(value="" if value is None else str(value), text=str(value or "—"), url=url)


def number_cell(
    value: Decimal | int | float | None, places: int = 0, state: str = "", url: str = ""
) -> Cell:
    """A number rounded to ``places``; the page groups its thousands the way the language
    does."""
    rounded = _rounded(value, places)
    if rounded is None:
        return Cell(value=None, text="—", state=state, url=url)
    text = formats.number_format(rounded, places, use_l10n=True, force_grouping=True)
    return Cell(value=int(rounded) if places == 0 else rounded, text=text, state=state, url=url)


def state_cell(state: str) -> Cell:
    label = str(STATE_LABELS[state])
    return Cell(value=label, text=label, state=state, is_state=True)


UNIT_PLACES = {KpiUnit.MONEY: 0, KpiUnit.PERCENT: 1, KpiUnit.COUNT: 0}


def kpi_cell(kpi: Kpi, value: Decimal | None, state: str = "", url: str = "") -> Cell:
    return number_cell(value, UNIT_PLACES.get(kpi.unit, 2), state=state, url=url)


def kpi_label(kpi: Kpi) -> str:
    """A KPI's name where its amounts are listed: a money KPI says its currency."""
    return in_currency(kpi.name) if kpi.unit == KpiUnit.MONEY else kpi.name


def target_cell(kpi: Kpi, target: Decimal | None) -> Cell:
    """A KPI's target as the page says it ("at most 1"); exports carry the number."""
    cell = kpi_cell(kpi, target)
    if cell.value is not None:
        cell.text = target_words(kpi, cell.text)
    return cell


@dataclass
class Chart:
    """How a table is drawn: ``series`` are the indexes of the columns plotted against the
    first column."""

    kind: str  # "line" or "bar"
    series: list[int]
    y_label: str = ""
    # A count: the axis steps by whole numbers (never 0.1 of a decision).
    integer: bool = False


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    chart: Chart | None = None
    empty: str = ""
    help: str = ""
    # KPIs measured with no target set, said once under the table rather than on every row,
    # and where the targets are set (the mandate's targets page; empty: no mandate counts).
    unaimed: list[str] = field(default_factory=list)
    targets_url: str = ""

    def html(self) -> SafeString:
        """The table as HTML. Built here rather than in a template loop: a dashboard has a few
        hundred cells, and the template engine's per-cell cost would dominate the page."""
        parts = [f'<table class="data" data-testid="table-{escape(self.key)}"><thead><tr>']
        parts.extend(f'<th scope="col">{escape(column)}</th>' for column in self.columns)
        parts.append("</tr></thead><tbody>")
        for row in self.rows:
            parts.append("<tr>")
            for index, cell in enumerate(row):
                if cell.is_state:
                    inner = f'<span class="badge {cell.badge}">{escape(cell.text)}</span>'
                else:
                    inner = escape(cell.text)
                    if cell.url:
                        inner = f'<a href="{escape(cell.url)}">{inner}</a>'
                    if cell.state:
                        inner += (
                            f' <span class="badge {cell.badge}">{escape(cell.state_label)}</span>'
                        )
                if index == 0:
                    parts.append(f'<th scope="row">{inner}</th>')
                elif cell.is_number:
                    parts.append(f'<td class="num">{inner}</td>')
                else:
                    parts.append(f"<td>{inner}</td>")
            parts.append("</tr>")
        parts.append("</tbody></table>")
        # Every piece above is escaped.
        return mark_safe("".join(parts))

    def chart_data(self) -> dict[str, object]:
        assert self.chart is not None
        return {
            "key": self.key,
            "kind": self.chart.kind,
            "y_label": self.chart.y_label,
            "integer": self.chart.integer,
            "labels": [row[0].text for row in self.rows],
            "datasets": [
                {
                    "label": self.columns[index],
                    "data": [
                        float(row[index].value) if row[index].is_number else None
                        for row in self.rows
                    ],
                }
                for index in self.chart.series
            ],
        }

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "title": self.title,
            "columns": self.columns,
            "rows": [
                [
                    {"value": cell.value, "state": cell.state} if cell.state else cell.value
                    for cell in row
                ]
                for row in self.rows
            ],
        }


@dataclass
class Headline:
    """A figure at the top of a dashboard, against its target."""

    label: str
    value: Cell
    target: str
    state: str

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def badge(self) -> str:
        return STATE_BADGES.get(self.state, "")


@dataclass
class Dashboard:
    scope: str  # "portfolio", "kam", "account"
    title: str
    period: datetime.date
    periods: list[datetime.date]
    has_snapshots: bool
    headlines: list[Headline] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    slug: str = ""
    # On an account's dashboard: the account, and the KAM it was measured under in the quarter.
    client: Client | None = None
    kam: User | None = None

    @property
    def in_progress(self) -> bool:
        """The quarter is today's: its figures are what is known so far."""
        return self.period == quarter_start(timezone.localdate())

    @property
    def period_label(self) -> str:
        if self.in_progress:
            return gettext("%(quarter)s, so far") % {"quarter": quarter_label(self.period)}
        return quarter_label(self.period)

    @property
    def period_choices(self) -> list[tuple[str, str]]:
        shown = set(self.periods) | {self.period}
        return [(p.isoformat(), quarter_label(p)) for p in sorted(shown, reverse=True)]

    def chart_data(self) -> list[dict[str, object]]:
        return [table.chart_data() for table in self.tables if table.chart and table.rows]

    def filename(self, extension: str) -> str:
        return f"skam-{self.slug or self.scope}-{quarter_code(self.period)}.{extension}"

    def as_dict(self) -> dict[str, object]:
        return {
            "scope": self.scope,
            "title": self.title,
            "period": self.period.isoformat(),
            "periods": [p.isoformat() for p in sorted(self.periods, reverse=True)],
            "has_snapshots": self.has_snapshots,
            "headlines": [
                {
                    "label": h.label,
                    "value": h.value.value,
                    "target": h.target,
                    "state": h.state,
                }
                for h in self.headlines
            ],
            "tables": [table.as_dict() for table in self.tables],
        }


# --- shared reads -----------------------------------------------------------------------------


def snapshot_periods() -> list[datetime.date]:
    """Quarters the snapshot job has run for, newest first (one row per quarter)."""
    return list(PortfolioSnapshot.objects.order_by("-period").values_list("period", flat=True))


def default_period(periods: list[datetime.date], today: datetime.date) -> datetime.date:
    """Today's quarter, with what is known so far (the nightly job snapshots it), else the
    latest quarter with snapshots before it; before the first run, today's quarter."""
    current = quarter_start(today)
    for period in periods:  # newest first
        if period <= current:
            return period
    return current


def percent_of(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole``; none of nothing."""
    return None if not whole else part * 100 / whole


def attainment(kpi: Kpi, actual: Decimal | None, target: Decimal | None) -> Decimal | None:
    """The actual as a share of the target, in per cent, so that 100 is on target whichever
    way the KPI points."""
    if actual is None or target is None:
        return None
    if kpi.direction == KpiDirection.LOWER:
        return None if actual == 0 else target * 100 / actual
    return None if target == 0 else actual * 100 / target
