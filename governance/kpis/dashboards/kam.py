"""One KAM's dashboard: their KPIs against targets, the trend, and their accounts."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.filenames import file_slug
from accounts.models import User
from accounts.periods import quarter_label, quarters_back
from governance.kpis.counting import adopted_mandates, counting_mandates, counting_targets
from governance.kpis.dashboards.tables import (
    TREND_QUARTERS,
    Chart,
    Dashboard,
    Table,
    attainment,
    default_period,
    kpi_cell,
    kpi_label,
    number_cell,
    snapshot_periods,
    state_cell,
    target_cell,
    text_cell,
)
from governance.kpis.states import kpi_state
from governance.models import (
    Kpi,
    KpiScope,
    KpiSnapshot,
    MandateAccount,
)

# --- one KAM ----------------------------------------------------------------------------------


def kam_dashboard(
    *, kam: User, period: datetime.date | None = None, today: datetime.date | None = None
) -> Dashboard:
    """Each of the KAM's KPIs against its target with its state, their trend as a share of
    target, and the accounts of the mandate the KAM is measured under in the quarter."""
    today = today or timezone.localdate()
    periods = snapshot_periods()
    period = period or default_period(periods, today)
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
        slug=f"kam-{file_slug(str(kam))}",
    )
    kpi_table = _kam_kpi_table(own, targets, period)
    if mandate_id:
        kpi_table.targets_url = reverse("governance:mandate-targets", args=[mandate_id])
    board.tables.append(kpi_table)
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
    aimed, unaimed = [], []
    for quarters in sorted(by_kpi.values(), key=lambda q: next(iter(q.values())).kpi.name):
        current = quarters.get(period)
        if current is None:
            continue
        kpi = current.kpi
        target = targets.get((kpi.pk, None, period))
        before = quarters.get(previous)
        row = [
            text_cell(kpi_label(kpi)),
            text_cell(kpi.get_direction_display()),
            target_cell(kpi, target),
            kpi_cell(kpi, current.value),
            state_cell(kpi_state(kpi, current.value, target)),
            kpi_cell(kpi, before.value if before else None),
        ]
        if target is None:
            # Measured, never aimed at: its actual stays, its "No target" is said once.
            row[2], row[4] = text_cell(""), text_cell("")
            unaimed.append((kpi.name, row))
        else:
            aimed.append(row)
    rows = aimed + [row for _name, row in unaimed]
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
        unaimed=[name for name, _row in unaimed],
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
        columns=[_("Account"), _("Status"), *[kpi_label(kpi) for kpi in ordered]],
        rows=rows,
        empty=_("No mandate in force names accounts for this manager."),
        help=_("A state is shown where the mandate sets a target for the account itself."),
    )
