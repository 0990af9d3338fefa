"""The KPI engine: actuals against hand-computed figures, idempotent snapshots in a fixed number
of queries, states against targets, and hand entries with their audit trail."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.periods import previous_quarter, quarter_start, quarters_back
from accounts.roles import Role
from governance.kpis.figures import kpi_entry_record
from governance.kpis.snapshots import snapshot_quarter, snapshot_recent, snapshots_missed
from governance.kpis.states import KpiState, kpi_rows_for_kam, kpi_state
from governance.models import (
    Kpi,
    KpiDirection,
    KpiEntry,
    KpiSnapshot,
    KpiSource,
    KpiTarget,
    KpiUnit,
    Mandate,
    PortfolioSnapshot,
)
from governance.tasks import snapshot_kpis, snapshot_kpis_if_missed
from tests.factories import ClientFactory, FigureFactory, UserFactory
from tests.kpi_world import NOW, PREVIOUS, Q, World, at, build_world, make_catalogue, make_mandate

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(kam, kam2) -> World:
    return build_world(kam, kam2)


def values(period: datetime.date = Q) -> dict[tuple[str, str], Decimal | None]:
    """{(kpi code, scope key): value} of the quarter's snapshots."""
    return {
        (code, scope_key): value
        for code, scope_key, value in KpiSnapshot.objects.filter(period=period).values_list(
            "kpi__code", "scope_key", "value"
        )
    }


