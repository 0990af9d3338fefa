"""The portfolio dashboard: key clients and their share of sales against the policy, coverage,
the portfolio's KPIs, every KAM's state, decisions and drift, over the last quarters.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q
from django.db.models.functions import TruncQuarter
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.money import in_currency
from accounts.periods import next_quarter, quarter_label, quarters_back
from governance.drift import drift_counts
from governance.kpis.counting import mandate_of_kam as kam_mandates
from governance.kpis.dashboards.tables import (
    TREND_QUARTERS,
    Chart,
    Dashboard,
    Headline,
    Table,
    default_period,
    kpi_cell,
    kpi_label,
    number_cell,
    percent_of,
    text_cell,
)
from governance.kpis.states import KpiState, kpi_state
from governance.models import (
    Decision,
    Kpi,
    KpiDirection,
    KpiScope,
    KpiSnapshot,
    KpiTarget,
    Policy,
    PolicyStatus,
    PortfolioSnapshot,
)

# --- the portfolio ----------------------------------------------------------------------------


def portfolio_dashboard(
    *,
    period: datetime.date | None = None,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> Dashboard:
    """Key clients against the policy's range and share, the coverage distribution, decisions
    over time, drift, the portfolio's KPIs and every KAM's state, for a quarter."""
    today = today or timezone.localdate()
    snapshots = list(PortfolioSnapshot.objects.order_by("-period"))
    periods = [s.period for s in snapshots]
    period = period or default_period(periods, today)
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
    board.tables.append(_kam_table(period))
    board.tables.append(_decisions_table(trend))
    board.tables.append(_drift_table(now or timezone.now()))
    return board


_POLICY_KPI = Kpi(direction=KpiDirection.HIGHER, watch_band_percent=Decimal(10))


def _portfolio_headlines(current: PortfolioSnapshot, policy: Policy | None) -> list[Headline]:
    count = current.key_clients
    if policy is None:
        count_state, count_target = "no_target", "—"
    else:
        within = policy.key_clients_min <= count <= policy.key_clients_max
        count_state = "good" if within else "bad"
        count_target = f"{policy.key_clients_min}–{policy.key_clients_max}"
    share = percent_of(current.key_revenue, current.total_revenue)
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
        share = percent_of(snapshot.key_revenue, snapshot.total_revenue)
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
            in_currency(_("Total sales")),
            in_currency(_("Key clients' sales")),
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
        chart=Chart("bar", [1, 2], y_label=_("Clients"), integer=True),
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
        [text_cell(kpi_label(kpi))] + [kpi_cell(kpi, values[kpi.pk].get(q)) for q in trend]
        for kpi in sorted(kpis.values(), key=lambda k: k.name)
    ]
    return Table(
        key="portfolio-kpis",
        title=_("The portfolio's KPIs by quarter"),
        columns=[_("KPI"), *[quarter_label(q) for q in trend]],
        rows=rows,
        empty=_("No portfolio KPI has been computed for these quarters."),
    )


@dataclass
class KamKpiStates:
    """One KAM's KPIs in a quarter, counted by state: every KPI measured (a snapshot) or aimed
    at (a target of the mandate that counts), so that the states add up to ``total``."""

    kam: User
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def of(self, state: str) -> int:
        return self.counts.get(state, 0)


def kam_kpi_states(period: datetime.date) -> list[KamKpiStates]:
    """Each KAM measured or aimed at in the quarter, with how many of their KPIs are in which
    state: the portfolio's KAM table and the directors' home page read this one count. A
    target with no snapshot yet is "no actual yet"; a snapshot with no target, "no target".
    Three queries, whatever the number of KAMs and KPIs."""
    snapshots = KpiSnapshot.objects.filter(scope=KpiScope.KAM, period=period).select_related(
        "kpi", "kam"
    )
    mandate_of_kam = kam_mandates(period)
    targets = {
        (target.kpi_id, target.mandate.kam_id): target
        for target in KpiTarget.objects.filter(
            period=period, client__isnull=True, mandate_id__in=list(mandate_of_kam.values())
        ).select_related("mandate__kam")
        if mandate_of_kam.get(target.mandate.kam_id) == target.mandate_id
    }
    states: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    kams: dict[int, User] = {}
    measured: set[tuple[int, int]] = set()
    for snapshot in snapshots:
        kams[snapshot.kam_id] = snapshot.kam
        measured.add((snapshot.kpi_id, snapshot.kam_id))
        target = targets.get((snapshot.kpi_id, snapshot.kam_id))
        value = None if target is None else target.target
        states[snapshot.kam_id][kpi_state(snapshot.kpi, snapshot.value, value)] += 1
    for key, target in targets.items():
        if key not in measured:
            kams[target.mandate.kam_id] = target.mandate.kam
            states[target.mandate.kam_id][KpiState.NO_ACTUAL] += 1
    return [
        KamKpiStates(
            kam=kam, counts={state: states[kam.pk].get(state, 0) for state in KpiState.LABELS}
        )
        for kam in sorted(kams.values(), key=lambda u: (u.last_name, u.first_name, u.username))
    ]


def _kam_table(period: datetime.date) -> Table:
    """Each KAM with KPIs in the quarter, with how many KPIs are in which state (those with no
    target: measured, never aimed at). Targets are those of the mandate each KAM is measured
    under in the quarter."""
    query = f"?period={period.isoformat()}"
    rows = []
    for line in kam_kpi_states(period):
        url = reverse("governance:dashboard-kam", args=[line.kam.pk]) + query
        bad = line.of(KpiState.BAD)
        rows.append(
            [
                text_cell(str(line.kam), url=url),
                number_cell(line.total),
                number_cell(line.of(KpiState.GOOD)),
                number_cell(line.of(KpiState.WATCH)),
                number_cell(bad, state=KpiState.BAD if bad else ""),
                number_cell(line.of(KpiState.NO_ACTUAL)),
                number_cell(line.of(KpiState.NO_TARGET)),
            ]
        )
    return Table(
        key="kams",
        title=_("Key-account managers"),
        columns=[
            _("Key-account manager"),
            _("KPIs"),
            *(
                str(KpiState.LABELS[state])
                for state in (
                    KpiState.GOOD,
                    KpiState.WATCH,
                    KpiState.BAD,
                    KpiState.NO_ACTUAL,
                    KpiState.NO_TARGET,
                )
            ),
        ],
        rows=rows,
        empty=_("No KAM's KPIs have been computed for this quarter."),
        help=_(
            "A KAM's KPIs are those measured this quarter and those their mandate sets a "
            "target for; the states add up to them. Open a manager to see each KPI against "
            "its target."
        ),
    )


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
    if not counted:
        rows = []  # said in words, not drawn as an empty chart
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
        chart=Chart("bar", [1, 2, 3], y_label=_("Decisions"), integer=True),
        empty=_("No decisions in these quarters."),
    )


def _drift_table(now: datetime.datetime) -> Table:
    """The drift panel's counts, computed by the same function: the block never says "Clear"
    while the panel lists something."""
    drift = reverse("governance:drift")
    rows = [
        [
            text_cell(indicator.title, url=f"{drift}#{indicator.code}"),
            number_cell(indicator.count, state="to_decide" if indicator.count else "clear"),
        ]
        for indicator in drift_counts(now=now)
    ]
    return Table(
        key="drift",
        title=_("Drift: what decides itself"),
        columns=[_("Indicator"), _("Count")],
        rows=rows,
        help=_("Counted today, as on the drift panel, whichever quarter is shown."),
    )


# --- the directors' home page -----------------------------------------------------------------


@dataclass
class QuarterKpiStates:
    """Every KAM's KPIs of a quarter, counted by state (the portfolio's KAM table summed), and
    the KAMs with a KPI off target: what the directors' home page shows."""

    period: datetime.date
    kams: list[KamKpiStates]

    def of(self, state: str) -> int:
        return sum(line.of(state) for line in self.kams)

    @property
    def counts(self) -> dict[str, int]:
        """KPIs by state over every KAM (a template reads ``counts.bad``)."""
        return {state: self.of(state) for state in KpiState.LABELS}

    @property
    def total(self) -> int:
        return sum(line.total for line in self.kams)

    @property
    def off_target(self) -> list[KamKpiStates]:
        """KAMs with a KPI off target, the most off target first."""
        lines = [line for line in self.kams if line.of(KpiState.BAD)]
        return sorted(lines, key=lambda line: -line.of(KpiState.BAD))


def quarter_kpi_states(period: datetime.date) -> QuarterKpiStates:
    """The quarter's KPI states over every KAM, by ``kam_kpi_states`` (three queries)."""
    return QuarterKpiStates(period=period, kams=kam_kpi_states(period))
