"""KPIs: what a KAM is measured by (question 7 of the management shell).

Actuals are computed per quarter by ``snapshot_quarter`` (the Celery beat job, the demo loader
and anyone recomputing a quarter call it) and stored as ``KpiSnapshot`` rows, so a dashboard
reads rows and never recomputes history. A quarter is a ``date`` holding its first day.

Three scopes, one ``scope_key`` each:

* ``"portfolio"``: every client of the company;
* ``"kam:<user id>"``: the accounts of the KAM's mandate for the quarter — of the adopted
  mandates (in force or superseded) whose dates overlap the quarter, the one with the latest
  ``valid_from`` (then the highest id);
* ``"account:<client id>"``: one account of such a mandate (an account in two KAMs' mandates
  counts for the KAM with the lower user id).

Definitions (``None`` where nothing can be measured):

* **revenue**: Σ ``ClientFigure.revenue`` of the quarter; **gross_margin**: Σ ``gross_margin``.
* **growth**: (revenue − revenue of the previous quarter) / revenue of the previous quarter ×
  100; ``None`` when the previous quarter's revenue is 0, or either quarter has no figures
  (a quarter whose figures are not in yet shows no growth rather than −100 %).
* **key_share**: revenue of key clients (``Client.is_key`` when the snapshot is taken) /
  revenue × 100; ``None`` when revenue is 0.
* **key_coverage**: average ``coverage_ratio`` × 100 of the key clients in scope in the last
  finished evaluation run; ``None`` when none was evaluated.
* **exceptions_granted**: approved ``ExceptionRequest`` rows decided in the quarter, counted by
  their client.
* **obligation_breaches**: ``DepartmentRequest`` rows due in the quarter that were fulfilled
  after they were due, or are unfulfilled and already past due (``now``), counted by client.
* **budget_used**: Σ ``BudgetSpend.amount`` / Σ ``Budget.allocated`` × 100 of the quarter's
  budgets; ``None`` when nothing was allocated.
* **manual**: the latest ``KpiEntry`` (by ``entered_at``, then id) for the KPI, quarter and
  KAM — without a client for the KAM's scope, with the account for an account's scope. The
  portfolio's value is the average of the KAMs' values.

Exceptions, breaches and budgets of the portfolio are the whole company's. A KAM's value is
computed from the sums over their accounts (a ratio of sums, never an average of ratios).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, F, IntegerField, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Floor, Least
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Client, ClientFigure, User, quarter_start, validate_quarter_start
from criteria.models import Evaluation
from criteria.selectors import last_finished_run
from governance.budgets import with_spent
from governance.dashboard_cache import dashboards_changed
from governance.models import (
    Budget,
    BudgetSpend,
    DepartmentRequest,
    ExceptionRequest,
    ExceptionState,
    Kpi,
    KpiDirection,
    KpiEntry,
    KpiScope,
    KpiSnapshot,
    KpiSource,
    KpiTarget,
    KpiUnit,
    Mandate,
    MandateAccount,
    MandateStatus,
    PortfolioSnapshot,
)

HUNDRED = Decimal(100)
VALUE_PLACES = Decimal("0.0001")
PORTFOLIO = "portfolio"
BUCKETS = 10


# Quarters ------------------------------------------------------------------------------------


def previous_quarter(period: datetime.date) -> datetime.date:
    return quarter_start(quarter_start(period) - datetime.timedelta(days=1))


def next_quarter(period: datetime.date) -> datetime.date:
    return quarter_start(quarter_start(period) + datetime.timedelta(days=93))


def quarters_back(period: datetime.date, count: int) -> list[datetime.date]:
    """``count`` quarters ending with ``period``, oldest first."""
    quarters = [quarter_start(period)]
    while len(quarters) < count:
        quarters.append(previous_quarter(quarters[-1]))
    return quarters[::-1]


def quarter_end(period: datetime.date) -> datetime.date:
    """The last day of the quarter."""
    return next_quarter(period) - datetime.timedelta(days=1)


def _quarter_bounds(period: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The quarter as [start, end) instants in the current time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(period, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(next_quarter(period), datetime.time.min, tzinfo=zone)
    return start, end


def scope_key_of(*, kam_id: int | None = None, client_id: int | None = None) -> str:
    if client_id is not None:
        return f"account:{client_id}"
    if kam_id is not None:
        return f"kam:{kam_id}"
    return PORTFOLIO


# Who is measured over what in a quarter ------------------------------------------------------


def adopted_mandates() -> QuerySet[Mandate]:
    """Mandates the committee granted (in force or superseded since), the one that counts for
    a KAM first: the latest ``valid_from``, then the highest id."""
    return Mandate.objects.filter(
        status__in=[MandateStatus.IN_FORCE, MandateStatus.SUPERSEDED], adopted_at__isnull=False
    ).order_by("kam_id", "-valid_from", "-pk")


def mandates_for_quarter(period: datetime.date) -> QuerySet[Mandate]:
    """Adopted mandates whose dates overlap the quarter, the one that counts for each KAM
    first."""
    return adopted_mandates().overlapping(period, quarter_end(period))


def counting_mandates(
    mandates: QuerySet[Mandate], quarters: Iterable[datetime.date]
) -> dict[tuple[int, datetime.date], int]:
    """For each KAM of ``mandates`` (adopted ones, ``adopted_mandates``, narrowed to some
    KAMs) and each quarter, the mandate that counts, by ``mandates_for_quarter``'s rule: one
    query over the KAMs' few mandate versions, for any number of quarters."""
    quarters = list(quarters)
    found: dict[tuple[int, datetime.date], int] = {}
    for pk, kam_id, valid_from, valid_to in mandates.values_list(
        "pk", "kam_id", "valid_from", "valid_to"
    ):  # the one that counts first
        for quarter in quarters:
            if valid_from <= quarter_end(quarter) and (valid_to is None or valid_to >= quarter):
                found.setdefault((kam_id, quarter), pk)
    return found