def d(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def test_quarters():
    assert previous_quarter(Q) == PREVIOUS
    assert previous_quarter(datetime.date(2026, 1, 1)) == datetime.date(2025, 10, 1)
    assert quarters_back(datetime.date(2026, 4, 1), 3) == [
        datetime.date(2025, 10, 1),
        datetime.date(2026, 1, 1),
        datetime.date(2026, 4, 1),
    ]


# What each scope must show, worked out by hand from the table in tests/kpi_world.py.
EXPECTED = {
    # Portfolio: every client. Revenue 1200+300+1000+500; previous 1000+500+800+200 = 2500.
    ("revenue", "portfolio"): "3000",
    ("margin", "portfolio"): "710",
    ("growth", "portfolio"): "20",  # (3000 − 2500) / 2500
    ("key-share", "portfolio"): "40",  # 1200 / 3000
    ("coverage", "portfolio"): "80",  # A alone is key
    ("exceptions", "portfolio"): "1",
    ("breaches", "portfolio"): "2",  # C late, D overdue
    ("budget", "portfolio"): "35",  # 700 / 2000
    # kam: A and B. Previous 1000 + 500.
    ("revenue", "kam"): "1500",
    ("margin", "kam"): "360",
    ("growth", "kam"): "0",
    ("key-share", "kam"): "80",
    ("coverage", "kam"): "80",
    ("exceptions", "kam"): "1",
    ("breaches", "kam"): "0",
    ("budget", "kam"): "30",  # 300 / 1000
    # kam2: C.
    ("revenue", "kam2"): "1000",
    ("margin", "kam2"): "250",
    ("growth", "kam2"): "25",
    ("key-share", "kam2"): "0",
    ("coverage", "kam2"): None,  # no key client
    ("exceptions", "kam2"): "0",  # C's was rejected
    ("breaches", "kam2"): "1",
    ("budget", "kam2"): "80",
    # Accounts.
    ("revenue", "a"): "1200",
    ("growth", "a"): "20",
    ("key-share", "a"): "100",
    ("coverage", "a"): "80",
    ("exceptions", "a"): "1",
    ("budget", "a"): "30",
    ("revenue", "b"): "300",
    ("margin", "b"): "60",
    ("growth", "b"): "-40",
    ("key-share", "b"): "0",
    ("coverage", "b"): None,
    ("breaches", "b"): "0",  # due after NOW
    ("budget", "b"): None,  # nothing allocated
    ("growth", "c"): "25",
    ("breaches", "c"): "1",
    ("budget", "c"): "80",
}


def test_every_source_and_scope_against_hand_computed_figures(world):
    scope_keys = {
        "portfolio": "portfolio",
        "kam": f"kam:{world.kam.pk}",
        "kam2": f"kam:{world.kam2.pk}",
        "a": f"account:{world.a.pk}",
        "b": f"account:{world.b.pk}",
        "c": f"account:{world.c.pk}",
    }

    snapshot_quarter(Q, now=NOW)

    found = values()
    actual = {(code, scope): found[(code, scope_keys[scope])] for code, scope in EXPECTED}
    assert actual == {key: d(value) for key, value in EXPECTED.items()}
    # D is in no mandate: no account row of its own, but it counts for the portfolio.
    assert not any(key == f"account:{world.d.pk}" for _code, key in found)
    assert len(found) == 9 * 6  # nine KPIs × (portfolio, two KAMs, three accounts)
    assert set(
        KpiSnapshot.objects.filter(scope_key=f"account:{world.a.pk}").values_list("kam", "client")
    ) == {(world.kam.pk, world.a.pk)}


def test_the_portfolio_snapshot(world):
    snapshot_quarter(Q, now=NOW)

    snapshot = PortfolioSnapshot.objects.get(period=Q)
    assert (snapshot.clients, snapshot.key_clients) == (4, 1)
    assert (snapshot.total_revenue, snapshot.key_revenue) == (Decimal(3000), Decimal(1200))
    # B 0.50 in 50–60 %, A 0.80 in 80–90 %, C 0.95 and D 1.00 (100 % goes in the last).
    assert snapshot.coverage_buckets == [0, 0, 0, 0, 0, 1, 0, 0, 1, 2]
    assert snapshot.key_coverage_buckets == [0, 0, 0, 0, 0, 0, 0, 0, 1, 0]
    assert snapshot.computed_at == NOW


def test_growth_is_empty_without_the_previous_quarter_or_the_current_figures(world):
    snapshot_quarter(PREVIOUS, now=NOW)  # nothing before Q2
    snapshot_quarter(datetime.date(2026, 10, 1), now=NOW)  # Q4 figures are not in yet

    assert values(PREVIOUS)[("growth", "portfolio")] is None
    assert values(PREVIOUS)[("revenue", "portfolio")] == Decimal(2500)
    assert values(datetime.date(2026, 10, 1))[("growth", "portfolio")] is None
    assert values(datetime.date(2026, 10, 1))[("revenue", "portfolio")] is None


def test_twice_gives_the_same_rows_and_values(world):
    first_count = snapshot_quarter(Q, now=NOW)
    first = values()
    pks = set(KpiSnapshot.objects.values_list("pk", flat=True))

    second_count = snapshot_quarter(Q, now=NOW + datetime.timedelta(hours=1))

    assert first_count == second_count == KpiSnapshot.objects.count() == 54
    assert values() == first
    assert set(KpiSnapshot.objects.values_list("pk", flat=True)) == pks
    assert PortfolioSnapshot.objects.count() == 1
    assert set(KpiSnapshot.objects.values_list("computed_at", flat=True)) == {
        NOW + datetime.timedelta(hours=1)
    }


def test_a_recomputed_quarter_follows_the_figures_and_drops_scopes_gone(world, kam2):
    snapshot_quarter(Q, now=NOW)
    FigureFactory(client=ClientFactory(), period=Q, revenue=1000, gross_margin=0)
    # kam2's mandate now ends before the quarter.
    Mandate.objects.filter(pk=world.mandate2.pk).update(valid_to=datetime.date(2026, 6, 30))

    snapshot_quarter(Q, now=NOW)

    assert values()[("revenue", "portfolio")] == Decimal(4000)
    assert not KpiSnapshot.objects.filter(kam=kam2).exists()


def test_the_manual_kpi_takes_the_latest_entry(world, director):
    nps = world.kpis["nps"]
    for value in ("70", "75"):
        kpi_entry_record(
            kpi=nps,
            period=Q,
            kam=world.kam,
            client=None,
            value=Decimal(value),
            note="",
            by=director,
        )
    kpi_entry_record(
        kpi=nps, period=Q, kam=world.kam2, client=None, value=Decimal(60), note="", by=director
    )
    kpi_entry_record(
        kpi=nps, period=Q, kam=world.kam, client=world.a, value=Decimal(90), note="", by=director
    )
    refreshed = values()  # the entries refreshed their own rows already

    snapshot_quarter(Q, now=NOW)

    found = values()
    assert found[("nps", f"kam:{world.kam.pk}")] == Decimal(75)
    assert found[("nps", f"kam:{world.kam2.pk}")] == Decimal(60)
    assert found[("nps", f"account:{world.a.pk}")] == Decimal(90)
    assert found[("nps", f"account:{world.b.pk}")] is None
    assert found[("nps", "portfolio")] == Decimal("67.5")  # the KAMs' average
    assert {k: v for k, v in refreshed.items() if k[0] == "nps"} == {
        k: v for k, v in found.items() if k[0] == "nps" and v is not None
    }


def _company(clients: int) -> None:
    """``clients`` clients split between two KAMs' mandates, with figures, budgets, requests,
    exceptions and evaluations for each."""
    kams = [UserFactory(role=Role.KAM), UserFactory(role=Role.KAM)]
    world = build_world(*kams)
    extra = [ClientFactory(owner_kam=kams[n % 2]) for n in range(clients - 4)]
    for client in extra:
        FigureFactory(client=client, period=Q)
        FigureFactory(client=client, period=PREVIOUS)
    for number, mandate in enumerate((world.mandate, world.mandate2)):
        mandate.accounts.bulk_create(
            mandate.accounts.model(mandate=mandate, client=client) for client in extra[number::2]
        )


# Whatever the number of clients: a fixed number of queries per source, one upsert.
SNAPSHOT_QUERIES = 23  # the last: which webhook endpoints want the snapshot


@pytest.mark.parametrize("clients", [5, 50])
def test_the_number_of_queries_does_not_grow_with_clients(clients, django_assert_num_queries):
    _company(clients)

    with django_assert_num_queries(SNAPSHOT_QUERIES):
        rows = snapshot_quarter(Q, now=NOW)

    assert rows == 9 * (1 + 2 + clients - 1)  # the portfolio, two KAMs, every account but D


@pytest.mark.parametrize(
    ("direction", "actual", "state"),
    [
        (KpiDirection.HIGHER, "120", KpiState.GOOD),
        (KpiDirection.HIGHER, "100", KpiState.GOOD),
        (KpiDirection.HIGHER, "99.99", KpiState.WATCH),
        (KpiDirection.HIGHER, "90", KpiState.WATCH),
        (KpiDirection.HIGHER, "89.99", KpiState.BAD),
        (KpiDirection.LOWER, "80", KpiState.GOOD),
        (KpiDirection.LOWER, "100", KpiState.GOOD),
        (KpiDirection.LOWER, "100.01", KpiState.WATCH),
        (KpiDirection.LOWER, "110", KpiState.WATCH),
        (KpiDirection.LOWER, "110.01", KpiState.BAD),
    ],
)
def test_state_against_a_target_of_100_with_a_band_of_10(direction, actual, state):
    kpi = Kpi(unit=KpiUnit.PERCENT, direction=direction, watch_band_percent=Decimal(10))

    assert kpi_state(kpi, Decimal(actual), Decimal(100)) == state


def test_state_without_a_target_or_an_actual_and_with_a_negative_target():
    kpi = Kpi(direction=KpiDirection.HIGHER, watch_band_percent=Decimal(10))

    assert kpi_state(kpi, Decimal(5), None) == KpiState.NO_TARGET
    assert kpi_state(kpi, None, Decimal(5)) == KpiState.NO_ACTUAL
    assert kpi_state(kpi, Decimal("-10.5"), Decimal(-10)) == KpiState.WATCH
    assert kpi_state(kpi, Decimal(-12), Decimal(-10)) == KpiState.BAD
    assert str(KpiState.LABELS[KpiState.WATCH]) == "Watch"


def test_the_kams_rows_with_targets_states_and_trend(world, django_assert_num_queries):
    snapshot_quarter(PREVIOUS, now=NOW)
    snapshot_quarter(Q, now=NOW)
    kpis = world.kpis
    for code, target in (("revenue", 1400), ("key-share", 90), ("budget", 30)):
        KpiTarget.objects.create(kpi=kpis[code], mandate=world.mandate, period=Q, target=target)
    # Another quarter's, an account's and another KAM's targets do not count here.
    KpiTarget.objects.create(kpi=kpis["revenue"], mandate=world.mandate, period=PREVIOUS, target=1)
    KpiTarget.objects.create(
        kpi=kpis["revenue"], mandate=world.mandate, client=world.a, period=Q, target=1
    )
    KpiTarget.objects.create(kpi=kpis["margin"], mandate=world.mandate2, period=Q, target=1)

    with django_assert_num_queries(3):
        rows = {row.kpi.code: row for row in kpi_rows_for_kam(kam=world.kam, period=Q)}

    assert len(rows) == 9
    assert (rows["revenue"].actual, rows["revenue"].target) == (Decimal(1500), Decimal(1400))
    assert rows["revenue"].state == KpiState.GOOD
    assert rows["key-share"].state == KpiState.BAD  # 80 against 90: past the 10 % band
    assert rows["budget"].state == KpiState.GOOD  # lower is better: 30 against 30
    assert rows["margin"].state == KpiState.NO_TARGET
    assert rows["revenue"].trend == [
        (datetime.date(2025, 10, 1), None),
        (datetime.date(2026, 1, 1), None),
        (PREVIOUS, Decimal(1500)),
        (Q, Decimal(1500)),
    ]
    assert rows["revenue"].state_label == "On target"


# Hand entries.


def _entry(world: World, by, **changes):
    fields = {
        "kpi": world.kpis["nps"],
        "period": Q,
        "kam": world.kam,
        "client": None,
        "value": Decimal(70),
        "note": "Survey of June",
        "by": by,
    }
    fields.update(changes)
    return kpi_entry_record(**fields)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"kpi": "revenue"}, "kpi", "computed from the data"),
        ({"period": datetime.date(2026, 8, 1)}, "period", "first day"),
        ({"period": datetime.date(2099, 1, 1)}, "period", "not started"),
        ({"kam": "director"}, "kam", "no mandate"),
        ({"period": datetime.date(2025, 10, 1)}, "kam", "no mandate"),
        ({"client": "c"}, "client", "not in the mandate"),
        ({"value": Decimal("1000.01")}, "value", "between 0 and 1000"),
        ({"value": Decimal(-1)}, "value", "between 0 and 1000"),
    ],
)
def test_an_entry_is_refused_with_a_clear_message(world, director, changes, field, message):
    changes = {
        name: (
            world.kpis[value]
            if name == "kpi"
            else director
            if value == "director"
            else world.c
            if value == "c"
            else value
        )
        for name, value in changes.items()
    }

    with pytest.raises(ValidationError) as refused:
        _entry(world, director, **changes)

    assert message in " ".join(refused.value.message_dict[field])
    assert not KpiEntry.objects.exists()


