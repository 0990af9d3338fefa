"""The read side of the directors' dashboards: the portfolio, one KAM, one account.

Every figure comes from stored rows — ``PortfolioSnapshot``, ``KpiSnapshot``, ``KpiTarget`` —
and a few small tables (the policy in force, decisions, mandates, one client's figures, budgets
and exceptions). Nothing here aggregates over all clients or all figures, so neither the time
nor the number of queries of a dashboard grows with the register.

A dashboard lays itself out as tables of cells. The page, the "as a table" view of each chart,
the CSV and XLSX exports and the API all read the same cells, so they show the same numbers.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncQuarter
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from accounts.models import Client, ClientFigure, User, quarter_label, quarter_start
from accounts.roles import Role
from criteria.models import Evaluation, RunStatus
from governance.budgets import with_spent
from governance.kpis import (
    KpiState,
    adopted_mandates,
    counting_mandates,
    counting_targets,
    kpi_state,
    next_quarter,
    previous_quarter,
    quarters_back,
)
from governance.kpis import mandate_of_kam as kam_mandates
from governance.models import (
    Budget,
    Decision,
    ExceptionRequest,
    ExceptionState,
    Kpi,
    KpiDirection,
    KpiScope,
    KpiSnapshot,
    KpiTarget,
    KpiUnit,
    Mandate,
    MandateAccount,
    MandateStatus,
    Policy,
    PolicyStatus,
    PortfolioSnapshot,
)

TREND_QUARTERS = 8
RECENT_EXCEPTIONS = 10

VIEW_DASHBOARD = "governance.view_dashboard"
VIEW_OWN_KPIS = "governance.view_own_kpis"

# The states a KPI (or a policy target) can be in, as the page says them: never colour alone.
# Drift counts are not KPIs: none is "clear", some are "to decide".
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


class InvalidPeriod(ValueError):
    """A ``period`` that is not the first day of a quarter."""


def period_parse(raw: str | None) -> datetime.date | None:
    """The quarter asked for in ``?period=YYYY-MM-DD``; None when none is asked."""
    if not raw:
        return None
    try:
        day = datetime.date.fromisoformat(raw)
    except ValueError:
        raise InvalidPeriod(
            _("“%(period)s” is not a date: give the first day of a quarter, as 2026-01-01.")
            % {"period": raw[:20]}
        ) from None
    if day != quarter_start(day):
        raise InvalidPeriod(
            _("%(period)s is not the first day of a quarter (1 Jan, 1 Apr, 1 Jul or 1 Oct).")
            % {"period": day.isoformat()}
        )
    return day


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


@dataclass
class Chart:
    """How a table is drawn: ``series`` are the indexes of the columns plotted against the
    first column."""

    kind: str  # "line" or "bar"
    series: list[int]
    y_label: str = ""


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    chart: Chart | None = None
    empty: str = ""
    help: str = ""

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
    def period_label(self) -> str:
        return quarter_label(self.period)

    @property
    def period_choices(self) -> list[tuple[str, str]]:
        shown = set(self.periods) | {self.period}
        return [(p.isoformat(), quarter_label(p)) for p in sorted(shown, reverse=True)]

    def chart_data(self) -> list[dict[str, object]]:
        return [table.chart_data() for table in self.tables if table.chart and table.rows]

    def filename(self, extension: str) -> str:
        quarter = quarter_label(self.period).replace(" ", "-")
        return f"skam-{self.slug or self.scope}-{quarter}.{extension}"

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


# --- who may see what -------------------------------------------------------------------------


def _kams() -> object:
    """People a KAM dashboard can be about: in the KAM role, or holding a mandate."""
    in_role = User.groups.through.objects.filter(user=OuterRef("pk"), group__name=Role.KAM)
    with_mandate = Mandate.objects.filter(kam=OuterRef("pk"))
    return User.objects.filter(Exists(in_role) | Exists(with_mandate))


def dashboard_kam_for(user: User, kam_id: int) -> User:
    """The KAM whose dashboard ``user`` asks for: directors and the committee see every KAM's,
    a KAM only their own (another's is 404); anyone else is refused (403)."""
    dashboard_kam_check(user, kam_id)
    return get_object_or_404(_kams(), pk=kam_id) if user.has_perm(VIEW_DASHBOARD) else user


def dashboard_kam_check(user: User, kam_id: int) -> None:
    """What ``dashboard_kam_for`` decides (403, 404), for a page kept built. The page was built
    only for a KAM (or someone with a mandate), and a change of roles or mandates renews every
    kept page, so for a reader who sees all dashboards nothing is left to read; a KAM may see
    only their own."""
    if user.has_perm(VIEW_DASHBOARD):
        return
    if not user.has_perm(VIEW_OWN_KPIS):
        raise PermissionDenied
    if kam_id != user.pk:
        raise Http404


def _dashboard_clients(user: User) -> QuerySet[Client]:
    """The accounts whose dashboards ``user`` may open: all for directors and the committee;
    for a KAM, the accounts of their granted mandates (in force or since superseded: the KAM
    page of a past quarter links them); anyone else is refused (403)."""
    if user.has_perm(VIEW_DASHBOARD):
        return Client.objects.all()
    if user.has_perm(VIEW_OWN_KPIS):
        own = MandateAccount.objects.filter(
            client=OuterRef("pk"), mandate__in=adopted_mandates().filter(kam=user)
        )
        return Client.objects.filter(Exists(own))
    raise PermissionDenied


def dashboard_client_for(user: User, client_id: int) -> Client:
    """The account whose dashboard ``user`` asks for (another KAM's is 404)."""
    return get_object_or_404(_dashboard_clients(user).select_related("owner_kam"), pk=client_id)


def dashboard_client_check(user: User, client_id: int) -> None:
    """What ``dashboard_client_for`` decides (403, 404), for a page kept built: nothing to
    read for a reader who sees every account (the page exists only for a client), one query
    for a KAM."""
    if not user.has_perm(VIEW_DASHBOARD) and not (
        _dashboard_clients(user).filter(pk=client_id).exists()
    ):
        raise Http404


# --- shared reads -----------------------------------------------------------------------------


def snapshot_periods() -> list[datetime.date]:
    """Quarters the snapshot job has run for, newest first (one row per quarter)."""
    return list(PortfolioSnapshot.objects.order_by("-period").values_list("period", flat=True))


def _default_period(periods: list[datetime.date], today: datetime.date) -> datetime.date:
    """The latest closed quarter with snapshots (the one in progress has only part of its
    figures; it stays a click away), else the latest with snapshots; before the first run,
    the last closed quarter."""
    closed = previous_quarter(today)
    for period in periods:  # newest first
        if period <= closed:
            return period
    return periods[0] if periods else closed


def _target_text(kpi: Kpi, target: Decimal | None) -> str:
    return "—" if target is None else kpi_cell(kpi, target).text


def attainment(kpi: Kpi, actual: Decimal | None, target: Decimal | None) -> Decimal | None:
    """The actual as a share of the target, in per cent, so that 100 is on target whichever
    way the KPI points."""
    if actual is None or target is None:
        return None
    if kpi.direction == KpiDirection.LOWER:
        return None if actual == 0 else target * 100 / actual
    return None if target == 0 else actual * 100 / target


# --- the portfolio ----------------------------------------------------------------------------


def portfolio_dashboard(
    *, period: datetime.date | None = None, today: datetime.date | None = None
) -> Dashboard:
    """Key clients against the policy's range and share, the coverage distribution, decisions
    over time, drift, the portfolio's KPIs and every KAM's state, for a quarter."""
    today = today or timezone.localdate()
    snapshots = list(PortfolioSnapshot.objects.order_by("-period"))
    periods = [s.period for s in snapshots]
    period = period or _default_period(periods, today)
    trend = quarters_back(period, TREND_QUARTERS)
    by_period = {s.period: s for s in snapshots}
    current = by_period.get(period)
    policy = Policy.objects.filter(status=PolicyStatus.IN_FORCE).first()
    board = Dashboard(
        scope="portfolio",
        title=_("Portfolio dashboard"),
        period=period,
        periods=periods,
        has_snapshots=current is not None,
    )
    if current is not None:
        board.headlines = _portfolio_headlines(current, policy)
    board.tables.append(_key_clients_table(trend, by_period, policy))
    board.tables.append(_coverage_table(current))
    board.tables.append(_portfolio_kpi_table(trend))
    kam_table, without_target = _kam_table(period)
    board.tables.append(kam_table)
    board.tables.append(_decisions_table(trend))
    board.tables.append(_drift_table(today, without_target))
    return board


def _share(part: Decimal, whole: Decimal) -> Decimal | None:
    return None if not whole else part * 100 / whole


_POLICY_KPI = Kpi(direction=KpiDirection.HIGHER, watch_band_percent=Decimal(10))


def _portfolio_headlines(current: PortfolioSnapshot, policy: Policy | None) -> list[Headline]:
    count = current.key_clients
    if policy is None:
        count_state, count_target = "no_target", "—"
    else:
        within = policy.key_clients_min <= count <= policy.key_clients_max
        count_state = "good" if within else "bad"
        count_target = f"{policy.key_clients_min}–{policy.key_clients_max}"
    share = _share(current.key_revenue, current.total_revenue)
    target = policy.key_sales_share_target if policy else None
    share_state = kpi_state(_POLICY_KPI, share, target)
    return [
        Headline(_("Key clients"), number_cell(count), count_target, count_state),
        Headline(
            _("Key clients' share of sales, %"),
            number_cell(share, 1),
            "—" if target is None else number_cell(target, 1).text,
            share_state,
        ),
    ]


def _key_clients_table(
    trend: list[datetime.date],
    by_period: dict[datetime.date, PortfolioSnapshot],
    policy: Policy | None,
) -> Table:
    rows = []
    for quarter in trend:
        snapshot = by_period.get(quarter)
        if snapshot is None:
            continue
        share = _share(snapshot.key_revenue, snapshot.total_revenue)
        target = policy.key_sales_share_target if policy else None
        rows.append(
            [
                text_cell(quarter_label(quarter)),
                number_cell(snapshot.key_clients),
                number_cell(policy.key_clients_min if policy else None),
                number_cell(policy.key_clients_max if policy else None),
                number_cell(share, 1, state=kpi_state(_POLICY_KPI, share, target)),
                number_cell(target, 1),
                number_cell(snapshot.clients),
                number_cell(snapshot.total_revenue),
                number_cell(snapshot.key_revenue),
            ]
        )
    return Table(
        key="key-clients",
        title=_("Key clients and their share of sales"),
        columns=[
            _("Quarter"),
            _("Key clients"),
            _("Policy: at least"),
            _("Policy: at most"),
            _("Key clients' share of sales, %"),
            _("Target share, %"),
            _("Clients"),
            _("Total sales"),
            _("Key clients' sales"),
        ],
        rows=rows,
        chart=Chart("line", [1, 2, 3, 4, 5], y_label=_("Key clients / share, %")),
        empty=_("No quarter has a snapshot yet."),
        help=_("Targets are those of the policy in force."),
    )


def _coverage_table(current: PortfolioSnapshot | None) -> Table:
    rows = []
    if current is not None:
        every = list(current.coverage_buckets or [])
        key = list(current.key_coverage_buckets or [])
        for bucket in range(10):
            rows.append(
                [
                    text_cell(f"{bucket * 10}–{bucket * 10 + 10} %"),
                    number_cell(every[bucket] if bucket < len(every) else 0),
                    number_cell(key[bucket] if bucket < len(key) else 0),
                ]
            )
    return Table(
        key="coverage",
        title=_("Coverage of needs by our USPs"),
        columns=[_("Coverage"), _("Evaluated clients"), _("Key clients")],
        rows=rows,
        chart=Chart("bar", [1, 2], y_label=_("Clients")),
        empty=_("No snapshot for this quarter."),
        help=_("The ruler asks a key client's needs to be covered about 75 %."),
    )


def _portfolio_kpi_table(trend: list[datetime.date]) -> Table:
    snapshots = KpiSnapshot.objects.filter(
        scope=KpiScope.PORTFOLIO, period__in=trend
    ).select_related("kpi")
    values: dict[int, dict[datetime.date, Decimal | None]] = defaultdict(dict)
    kpis: dict[int, Kpi] = {}
    for snapshot in snapshots:
        kpis[snapshot.kpi_id] = snapshot.kpi
        values[snapshot.kpi_id][snapshot.period] = snapshot.value
    rows = [
        [text_cell(kpi.name)] + [kpi_cell(kpi, values[kpi.pk].get(q)) for q in trend]
        for kpi in sorted(kpis.values(), key=lambda k: k.name)
    ]
    return Table(
        key="portfolio-kpis",
        title=_("The portfolio's KPIs by quarter"),
        columns=[_("KPI"), *[quarter_label(q) for q in trend]],
        rows=rows,
        empty=_("No portfolio KPI has been computed for these quarters."),
    )


def _kam_table(period: datetime.date) -> tuple[Table, int]:
    """Each KAM with KPI snapshots in the quarter, with how many KPIs are in which state.
    Also returns how many of those KPIs have no target (drift: measured, never aimed at).
    Targets are those of the mandate each KAM is measured under in the quarter."""
    snapshots = KpiSnapshot.objects.filter(scope=KpiScope.KAM, period=period).select_related(
        "kpi", "kam"
    )
    mandate_of_kam = kam_mandates(period)
    targets = {
        (kpi_id, mandate_id): target
        for kpi_id, mandate_id, target in KpiTarget.objects.filter(
            period=period, client__isnull=True, mandate_id__in=list(mandate_of_kam.values())
        ).values_list("kpi_id", "mandate_id", "target")
    }
    states: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    kams: dict[int, User] = {}
    for snapshot in snapshots:
        kams[snapshot.kam_id] = snapshot.kam
        target = targets.get((snapshot.kpi_id, mandate_of_kam.get(snapshot.kam_id)))
        states[snapshot.kam_id][kpi_state(snapshot.kpi, snapshot.value, target)] += 1
    query = f"?period={period.isoformat()}"
    rows = []
    for kam in sorted(kams.values(), key=lambda u: (u.last_name, u.first_name, u.username)):
        counted = states[kam.pk]
        url = reverse("governance:dashboard-kam", args=[kam.pk]) + query
        bad = counted[KpiState.BAD]
        rows.append(
            [
                text_cell(str(kam), url=url),
                number_cell(sum(counted.values())),
                number_cell(counted[KpiState.GOOD]),
                number_cell(counted[KpiState.WATCH]),
                number_cell(bad, state=KpiState.BAD if bad else ""),
                number_cell(counted[KpiState.NO_TARGET]),
            ]
        )
    table = Table(
        key="kams",
        title=_("Key-account managers"),
        columns=[
            _("Key-account manager"),
            _("KPIs measured"),
            *(
                str(KpiState.LABELS[state])
                for state in (KpiState.GOOD, KpiState.WATCH, KpiState.BAD, KpiState.NO_TARGET)
            ),
        ],
        rows=rows,
        empty=_("No KAM's KPIs have been computed for this quarter."),
        help=_("Open a manager to see each KPI against its target."),
    )
    return table, sum(s[KpiState.NO_TARGET] for s in states.values())


def _decisions_table(trend: list[datetime.date]) -> Table:
    counted = {
        row["quarter"]: row
        for row in Decision.objects.filter(
            effective_date__gte=trend[0], effective_date__lt=next_quarter(trend[-1])
        )
        .annotate(quarter=TruncQuarter("effective_date"))
        .order_by()
        .values("quarter")
        .annotate(
            granted=Count("pk", filter=Q(key_status=True)),
            revoked=Count("pk", filter=Q(key_status=False)),
            other=Count("pk", filter=Q(key_status__isnull=True)),
        )
    }
    rows = []
    for quarter in trend:
        row = counted.get(quarter, {})
        rows.append(
            [
                text_cell(quarter_label(quarter)),
                number_cell(row.get("granted", 0)),
                number_cell(row.get("revoked", 0)),
                number_cell(row.get("other", 0)),
            ]
        )
    return Table(
        key="decisions",
        title=_("The committee's decisions by quarter"),
        columns=[
            _("Quarter"),
            _("Key status granted"),
            _("Key status revoked"),
            _("Other decisions"),
        ],
        rows=rows,
        chart=Chart("bar", [1, 2, 3], y_label=_("Decisions")),
    )


def _drift_table(today: datetime.date, kpis_without_target: int) -> Table:
    """Where things decide themselves: counted from the small governance tables only. The
    client-level drift (key status with no decision behind it…) is on the drift panel."""
    overdue = Decision.objects.filter(superseded_by__isnull=True, review_date__lt=today).count()
    expired = Mandate.objects.filter(status=MandateStatus.IN_FORCE, valid_to__lt=today).count()
    unanswered = ExceptionRequest.objects.filter(
        state=ExceptionState.PENDING, respond_by__lt=timezone.now()
    ).count()
    drift = reverse("governance:drift")

    def line(label: str, count: int, url: str = "") -> list[Cell]:
        state = "to_decide" if count else "clear"
        return [text_cell(label, url=url), number_cell(count, state=state)]

    return Table(
        key="drift",
        title=_("Drift: what decides itself"),
        columns=[_("Indicator"), _("Count")],
        rows=[
            line(_("Decisions past their review date"), overdue, drift),
            line(_("Mandates in force past their end date"), expired),
            line(_("Exception requests past their answer date"), unanswered),
            line(_("KAM KPIs measured without a target this quarter"), kpis_without_target),
        ],
        help=_(
            "Key status with no decision behind it and clients never considered are listed "
            "on the drift panel."
        ),
    )


# --- one KAM ----------------------------------------------------------------------------------


def kam_dashboard(
    *, kam: User, period: datetime.date | None = None, today: datetime.date | None = None
) -> Dashboard:
    """Each of the KAM's KPIs against its target with its state, their trend as a share of
    target, and the accounts of the mandate the KAM is measured under in the quarter."""
    today = today or timezone.localdate()
    periods = snapshot_periods()
    period = period or _default_period(periods, today)
    trend = quarters_back(period, TREND_QUARTERS)
    counting = counting_mandates(adopted_mandates().filter(kam=kam), trend)
    mandate_id = counting.get((kam.pk, period))
    accounts = (
        list(
            MandateAccount.objects.filter(mandate_id=mandate_id)
            .select_related("client")
            .order_by("client__name")
        )
        if mandate_id
        else []
    )
    client_ids = [account.client_id for account in accounts]
    snapshots = list(
        KpiSnapshot.objects.filter(
            Q(scope=KpiScope.KAM, kam=kam, period__in=trend)
            | Q(scope=KpiScope.ACCOUNT, client_id__in=client_ids, period=period)
        ).select_related("kpi")
    )
    targets = counting_targets(counting)
    own = [s for s in snapshots if s.scope == KpiScope.KAM]
    board = Dashboard(
        scope="kam",
        title=str(kam),
        period=period,
        periods=periods,
        has_snapshots=any(s.period == period for s in own),
        slug=f"kam-{kam.username}",
    )
    board.tables.append(_kam_kpi_table(own, targets, period))
    board.tables.append(_kam_trend_table(own, targets, trend))
    account_snapshots = [s for s in snapshots if s.scope == KpiScope.ACCOUNT]
    board.tables.append(_accounts_table(accounts, account_snapshots, targets, period))
    return board


def _kam_kpi_table(
    snapshots: list[KpiSnapshot],
    targets: dict[tuple[int, int | None, datetime.date], Decimal],
    period: datetime.date,
) -> Table:
    previous = quarters_back(period, 2)[0]
    by_kpi: dict[int, dict[datetime.date, KpiSnapshot]] = defaultdict(dict)
    for snapshot in snapshots:
        by_kpi[snapshot.kpi_id][snapshot.period] = snapshot
    rows = []
    for quarters in sorted(by_kpi.values(), key=lambda q: next(iter(q.values())).kpi.name):
        current = quarters.get(period)
        if current is None:
            continue
        kpi = current.kpi
        target = targets.get((kpi.pk, None, period))
        before = quarters.get(previous)
        state = kpi_state(kpi, current.value, target)
        rows.append(
            [
                text_cell(kpi.name),
                text_cell(kpi.get_direction_display()),
                kpi_cell(kpi, target),
                kpi_cell(kpi, current.value),
                state_cell(state),
                kpi_cell(kpi, before.value if before else None),
            ]
        )
    return Table(
        key="kpis",
        title=_("KPIs against target"),
        columns=[
            _("KPI"),
            _("Direction"),
            _("Target"),
            _("Actual"),
            _("State"),
            _("Previous quarter"),
        ],
        rows=rows,
        empty=_("No KPI has been computed for this quarter."),
        help=_(
            "Good: on target. Watch: missing it by no more than the KPI's watch band. "
            "Bad: missing it by more."
        ),
    )


def _kam_trend_table(
    snapshots: list[KpiSnapshot],
    targets: dict[tuple[int, int | None, datetime.date], Decimal],
    trend: list[datetime.date],
) -> Table:
    by_kpi: dict[int, dict[datetime.date, KpiSnapshot]] = defaultdict(dict)
    kpis: dict[int, Kpi] = {}
    for snapshot in snapshots:
        by_kpi[snapshot.kpi_id][snapshot.period] = snapshot
        kpis[snapshot.kpi_id] = snapshot.kpi
    ordered = sorted(kpis.values(), key=lambda k: k.name)
    rows = []
    for quarter in trend:
        row = [text_cell(quarter_label(quarter))]
        for kpi in ordered:
            snapshot = by_kpi[kpi.pk].get(quarter)
            actual = snapshot.value if snapshot else None
            row.append(
                number_cell(attainment(kpi, actual, targets.get((kpi.pk, None, quarter))), 1)
            )
        rows.append(row)
    if not ordered:
        rows = []
    return Table(
        key="trend",
        title=_("The trend: each KPI as a share of its target, %"),
        columns=[_("Quarter"), *[kpi.name for kpi in ordered]],
        rows=rows,
        chart=Chart("line", list(range(1, len(ordered) + 1)), y_label=_("Per cent of target")),
        empty=_("No KPI has been computed for these quarters."),
        help=_("100 is on target; above is better, whichever way the KPI points."),
    )


def _accounts_table(
    accounts: list[MandateAccount],
    snapshots: list[KpiSnapshot],
    targets: dict[tuple[int, int | None, datetime.date], Decimal],
    period: datetime.date,
) -> Table:
    kpis: dict[int, Kpi] = {}
    values: dict[tuple[int, int], Decimal | None] = {}
    for snapshot in snapshots:
        kpis[snapshot.kpi_id] = snapshot.kpi
        values[(snapshot.client_id, snapshot.kpi_id)] = snapshot.value
    ordered = sorted(kpis.values(), key=lambda k: k.name)
    query = f"?period={period.isoformat()}"
    rows = []
    for account in accounts:
        client = account.client
        url = reverse("governance:dashboard-account", args=[client.pk]) + query
        row = [
            text_cell(client.name, url=url),
            text_cell(_("key") if client.is_key else _("regular")),
        ]
        for kpi in ordered:
            actual = values.get((client.pk, kpi.pk))
            target = targets.get((kpi.pk, client.pk, period))
            state = kpi_state(kpi, actual, target) if target is not None else ""
            row.append(kpi_cell(kpi, actual, state=state))
        rows.append(row)
    return Table(
        key="accounts",
        title=_("Accounts of the mandate"),
        columns=[_("Account"), _("Status"), *[kpi.name for kpi in ordered]],
        rows=rows,
        empty=_("No mandate in force names accounts for this manager."),
        help=_("A state is shown where the mandate sets a target for the account itself."),
    )


# --- one account ------------------------------------------------------------------------------


def account_dashboard(
    *, client: Client, period: datetime.date | None = None, today: datetime.date | None = None
) -> Dashboard:
    """One account's figures, coverage trend, KPIs, exceptions and budget, by quarter."""
    today = today or timezone.localdate()
    periods = snapshot_periods()
    period = period or _default_period(periods, today)
    trend = quarters_back(period, TREND_QUARTERS)
    end = next_quarter(period)
    snapshots = list(
        KpiSnapshot.objects.filter(
            scope=KpiScope.ACCOUNT, client=client, period__in=trend
        ).select_related("kpi", "kam")
    )
    kams_of_client = MandateAccount.objects.filter(client=client).values("mandate__kam")
    counting = counting_mandates(adopted_mandates().filter(kam__in=kams_of_client), trend)
    targets = counting_targets(counting, client=client)
    board = Dashboard(
        scope="account",
        client=client,
        title=client.name,
        period=period,
        periods=periods,
        has_snapshots=any(s.period == period for s in snapshots),
        slug=f"account-{client.pk}",
        kam=next((s.kam for s in snapshots if s.period == period), None),
    )
    board.tables.append(_account_kpi_table(client, snapshots, targets, period))
    board.tables.append(_figures_table(client, trend))
    board.tables.append(_coverage_trend_table(client, trend, end))
    board.tables.append(_account_exceptions_table(client, trend, end))
    board.tables.append(_budget_table(client, trend))
    board.tables.append(_status_table(client, end))
    return board


def _account_kpi_table(
    client: Client,
    snapshots: list[KpiSnapshot],
    targets: dict[tuple[int, int | None, datetime.date], Decimal],
    period: datetime.date,
) -> Table:
    rows = []
    for snapshot in sorted((s for s in snapshots if s.period == period), key=lambda s: s.kpi.name):
        kpi = snapshot.kpi
        target = targets.get((kpi.pk, client.pk, period))
        rows.append(
            [
                text_cell(kpi.name),
                kpi_cell(kpi, target),
                kpi_cell(kpi, snapshot.value),
                state_cell(kpi_state(kpi, snapshot.value, target)),
            ]
        )
    return Table(
        key="kpis",
        title=_("KPIs of the account"),
        columns=[_("KPI"), _("Target"), _("Actual"), _("State")],
        rows=rows,
        empty=_("No KPI has been computed for this account and quarter."),
    )


def _figures_table(client: Client, trend: list[datetime.date]) -> Table:
    figures = {
        f.period: f
        for f in ClientFigure.objects.filter(client=client, period__in=trend).only(
            "period", "revenue", "gross_margin", "potential_revenue", "share_of_wallet"
        )
    }
    rows = []
    for quarter in trend:
        figure = figures.get(quarter)
        if figure is None:
            continue
        rows.append(
            [
                text_cell(quarter_label(quarter)),
                number_cell(figure.revenue),
                number_cell(figure.gross_margin),
                number_cell(_share(figure.gross_margin, figure.revenue), 1),
                number_cell(figure.potential_revenue),
                number_cell(figure.share_of_wallet, 1),
            ]
        )
    return Table(
        key="figures",
        title=_("Figures by quarter"),
        columns=[
            _("Quarter"),
            _("Revenue"),
            _("Gross margin"),
            _("Margin, %"),
            _("Potential over the horizon"),
            _("Share of wallet, %"),
        ],
        rows=rows,
        chart=Chart("bar", [1, 2], y_label=_("Roubles")),
        empty=_("No figures for these quarters."),
    )


def _coverage_trend_table(client: Client, trend: list[datetime.date], end: datetime.date) -> Table:
    """The last finished evaluation of each quarter."""
    last: dict[datetime.date, tuple[Decimal | None, bool]] = {}
    for as_of, ratio, meets in (
        Evaluation.objects.filter(
            client=client,
            run__status=RunStatus.DONE,
            run__as_of__gte=trend[0],
            run__as_of__lt=end,
        )
        .order_by("run__as_of", "run_id")
        .values_list("run__as_of", "coverage_ratio", "meets_ruler")
    ):
        last[quarter_start(as_of)] = (ratio, meets)
    rows = []
    for quarter in trend:
        if quarter not in last:
            continue
        ratio, meets = last[quarter]
        rows.append(
            [
                text_cell(quarter_label(quarter)),
                number_cell(None if ratio is None else ratio * 100, 1),
                text_cell(_("meets") if meets else _("does not meet")),
            ]
        )
    return Table(
        key="coverage",
        title=_("Coverage of needs by quarter, %"),
        columns=[_("Quarter"), _("Coverage, %"), _("The ruler")],
        rows=rows,
        chart=Chart("line", [1], y_label=_("Coverage, %")),
        empty=_("The ruler has not evaluated this client in these quarters."),
    )


def _account_exceptions_table(
    client: Client, trend: list[datetime.date], end: datetime.date
) -> Table:
    """Requests asked in each quarter, and those decided in it, by outcome (the KPI counts
    approvals by when they were decided)."""
    start = datetime.datetime.combine(
        trend[0], datetime.time.min, tzinfo=timezone.get_current_timezone()
    )
    asked: dict[datetime.date, int] = defaultdict(int)
    decided: dict[tuple[datetime.date, str], int] = defaultdict(int)
    for created_at, decided_at, state in ExceptionRequest.objects.filter(
        Q(created_at__gte=start) | Q(decided_at__gte=start), client=client
    ).values_list("created_at", "decided_at", "state"):
        asked[quarter_start(timezone.localdate(created_at))] += 1
        if decided_at is not None:
            decided[(quarter_start(timezone.localdate(decided_at)), state)] += 1
    rows = [
        [
            text_cell(quarter_label(quarter)),
            number_cell(asked[quarter]),
            number_cell(decided[(quarter, ExceptionState.APPROVED)]),
            number_cell(decided[(quarter, ExceptionState.REJECTED)]),
        ]
        for quarter in trend
    ]
    return Table(
        key="exceptions",
        title=_("Exception requests by quarter"),
        columns=[_("Quarter"), _("Asked"), _("Approved"), _("Rejected")],
        rows=rows,
        chart=Chart("bar", [1, 2, 3], y_label=_("Requests")),
        help=_("Approved and rejected count in the quarter they were decided."),
    )


def _budget_table(client: Client, trend: list[datetime.date]) -> Table:
    budgets = (
        with_spent(Budget.objects.filter(client=client, period__in=trend))
        .order_by("period")
        .values_list("period", "allocated", "spent_total", "remaining")
    )
    rows = []
    for quarter, allocated, spent, remaining in budgets:
        rows.append(
            [
                text_cell(quarter_label(quarter)),
                number_cell(allocated),
                number_cell(spent),
                number_cell(remaining),
                number_cell(_share(spent, allocated), 1),
            ]
        )
    return Table(
        key="budget",
        title=_("Budget by quarter"),
        columns=[_("Quarter"), _("Allocated"), _("Spent"), _("Remaining"), _("Used, %")],
        rows=rows,
        chart=Chart("bar", [1, 2], y_label=_("Roubles")),
        empty=_("No budget was allocated to this account in these quarters."),
    )


def _status_table(client: Client, end: datetime.date) -> Table:
    decisions = Decision.objects.filter(client=client, effective_date__lt=end).order_by(
        "-effective_date", "-pk"
    )[:RECENT_EXCEPTIONS]
    rows = [
        [
            text_cell(formats.date_format(d.effective_date, "SHORT_DATE_FORMAT")),
            text_cell(d.summary),
            text_cell(
                "—" if d.key_status is None else (_("key") if d.key_status else _("regular"))
            ),
        ]
        for d in decisions
    ]
    return Table(
        key="decisions",
        title=_("The committee's decisions on this client"),
        columns=[_("Effective from"), _("Decision"), _("Key status")],
        rows=rows,
        empty=_("The committee has not decided on this client."),
    )


__all__ = [
    "Cell",
    "Dashboard",
    "InvalidPeriod",
    "Table",
    "account_dashboard",
    "dashboard_client_for",
    "dashboard_kam_for",
    "kam_dashboard",
    "period_parse",
    "portfolio_dashboard",
]