def counting_targets(
    counting: dict[tuple[int, datetime.date], int], **which: object
) -> dict[tuple[int, int | None, datetime.date], Decimal]:
    """Targets by (KPI, account or None, quarter), each from the mandate that counts in its
    quarter (``counting``, from ``counting_mandates``); ``which`` narrows the targets read
    (``client=…``). One query."""
    pairs = set(counting.items())
    return {
        (kpi_id, client_id, quarter): target
        for kpi_id, client_id, quarter, target, mandate_id, kam_id in KpiTarget.objects.filter(
            mandate_id__in=set(counting.values()),
            period__in={quarter for _kam, quarter in counting},
            **which,
        ).values_list("kpi_id", "client_id", "period", "target", "mandate_id", "mandate__kam_id")
        if ((kam_id, quarter), mandate_id) in pairs
    }


def mandate_of_kam(period: datetime.date) -> dict[int, int]:
    """For each KAM measured in the quarter, the mandate that counts (one query)."""
    found: dict[int, int] = {}
    for mandate_id, kam_id in mandates_for_quarter(period).values_list("pk", "kam_id"):
        found.setdefault(kam_id, mandate_id)
    return found


def mandate_for_quarter(*, kam: User | int, period: datetime.date) -> Mandate | None:
    """The mandate a KAM is measured under in a quarter, or None."""
    kam_id = kam if isinstance(kam, int) else kam.pk
    return mandates_for_quarter(period).filter(kam_id=kam_id).first()


@dataclass
class QuarterScopes:
    """The KAMs measured in a quarter, their mandates and accounts."""

    mandate_of_kam: dict[int, int] = field(default_factory=dict)
    accounts_of_kam: dict[int, list[int]] = field(default_factory=dict)
    kam_of_account: dict[int, int] = field(default_factory=dict)

    @property
    def account_ids(self) -> list[int]:
        return list(self.kam_of_account)


def quarter_scopes(period: datetime.date) -> QuarterScopes:
    """Two queries, whatever the number of KAMs and accounts."""
    scopes = QuarterScopes(mandate_of_kam=mandate_of_kam(period))
    kam_of_mandate = {mandate_id: kam_id for kam_id, mandate_id in scopes.mandate_of_kam.items()}
    accounts = MandateAccount.objects.filter(mandate_id__in=list(kam_of_mandate)).values_list(
        "mandate_id", "client_id"
    )
    for mandate_id, client_id in sorted(accounts, key=lambda row: (kam_of_mandate[row[0]], row)):
        kam_id = kam_of_mandate[mandate_id]
        if client_id not in scopes.kam_of_account:
            scopes.kam_of_account[client_id] = kam_id
            scopes.accounts_of_kam.setdefault(kam_id, []).append(client_id)
    for kam_id in scopes.mandate_of_kam:
        scopes.accounts_of_kam.setdefault(kam_id, [])
    return scopes


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


