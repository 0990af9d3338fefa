"""One account's dashboard: its KPIs, figures, coverage, exceptions, budget and key status."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.filenames import file_slug
from accounts.models import Client, ClientFigure
from accounts.money import currency_sign, in_currency
from accounts.periods import next_quarter, quarter_label, quarter_start, quarters_back
from criteria.models import Evaluation, RunStatus
from governance.kpis.counting import adopted_mandates, counting_mandates, counting_targets
from governance.kpis.dashboards.tables import (
    RECENT_EXCEPTIONS,
    TREND_QUARTERS,
    Chart,
    Dashboard,
    Table,
    default_period,
    kpi_cell,
    kpi_label,
    number_cell,
    percent_of,
    snapshot_periods,
    state_cell,
    target_cell,
    text_cell,
)
from governance.kpis.states import kpi_state
from governance.models import (
    Budget,
    Decision,
    ExceptionRequest,
    ExceptionState,
    KpiScope,
    KpiSnapshot,
    MandateAccount,
)

# --- one account ------------------------------------------------------------------------------


def account_dashboard(
    *, client: Client, period: datetime.date | None = None, today: datetime.date | None = None
) -> Dashboard:
    """One account's figures, coverage trend, KPIs, exceptions and budget, by quarter."""
    today = today or timezone.localdate()
    periods = snapshot_periods()
    period = period or default_period(periods, today)
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
        slug=f"account-{file_slug(client.name) or 'client'}",
        kam=next((s.kam for s in snapshots if s.period == period), None),
    )
    kpi_table = _account_kpi_table(client, snapshots, targets, period)
    mandate_id = counting.get((board.kam.pk, period)) if board.kam else None
    if mandate_id:
        kpi_table.targets_url = reverse("governance:mandate-targets", args=[mandate_id])
    board.tables.append(kpi_table)
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
    """The KPIs aimed at first, each with its state; those the mandate sets no target for are
    measured only: they follow with their actual, and the page names them once ("No target
    set for: …") rather than "No target" on every row."""
    aimed, measured, unaimed = [], [], []
    for snapshot in sorted((s for s in snapshots if s.period == period), key=lambda s: s.kpi.name):
        kpi = snapshot.kpi
        target = targets.get((kpi.pk, client.pk, period))
        if target is None:
            unaimed.append(kpi.name)
            measured.append(
                [text_cell(kpi_label(kpi)), text_cell(""), kpi_cell(kpi, snapshot.value)]
            )
        else:
            aimed.append(
                [
                    text_cell(kpi_label(kpi)),
                    target_cell(kpi, target),
                    kpi_cell(kpi, snapshot.value),
                    state_cell(kpi_state(kpi, snapshot.value, target)),
                ]
            )
    if aimed:
        columns = [_("KPI"), _("Target"), _("Actual"), _("State")]
        rows = aimed + [[*row, text_cell("")] for row in measured]
    else:
        columns, rows = [_("KPI"), _("Actual")], [[row[0], row[2]] for row in measured]
    return Table(
        key="kpis",
        title=_("KPIs of the account"),
        columns=columns,
        rows=rows,
        empty=_("No KPI has been computed for this account and quarter."),
        unaimed=unaimed,
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
                number_cell(percent_of(figure.gross_margin, figure.revenue), 1),
                number_cell(figure.potential_revenue),
                number_cell(figure.share_of_wallet, 1),
            ]
        )
    return Table(
        key="figures",
        title=_("Figures by quarter"),
        columns=[
            _("Quarter"),
            in_currency(_("Revenue")),
            in_currency(_("Gross margin")),
            _("Margin, %"),
            in_currency(_("Potential over the horizon")),
            _("Share of wallet, %"),
        ],
        rows=rows,
        chart=Chart("bar", [1, 2], y_label=currency_sign()),
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
    anything = bool(asked or decided)
    rows = [
        [
            text_cell(quarter_label(quarter)),
            number_cell(asked[quarter]),
            number_cell(decided[(quarter, ExceptionState.APPROVED)]),
            number_cell(decided[(quarter, ExceptionState.REJECTED)]),
        ]
        for quarter in trend
    ]
    if not anything:
        rows = []  # said in words, not drawn as an empty chart
    return Table(
        key="exceptions",
        title=_("Exception requests by quarter"),
        columns=[_("Quarter"), _("Asked"), _("Approved"), _("Rejected")],
        rows=rows,
        chart=Chart("bar", [1, 2, 3], y_label=_("Requests"), integer=True),
        empty=_("No exception requests in these quarters."),
        help=_("Approved and rejected count in the quarter they were decided."),
    )


def _budget_table(client: Client, trend: list[datetime.date]) -> Table:
    budgets = (
        Budget.objects.filter(client=client, period__in=trend)
        .with_spent()
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
                number_cell(percent_of(spent, allocated), 1),
            ]
        )
    return Table(
        key="budget",
        title=_("Budget by quarter"),
        columns=[
            _("Quarter"),
            in_currency(_("Allocated")),
            in_currency(_("Spent")),
            in_currency(_("Remaining")),
            _("Used, %"),
        ],
        rows=rows,
        chart=Chart("bar", [1, 2], y_label=currency_sign()),
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
