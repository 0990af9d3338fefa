"""A small company whose KPIs are worked out by hand (tests/governance/kpis/test_kpis.py has the
sums).

Quarter Q3 2026 (``Q``), previous Q2 2026 (``PREVIOUS``). Two KAMs:

* ``kam`` holds a mandate with accounts A (the only key client) and B;
* ``kam2`` holds a mandate with account C;
* D belongs to no mandate.

| client | Q2 revenue | Q3 revenue | Q3 margin | coverage (last run) |
|---|---|---|---|---|
| A (key) | 1000 | 1200 | 300 | 0.80 |
| B | 500 | 300 | 60 | 0.50 |
| C | 800 | 1000 | 250 | 0.95 |
| D | 200 | 500 | 100 | 1.00 |

Exceptions approved in Q3: one on A. Department requests due in Q3: C's fulfilled late, A's on
time, D's unfulfilled and past due at ``NOW``, B's unfulfilled but due after ``NOW``.
Budgets in Q3: A 1000 (spent 200 + 100), C 500 (spent 400), D 500 (nothing spent).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from accounts.models import Client, User
from criteria.models import Evaluation, EvaluationRun, RulerStatus, RulerVersion
from governance.models import (
    Approver,
    Budget,
    BudgetSpend,
    DepartmentObligation,
    DepartmentRequest,
    ExceptionRequest,
    ExceptionState,
    Kpi,
    KpiDirection,
    KpiSource,
    KpiUnit,
    Mandate,
    MandateAccount,
)
from governance.shell.mandates import mandate_adopt
from tests.factories import ClientFactory, FigureFactory, UserFactory

Q = datetime.date(2026, 7, 1)
PREVIOUS = datetime.date(2026, 4, 1)


def at(year: int, month: int, day: int, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(year, month, day, hour))


NOW = at(2026, 9, 15)

CATALOGUE = [
    ("revenue", "Revenue", KpiUnit.MONEY, KpiDirection.HIGHER, KpiSource.REVENUE),
    ("margin", "Gross margin", KpiUnit.MONEY, KpiDirection.HIGHER, KpiSource.GROSS_MARGIN),
    ("growth", "Growth", KpiUnit.PERCENT, KpiDirection.HIGHER, KpiSource.GROWTH),
    ("key-share", "Key share", KpiUnit.PERCENT, KpiDirection.HIGHER, KpiSource.KEY_SHARE),
    ("coverage", "Key coverage", KpiUnit.PERCENT, KpiDirection.HIGHER, KpiSource.KEY_COVERAGE),
    ("exceptions", "Exceptions", KpiUnit.COUNT, KpiDirection.LOWER, KpiSource.EXCEPTIONS),
    ("breaches", "Breaches", KpiUnit.COUNT, KpiDirection.LOWER, KpiSource.BREACHES),
    ("budget", "Budget used", KpiUnit.PERCENT, KpiDirection.LOWER, KpiSource.BUDGET_USED),
    ("nps", "Client satisfaction", KpiUnit.PERCENT, KpiDirection.HIGHER, KpiSource.MANUAL),
]


def make_catalogue() -> dict[str, Kpi]:
    return {
        code: Kpi.objects.create(
            code=code, name=name, unit=unit, direction=direction, source=source
        )
        for code, name, unit, direction, source in CATALOGUE
    }


def make_mandate(kam: User, clients: list[Client], valid_from=datetime.date(2026, 1, 1)):
    mandate = Mandate.objects.create(kam=kam, title=f"Mandate of {kam}", valid_from=valid_from)
    MandateAccount.objects.bulk_create(
        MandateAccount(mandate=mandate, client=client) for client in clients
    )
    return mandate_adopt(mandate=mandate)


def make_run(ruler: RulerVersion, coverage: dict[Client, str], *, status: str = "done"):
    run = EvaluationRun.objects.create(
        ruler=ruler, as_of=Q, status=status, in_progress=None if status == "done" else True
    )
    Evaluation.objects.bulk_create(
        Evaluation(
            run=run,
            client=client,
            ruler=ruler,
            coverage_ratio=Decimal(ratio),
            meets_ruler=False,
            was_key=False,
            created_at=NOW,
        )
        for client, ratio in coverage.items()
    )
    return run


@dataclass
class World:
    kpis: dict[str, Kpi]
    kam: User
    kam2: User
    a: Client
    b: Client
    c: Client
    d: Client
    mandate: Mandate
    mandate2: Mandate


def build_world(kam: User, kam2: User) -> World:
    kpis = make_catalogue()
    a = ClientFactory(name="A", owner_kam=kam)
    b = ClientFactory(name="B", owner_kam=kam)
    c = ClientFactory(name="C", owner_kam=kam2)
    d = ClientFactory(name="D")
    Client.objects.filter(pk=a.pk).update(is_key=True)
    for client, previous, revenue, margin in (
        (a, 1000, 1200, 300),
        (b, 500, 300, 60),
        (c, 800, 1000, 250),
        (d, 200, 500, 100),
    ):
        FigureFactory(client=client, period=PREVIOUS, revenue=previous, gross_margin=0)
        FigureFactory(client=client, period=Q, revenue=revenue, gross_margin=margin)
    mandate = make_mandate(kam, [a, b])
    mandate2 = make_mandate(kam2, [c])

    ruler = RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    # An older finished run and a newer failed one: only the last finished run counts.
    make_run(ruler, {a: "0.10", b: "0.10", c: "0.10", d: "0.10"})
    make_run(ruler, {a: "0.80", b: "0.50", c: "0.95", d: "1.00"})
    make_run(ruler, {a: "0.20"}, status="failed")

    def exception(client: Client, state: str, decided_at: datetime.datetime | None) -> None:
        ExceptionRequest.objects.create(
            mandate=mandate if client in (a, b) else mandate2,
            client=client,
            requested_by=kam,
            justification="Tender",
            approver=Approver.HEAD_OF_KAM,
            state=state,
            respond_by=at(2026, 7, 1),
            decided_at=decided_at,
        )

    exception(a, ExceptionState.APPROVED, at(2026, 8, 15))
    exception(a, ExceptionState.APPROVED, at(2026, 6, 30))  # the quarter before
    exception(c, ExceptionState.REJECTED, at(2026, 8, 15))
    exception(b, ExceptionState.PENDING, None)

    obligation = DepartmentObligation.objects.create(
        department="logistics",
        title="Urgent shipment",
        owner=UserFactory(username="logistics.head"),
        response_hours=24,
    )

    def request(client: Client, due: datetime.datetime, fulfilled: datetime.datetime | None):
        DepartmentRequest.objects.create(
            obligation=obligation,
            client=client,
            requested_by=kam,
            text="Ship",
            due_at=due,
            fulfilled_at=fulfilled,
        )

    request(c, at(2026, 8, 1), at(2026, 8, 3))  # late
    request(a, at(2026, 8, 1), at(2026, 7, 30))  # on time
    request(d, at(2026, 9, 1), None)  # overdue at NOW
    request(b, at(2026, 9, 20), None)  # not yet due at NOW
    request(b, at(2026, 10, 5), None)  # due next quarter

    def budget(client: Client, period: datetime.date, allocated: int, spent: list[int]) -> None:
        budget = Budget.objects.create(client=client, period=period, allocated=allocated)
        BudgetSpend.objects.bulk_create(
            BudgetSpend(
                budget=budget,
                amount=amount,
                category="events",
                spent_on=period,
                description="Visit",
                recorded_by=kam,
            )
            for amount in spent
        )

    budget(a, Q, 1000, [200, 100])
    budget(c, Q, 500, [400])
    budget(d, Q, 500, [])
    budget(a, PREVIOUS, 1000, [999])
    return World(kpis, kam, kam2, a, b, c, d, mandate, mandate2)