@pytest.mark.parametrize(("value", "accepted"), [("3", True), ("2.5", False), ("-1", False)])
def test_a_count_is_a_whole_number(kam, director, value, accepted):
    visits = Kpi.objects.create(
        code="visits", name="Visits", unit=KpiUnit.COUNT, source=KpiSource.MANUAL
    )
    make_mandate(kam, [ClientFactory(owner_kam=kam)])

    def record():
        return kpi_entry_record(
            kpi=visits, period=Q, kam=kam, client=None, value=Decimal(value), note="", by=director
        )

    if accepted:
        assert record().value == Decimal(value)
    else:
        with pytest.raises(ValidationError, match="whole number"):
            record()


def test_entries_are_an_audit_trail(world, director, member):
    first = _entry(world, director, value=Decimal(70))
    second = _entry(world, member, value=Decimal(72), note="Corrected after the recount")

    assert KpiEntry.objects.count() == 2
    first.refresh_from_db()
    assert first.value == Decimal(70)  # never overwritten
    assert (second.entered_by, second.note) == (member, "Corrected after the recount")
    assert KpiEntry.objects.first() == second  # newest first
    assert values()[("nps", f"kam:{world.kam.pk}")] == Decimal(72)
    assert values()[("nps", "portfolio")] == Decimal(72)