def _quantized(value: Decimal | int | None) -> Decimal | None:
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
    rows = with_spent(budgets.filter(client_id__in=account_ids)).values_list(
        "client_id", "allocated", "spent_total"
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
    start, end = _quarter_bounds(period)

    _figure_sums(period, account_ids, portfolio, accounts)
    run = last_finished_run()
    buckets, key_buckets = _coverage_sums(run.pk if run else None, account_ids, portfolio, accounts)
    if KpiSource.EXCEPTIONS in sources:
        granted = ExceptionRequest.objects.filter(
            state=ExceptionState.APPROVED, decided_at__gte=start, decided_at__lt=end
        )
        _count_sums(granted, "exceptions", account_ids, portfolio, accounts)
    if KpiSource.BREACHES in sources:
        breached = DepartmentRequest.objects.filter(due_at__gte=start, due_at__lt=end).filter(
            Q(fulfilled_at__gt=F("due_at")) | Q(fulfilled_at__isnull=True, due_at__lt=now)
        )
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
            KpiSnapshot(kpi=kpi, period=period, value=_quantized(value), computed_at=now, **scope)
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
    return len(rows)


def snapshot_recent(*, now: datetime.datetime | None = None) -> int:
    """The current and the previous quarter: what the beat job recomputes (late figures and
    entries for the quarter just closed still count)."""
    now = now or timezone.now()
    current = quarter_start(timezone.localdate(now))
    return snapshot_quarter(previous_quarter(current), now=now) + snapshot_quarter(current, now=now)


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


# Hand entries --------------------------------------------------------------------------------

MAX_PERCENT = Decimal(1000)
MAX_MONEY = Decimal("99999999999999.99")


def _check_value(kpi: Kpi, value: Decimal) -> str | None:
    if kpi.unit == KpiUnit.PERCENT and not Decimal(0) <= value <= MAX_PERCENT:
        return gettext("A percentage is between 0 and 1000.")
    if kpi.unit == KpiUnit.COUNT and (value < 0 or value != value.to_integral_value()):
        return gettext("A count is a whole number, 0 or more.")
    if kpi.unit == KpiUnit.MONEY and abs(value) > MAX_MONEY:
        return gettext("This amount is too large.")
    return None


def kpi_entry_record(
    *,
    kpi: Kpi,
    period: datetime.date,
    kam: User,
    client: Client | None,
    value: Decimal,
    note: str,
    by: User,
) -> KpiEntry:
    """Record a hand-entered actual and refresh its snapshot (and the portfolio's average).

    Refused with a ``ValidationError`` by field: the KPI is not entered by hand; the period is
    not a quarter's first day or lies in the future; the person holds no mandate for that
    quarter; the account is not in that mandate; the value is out of bounds for the unit. An
    entry is never changed: a correction is a new entry, and the latest one counts.
    """
    errors: dict[str, str] = {}
    value = Decimal(value)
    if kpi.source != KpiSource.MANUAL:
        errors["kpi"] = gettext("This KPI is computed from the data; it is not entered by hand.")
    if error := _not_a_quarter(period):
        errors["period"] = error
    elif period > quarter_start(timezone.localdate()):
        errors["period"] = gettext("This quarter has not started yet.")
    mandate = None
    if "period" not in errors:
        mandate = mandate_for_quarter(kam=kam, period=period)
        if mandate is None:
            errors["kam"] = gettext("This person holds no mandate for that quarter.")
        elif (
            client is not None
            and not MandateAccount.objects.filter(mandate=mandate, client=client).exists()
        ):
            errors["client"] = gettext("This account is not in the mandate for that quarter.")
    problem = _check_value(kpi, value)
    if problem:
        errors["value"] = problem
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    client_id = client.pk if client is not None else None
    with transaction.atomic():
        entry = KpiEntry.objects.create(
            kpi=kpi, period=period, kam=kam, client=client, value=value, note=note, entered_by=by
        )
        scope = KpiScope.ACCOUNT if client_id else KpiScope.KAM
        KpiSnapshot.objects.update_or_create(
            kpi=kpi,
            period=period,
            scope_key=scope_key_of(kam_id=kam.pk, client_id=client_id),
            defaults={
                "scope": scope,
                "kam": kam,
                "client_id": client_id,
                "value": _quantized(value),
                "computed_at": now,
            },
        )
        if client_id is None:
            average = KpiSnapshot.objects.filter(
                kpi=kpi, period=period, scope=KpiScope.KAM
            ).aggregate(average=Avg("value"))["average"]
            KpiSnapshot.objects.update_or_create(
                kpi=kpi,
                period=period,
                scope_key=PORTFOLIO,
                defaults={
                    "scope": KpiScope.PORTFOLIO,
                    "value": _quantized(average),
                    "computed_at": now,
                },
            )
        dashboards_changed()
    return entry


# Targets -------------------------------------------------------------------------------------


def _not_a_quarter(period: datetime.date) -> str:
    """Why ``period`` is not a quarter's first day (the register's rule), or ""."""
    try:
        validate_quarter_start(period)
    except ValidationError as exc:
        return exc.messages[0]
    return ""


def kpi_target_errors(
    *,
    mandate: Mandate,
    kpi: Kpi,
    period: datetime.date,
    client: Client | None,
    target_id: int | None = None,
) -> dict[str, str]:
    """What is wrong with a target for a mandate, by field (empty when it is fine): the period
    is a quarter's first day, the account is one of the mandate's, one target per KPI, quarter
    and account (or the whole mandate)."""
    errors: dict[str, str] = {}
    if error := _not_a_quarter(period):
        errors["period"] = error
    if client is not None and not mandate.accounts.filter(client=client).exists():
        errors["client"] = gettext("This account is not in the mandate.")
    twins = KpiTarget.objects.filter(mandate=mandate, kpi=kpi, period=period, client=client)
    if target_id is not None:
        twins = twins.exclude(pk=target_id)
    if "period" not in errors and twins.exists():
        errors["period"] = gettext("This KPI already has a target for that quarter and account.")
    return errors


def kpi_targets_log(*, mandate: Mandate, by: User, message: str) -> None:
    """Record who changed a mandate's targets and how, in the admin's history of the mandate
    (targets of a draft are prepared freely; those of a granted mandate change on the record)."""
    from django.contrib.admin.models import CHANGE, LogEntry

    if mandate.status == MandateStatus.DRAFT:
        return
    LogEntry.objects.log_actions(
        user_id=by.pk,
        queryset=[mandate],
        action_flag=CHANGE,
        change_message=message,
        single_object=True,
    )


@dataclass(frozen=True)
class TargetRow:
    """One row of a mandate's targets as the committee left it on the page: ``id`` names the
    target it shows (None for a new one)."""

    id: int | None
    kpi_id: int
    period: datetime.date
    client_id: int | None
    target: Decimal
    delete: bool = False


def kpi_targets_save(*, mandate: Mandate, by: User, rows: Iterable[TargetRow]) -> list[str]:
    """Write a mandate's targets as the committee left them: new ones added, changed ones
    updated, those marked removed deleted, in a fixed number of statements however many rows.
    The rows were checked by the form (quarters, the mandate's accounts, no two alike); here,
    that the targets they name are still this mandate's, and the database's rule of one target
    per KPI, quarter and account against what was saved meanwhile. Returns what changed, also
    recorded for a granted mandate (``kpi_targets_log``)."""
    rows = list(rows)
    with transaction.atomic():
        existing = {
            target.pk: target
            for target in KpiTarget.objects.select_for_update(of=("self",))
            .select_related("kpi", "client")
            .filter(mandate=mandate)
        }
        if any(row.id is not None and row.id not in existing for row in rows):
            raise ValidationError(
                gettext(
                    "A target on this page was removed meanwhile: reload the page and make "
                    "your changes again."
                )
            )
        kpis = Kpi.objects.in_bulk({row.kpi_id for row in rows})
        added, changed, removed = [], [], []
        for row in rows:
            if row.id is None:
                if not row.delete:
                    added.append(
                        KpiTarget(
                            mandate=mandate,
                            kpi=kpis[row.kpi_id],
                            period=row.period,
                            client_id=row.client_id,
                            target=row.target,
                        )
                    )
                continue
            target = existing[row.id]
            if row.delete:
                removed.append(target)
            elif (target.kpi_id, target.period, target.client_id, target.target) != (
                row.kpi_id,
                row.period,
                row.client_id,
                row.target,
            ):
                target.kpi, target.period = kpis[row.kpi_id], row.period
                target.client_id, target.target = row.client_id, row.target
                changed.append(target)
        try:
            with transaction.atomic():
                KpiTarget.objects.filter(pk__in=[target.pk for target in removed]).delete()
                KpiTarget.objects.bulk_update(changed, ["kpi", "period", "client", "target"])
                KpiTarget.objects.bulk_create(added)
        except IntegrityError:
            raise ValidationError(
                gettext(
                    "Two targets for the same KPI, quarter and account: another change was "
                    "saved meanwhile. Reload the page and make your changes again."
                )
            ) from None
        changes = [
            *(gettext("set %(target)s") % {"target": target} for target in added),
            *(gettext("changed %(target)s") % {"target": target} for target in changed),
            *(gettext("removed %(target)s") % {"target": target} for target in removed),
        ]
        if changes:
            # Bulk writes send no signals: the dashboards are told here.
            dashboards_changed()
            kpi_targets_log(
                mandate=mandate,
                by=by,
                message=gettext("KPI targets: %(changes)s") % {"changes": "; ".join(changes)},
            )
    return changes
