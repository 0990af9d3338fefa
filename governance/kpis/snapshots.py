"""KPI actuals computed per quarter and stored as snapshots.

``snapshot_quarter`` (the Celery beat job, the demo loader and anyone recomputing a quarter call
it) writes ``KpiSnapshot`` and ``PortfolioSnapshot`` rows in set-based queries, so a dashboard
reads rows and never recomputes history.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, IntegerField, Max, Q, QuerySet, Sum
from django.db.models.functions import Floor, Least
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.models import Client, ClientFigure
from accounts.periods import previous_quarter, quarter_bounds, quarter_start
from criteria.models import Evaluation
from criteria.selectors import last_finished_run
from governance.kpis.cache import dashboards_changed
from governance.kpis.counting import PORTFOLIO, quarter_scopes, scope_key_of
from governance.models import (
    Budget,
    BudgetSpend,
    DepartmentRequest,
    ExceptionRequest,
    ExceptionState,
    Kpi,
    KpiEntry,
    KpiScope,
    KpiSnapshot,
    KpiSource,
    PortfolioSnapshot,
)
from governance.webhooks import webhook_kpi_snapshot_taken

HUNDRED = Decimal(100)
VALUE_PLACES = Decimal("0.0001")
BUCKETS = 10


# Arithmetic ----------------------------------------------------------------------------------


def _ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    """numerator / denominator × 100, or None when the denominator is 0 or missing."""
    if numerator is None or not denominator:
        return None
    return Decimal(numerator) * HUNDRED / Decimal(denominator)


def _growth(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    if not previous:
        return None
    return (Decimal(current or 0) - Decimal(previous)) * HUNDRED / Decimal(previous)


def _mean(values: Iterable[Decimal | None]) -> Decimal | None:
    present = [Decimal(v) for v in values if v is not None]
    return sum(present, Decimal(0)) / len(present) if present else None


def quantized(value: Decimal | int | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(VALUE_PLACES)


# The snapshot job ----------------------------------------------------------------------------


@dataclass
class _Sums:
    """Additive parts of the KPIs for one scope; each KPI is a function of them."""

    revenue: Decimal = Decimal(0)
    gross_margin: Decimal = Decimal(0)
    previous_revenue: Decimal = Decimal(0)
    key_revenue: Decimal = Decimal(0)
    has_figures: bool = False
    has_previous: bool = False
    coverage_total: Decimal = Decimal(0)
    coverage_count: int = 0
    exceptions: int = 0
    breaches: int = 0
    allocated: Decimal = Decimal(0)
    spent: Decimal = Decimal(0)

    def add(self, other: _Sums) -> None:
        for name in (
            "revenue",
            "gross_margin",
            "previous_revenue",
            "key_revenue",
            "coverage_total",
            "coverage_count",
            "exceptions",
            "breaches",
            "allocated",
            "spent",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.has_figures |= other.has_figures
        self.has_previous |= other.has_previous

    def value(self, source: str) -> Decimal | int | None:
        if source == KpiSource.REVENUE:
            return self.revenue if self.has_figures else None
        if source == KpiSource.GROSS_MARGIN:
            return self.gross_margin if self.has_figures else None
        if source == KpiSource.GROWTH:
            if not (self.has_figures and self.has_previous):
                return None
            return _growth(self.revenue, self.previous_revenue)
        if source == KpiSource.KEY_SHARE:
            return _ratio(self.key_revenue, self.revenue)
        if source == KpiSource.KEY_COVERAGE:
            if not self.coverage_count:
                return None
            return self.coverage_total * HUNDRED / self.coverage_count
        if source == KpiSource.EXCEPTIONS:
            return self.exceptions
        if source == KpiSource.BREACHES:
            return self.breaches
        if source == KpiSource.BUDGET_USED:
            return _ratio(self.spent, self.allocated)
        raise ValueError(source)


def _figure_sums(
    period: datetime.date, account_ids: list[int], portfolio: _Sums, accounts: dict[int, _Sums]
) -> None:
    """Revenue, margin, previous revenue and key revenue: one query for the portfolio, one
    grouped by account."""
    previous = previous_quarter(period)
    sums = {
        "sum_revenue": Sum("revenue", filter=Q(period=period)),
        "sum_margin": Sum("gross_margin", filter=Q(period=period)),
        "sum_previous": Sum("revenue", filter=Q(period=previous)),
        "sum_key": Sum("revenue", filter=Q(period=period, client__is_key=True)),
        "figures": Count("pk", filter=Q(period=period)),
        "previous_figures": Count("pk", filter=Q(period=previous)),
    }
    figures = ClientFigure.objects.filter(period__in=[period, previous])

    def fill(target: _Sums, row: dict[str, object]) -> None:
        target.revenue = row["sum_revenue"] or Decimal(0)
        target.gross_margin = row["sum_margin"] or Decimal(0)
        target.previous_revenue = row["sum_previous"] or Decimal(0)
        target.key_revenue = row["sum_key"] or Decimal(0)
        target.has_figures = bool(row["figures"])
        target.has_previous = bool(row["previous_figures"])

    fill(portfolio, figures.aggregate(**sums))
    for row in (
        figures.filter(client_id__in=account_ids).values("client_id").annotate(**sums).order_by()
    ):
        fill(accounts[row["client_id"]], row)


def _coverage_sums(
    run_id: int | None, account_ids: list[int], portfolio: _Sums, accounts: dict[int, _Sums]
) -> tuple[list[int], list[int]]:
    """Key clients' coverage, and the portfolio's ten buckets of coverage (all and key), in one
    query grouped by bucket plus one for the accounts."""
    all_buckets, key_buckets = [0] * BUCKETS, [0] * BUCKETS
    if run_id is None:
        return all_buckets, key_buckets
    evaluated = Evaluation.objects.filter(run_id=run_id, coverage_ratio__isnull=False)
    key = Q(client__is_key=True)
    rows = (
        evaluated.annotate(
            bucket=Least(
                Floor(F("coverage_ratio") * BUCKETS), BUCKETS - 1, output_field=IntegerField()
            )
        )
        .values("bucket")
        .annotate(
            clients=Count("pk"),
            key_clients=Count("pk", filter=key),
            key_total=Sum("coverage_ratio", filter=key),
        )
        .order_by()
    )
    for row in rows:
        bucket = min(max(int(row["bucket"]), 0), BUCKETS - 1)
        all_buckets[bucket] += row["clients"]
        key_buckets[bucket] += row["key_clients"]
        portfolio.coverage_total += row["key_total"] or Decimal(0)
        portfolio.coverage_count += row["key_clients"]
    for client_id, ratio in evaluated.filter(key, client_id__in=account_ids).values_list(
        "client_id", "coverage_ratio"
    ):
        accounts[client_id].coverage_total = Decimal(ratio)
        accounts[client_id].coverage_count = 1
    return all_buckets, key_buckets


def _count_sums(
    queryset: QuerySet,
    attribute: str,
    account_ids: list[int],
    portfolio: _Sums,
    accounts: dict[int, _Sums],
) -> None:
    setattr(portfolio, attribute, queryset.count())
    rows = (
        queryset.filter(client_id__in=account_ids)
        .values("client_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        setattr(accounts[row["client_id"]], attribute, row["n"])


def _budget_sums(
    period: datetime.date, account_ids: list[int], portfolio: _Sums, accounts: dict[int, _Sums]
) -> None:
    budgets = Budget.objects.filter(period=period)
    portfolio.allocated = budgets.aggregate(total=Sum("allocated"))["total"] or Decimal(0)
    portfolio.spent = BudgetSpend.objects.filter(budget__period=period).aggregate(
        total=Sum("amount")
    )["total"] or Decimal(0)
    rows = (
        budgets.filter(client_id__in=account_ids)
        .with_spent()
        .values_list("client_id", "allocated", "spent_total")
    )
    for client_id, allocated, spent in rows:
        accounts[client_id].allocated += allocated
        accounts[client_id].spent += spent


def _latest_entries(
    period: datetime.date, kpi_ids: list[int]
) -> dict[tuple[int, int, int | None], Decimal]:
    """The value of the latest entry per (kpi, kam, client) of the quarter: one query."""
    latest: dict[tuple[int, int, int | None], Decimal] = {}
    entries = (
        KpiEntry.objects.filter(period=period, kpi_id__in=kpi_ids)
        .order_by("-entered_at", "-pk")
        .values_list("kpi_id", "kam_id", "client_id", "value")
    )
    for kpi_id, kam_id, client_id, value in entries:
        latest.setdefault((kpi_id, kam_id, client_id), value)
    return latest


def snapshot_quarter(period: datetime.date, *, now: datetime.datetime | None = None) -> int:
    """Compute every catalogue KPI of the quarter for the portfolio, each KAM measured in it and
    each of their accounts, and upsert the snapshots and the quarter's ``PortfolioSnapshot``.

    Idempotent: a second run leaves the same rows with the same values; a scope that no longer
    applies (a mandate changed) loses its rows. The number of queries depends on the sources in
    the catalogue, never on the number of clients. Returns the number of KPI snapshot rows.
    """
    period = quarter_start(period)
    now = now or timezone.now()
    kpis = list(Kpi.objects.order_by("pk"))
    sources = {kpi.source for kpi in kpis}
    scopes = quarter_scopes(period)
    account_ids = scopes.account_ids
    portfolio = _Sums()
    accounts = {client_id: _Sums() for client_id in account_ids}
    start, end = quarter_bounds(period)

    _figure_sums(period, account_ids, portfolio, accounts)
    run = last_finished_run()
    buckets, key_buckets = _coverage_sums(run.pk if run else None, account_ids, portfolio, accounts)
    if KpiSource.EXCEPTIONS in sources:
        granted = ExceptionRequest.objects.filter(
            state=ExceptionState.APPROVED, decided_at__gte=start, decided_at__lt=end
        )
        _count_sums(granted, "exceptions", account_ids, portfolio, accounts)
    if KpiSource.BREACHES in sources:
        breached = DepartmentRequest.objects.filter(due_at__gte=start, due_at__lt=end).breached(now)
        _count_sums(breached, "breaches", account_ids, portfolio, accounts)
    if KpiSource.BUDGET_USED in sources:
        _budget_sums(period, account_ids, portfolio, accounts)
    manual_ids = [kpi.pk for kpi in kpis if kpi.source == KpiSource.MANUAL]
    entries = _latest_entries(period, manual_ids) if manual_ids else {}

    kams: dict[int, _Sums] = {}
    for kam_id, client_ids in scopes.accounts_of_kam.items():
        kams[kam_id] = _Sums()
        for client_id in client_ids:
            kams[kam_id].add(accounts[client_id])

    rows: list[KpiSnapshot] = []

    def row(kpi: Kpi, value: Decimal | int | None, **scope: object) -> None:
        rows.append(
            KpiSnapshot(kpi=kpi, period=period, value=quantized(value), computed_at=now, **scope)
        )

    for kpi in kpis:
        manual = kpi.source == KpiSource.MANUAL
        kam_values = {
            kam_id: entries.get((kpi.pk, kam_id, None)) if manual else sums.value(kpi.source)
            for kam_id, sums in kams.items()
        }
        portfolio_value = _mean(kam_values.values()) if manual else portfolio.value(kpi.source)
        row(kpi, portfolio_value, scope=KpiScope.PORTFOLIO, scope_key=PORTFOLIO)
        for kam_id, value in kam_values.items():
            row(
                kpi, value, scope=KpiScope.KAM, scope_key=scope_key_of(kam_id=kam_id), kam_id=kam_id
            )
        for client_id, sums in accounts.items():
            kam_id = scopes.kam_of_account[client_id]
            value = entries.get((kpi.pk, kam_id, client_id)) if manual else sums.value(kpi.source)
            row(
                kpi,
                value,
                scope=KpiScope.ACCOUNT,
                scope_key=scope_key_of(client_id=client_id),
                kam_id=kam_id,
                client_id=client_id,
            )

    clients = Client.objects.aggregate(all=Count("pk"), key=Count("pk", filter=Q(is_key=True)))
    scope_keys = {PORTFOLIO}
    scope_keys.update(scope_key_of(kam_id=kam_id) for kam_id in kams)
    scope_keys.update(scope_key_of(client_id=client_id) for client_id in accounts)
    with transaction.atomic():
        KpiSnapshot.objects.filter(period=period).exclude(scope_key__in=scope_keys).delete()
        KpiSnapshot.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["kpi", "period", "scope_key"],
            update_fields=["value", "computed_at", "scope", "kam", "client"],
        )
        PortfolioSnapshot.objects.bulk_create(
            [
                PortfolioSnapshot(
                    period=period,
                    clients=clients["all"],
                    key_clients=clients["key"],
                    total_revenue=portfolio.revenue,
                    key_revenue=portfolio.key_revenue,
                    coverage_buckets=buckets,
                    key_coverage_buckets=key_buckets,
                    computed_at=now,
                )
            ],
            update_conflicts=True,
            unique_fields=["period"],
            update_fields=[
                "clients",
                "key_clients",
                "total_revenue",
                "key_revenue",
                "coverage_buckets",
                "key_coverage_buckets",
                "computed_at",
            ],
        )
        # Written in bulk, which no signal sees: the dashboards kept built are stale now.
        dashboards_changed()
        webhook_kpi_snapshot_taken(period=period, rows=len(rows), computed_at=now)
    return len(rows)


def snapshot_recent(*, now: datetime.datetime | None = None) -> int:
    """The current and the previous quarter: what the beat job recomputes (late figures and
    entries for the quarter just closed still count)."""
    now = now or timezone.now()
    current = quarter_start(timezone.localdate(now))
    return snapshot_quarter(previous_quarter(current), now=now) + snapshot_quarter(current, now=now)


SNAPSHOT_TASK = "Snapshot the KPIs of the current and the previous quarter"  # its PeriodicTask
# How long after its hour the nightly snapshot is left to the beat before it is caught up.
CATCH_UP_AFTER = datetime.timedelta(minutes=15)


def snapshots_missed() -> bool:
    """Whether the nightly snapshot's hour has passed (by ``CATCH_UP_AFTER``) since the KPI
    snapshots were last computed: no beat ran then, or the broker refused the send. False
    before the first snapshot or with the schedule disabled."""
    task = (
        PeriodicTask.objects.filter(name=SNAPSHOT_TASK, enabled=True)
        .select_related("crontab")
        .first()
    )
    last = KpiSnapshot.objects.aggregate(last=Max("computed_at"))["last"]
    if task is None or task.crontab is None or last is None:
        return False
    schedule = task.crontab.schedule
    return schedule.remaining_estimate(last.astimezone(schedule.tz)) <= -CATCH_UP_AFTER


def snapshot_current_quarter() -> int:
    """Recompute the quarter in progress: a decision on key status changes its key clients,
    their sales and their coverage, and the dashboards must not wait for the nightly job."""
    return snapshot_quarter(quarter_start(timezone.localdate()))