def test_the_task_snapshots_the_current_and_the_previous_quarter(kam, kam2):
    make_catalogue()
    now = at(2026, 11, 27)

    rows = snapshot_recent(now=now)

    assert rows == 18  # nine KPIs, the portfolio alone, two quarters
    assert set(PortfolioSnapshot.objects.values_list("period", flat=True)) == {
        datetime.date(2026, 7, 1),
        datetime.date(2026, 10, 1),
    }


def test_the_beat_schedule_is_registered():

    task = PeriodicTask.objects.get(task="governance.tasks.snapshot_kpis")
    assert task.enabled and task.crontab is not None


@pytest.mark.time_machine("2026-11-18T12:00+03:00")  # 03:30 passed hours ago
def test_a_nightly_snapshot_missed_by_a_beat_that_was_down_is_caught_up_once(kam, kam2):
    make_catalogue()
    snapshot_kpis.apply().get()
    KpiSnapshot.objects.update(
        computed_at=datetime.datetime.fromisoformat("2026-11-17T03:30+03:00")
    )
    assert snapshots_missed() is True  # last night's snapshot, none since this night's 03:30

    assert snapshot_kpis_if_missed.apply().get() == 18
    assert snapshot_kpis_if_missed.apply().get() is None  # once
    assert snapshots_missed() is False
    assert PeriodicTask.objects.get(task="governance.tasks.snapshot_kpis_if_missed").enabled


@pytest.mark.time_machine("2026-11-18T03:40+03:00")
def test_a_nightly_snapshot_is_left_to_the_beat_for_a_while(kam, kam2):
    make_catalogue()
    snapshot_kpis.apply().get()
    KpiSnapshot.objects.update(
        computed_at=datetime.datetime.fromisoformat("2026-11-17T03:30+03:00")
    )
    assert snapshots_missed() is False  # ten minutes after 03:30: the beat may still send it
    assert snapshot_kpis_if_missed.apply().get() is None


@pytest.mark.time_machine("2026-11-18T12:00+03:00")  # the task and the check see one quarter
def test_the_task_runs_the_snapshot(kam, kam2, settings):

    make_catalogue()
    assert snapshot_kpis.apply().get() == 18
    assert KpiSnapshot.objects.filter(period=quarter_start(timezone.localdate())).count() == 9
