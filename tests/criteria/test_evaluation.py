"""The ruler's evaluation engine: coverage of weighted needs by our USPs, gates and score, the
figures' windows, review items, and runs that are chunked, idempotent, resumable and race-safe,
on PostgreSQL, on SQLite, and through a real Celery worker.

Every expected number is worked out by hand in the test that checks it.
"""

from __future__ import annotations

import datetime
import functools
import json
import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import OperationalError, connection, connections
from django.db.models import ProtectedError
from django.utils import timezone, translation

from accounts.models import Client, ClientNeed
from criteria import tasks
from criteria.evaluation import (
    NoRulerInForce,
    Periods,
    chunks_remaining,
    coverage_ratio_of,
    run_all_chunks,
    run_chunk,
    run_start,
    run_start_or_resume,
)
from criteria.models import (
    USP,
    CriterionKind,
    Direction,
    Evaluation,
    EvaluationChunk,
    EvaluationRun,
    NeedCoverage,
    ReviewItem,
    ReviewKind,
    RulerCriterion,
    RulerStatus,
    RulerVersion,
    RunStatus,
)
from criteria.selectors import scorecard_for
from criteria.services import RulerNotDraft, coverage_set, fit_rate, ruler_adopt, ruler_draft_create
from skam.celery import app
from tests.embedded import manage, rows_in, var_dir_with
from tests.factories import ClientFactory, FigureFactory, NeedFactory, UserFactory, USPFactory

BASE_DIR = Path(__file__).resolve().parents[2]

# Figures "as of" mid-May 2026: the last completed quarter is 2026 Q1, the last four quarters are
# 2025 Q2 – 2026 Q1, the previous four 2024 Q2 – 2025 Q1.
AS_OF = datetime.date(2026, 5, 15)
LAST_FOUR = [datetime.date(2025, m, 1) for m in (4, 7, 10)] + [datetime.date(2026, 1, 1)]
PREVIOUS_FOUR = [datetime.date(2024, m, 1) for m in (4, 7, 10)] + [datetime.date(2025, 1, 1)]


# --- Helpers -----------------------------------------------------------------------------------


def criterion(
    kind: str,
    threshold: str,
    *,
    gate: bool = False,
    weight: int = 1,
    direction: str = Direction.AT_LEAST,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "threshold": Decimal(threshold),
        "is_gate": gate,
        "weight": weight,
        "direction": direction,
    }


def adopt_ruler(*criteria: dict[str, Any], threshold: str = "0.75") -> RulerVersion:
    """A new ruler version with these criteria, put in force."""
    draft = ruler_draft_create(title="Test ruler")
    RulerVersion.objects.filter(pk=draft.pk).update(coverage_threshold=Decimal(threshold))
    for fields in criteria:
        RulerCriterion.objects.create(ruler=draft, **fields)
    return ruler_adopt(ruler=draft, by=UserFactory())


def need(client: Client, weight: int, *coverage: tuple[USP, str]) -> ClientNeed:
    """A need of ``client`` met by each ``(usp, degree)`` given."""
    client_need = NeedFactory(client=client, weight=weight)
    for usp, degree in coverage:
        coverage_set(need=client_need, usp=usp, degree=Decimal(degree))
    return client_need


def evaluate(*, as_of: datetime.date = AS_OF, chunk_size: int = 5000) -> EvaluationRun:
    """A complete run over every client."""
    run = run_start(as_of=as_of, chunk_size=chunk_size)
    assert run is not None, "another run is in progress"
    return run_all_chunks(run=run)


def evaluation(run: EvaluationRun, client: Client) -> Evaluation:
    return Evaluation.objects.get(run=run, client=client)


def eight_quarters(client: Client) -> None:
    """Eight quarters of figures, plus one on each side that the run must ignore.

    Previous four: revenue 100 each = 400. Last four: 110 + 120 + 130 + 140 = 500, gross margin
    11 + 24 + 26 + 39 = 100 → 20.00 %; growth (500 − 400) / 400 = 25.00 %. Potential revenue
    and share of wallet come from 2026 Q1 alone: 3000 and 42.50 %.
    """
    FigureFactory(
        client=client,
        period=datetime.date(2024, 1, 1),  # before the previous four
        revenue=Decimal(9999),
        gross_margin=Decimal(9999),
        potential_revenue=Decimal(9999),
        share_of_wallet=Decimal(99),
    )
    for period in PREVIOUS_FOUR:
        FigureFactory(
            client=client,
            period=period,
            revenue=Decimal(100),
            gross_margin=Decimal(50),
            potential_revenue=Decimal(1),
            share_of_wallet=Decimal(1),
        )
    quarters = zip(LAST_FOUR, (110, 120, 130, 140), (11, 24, 26, 39), strict=True)
    for period, revenue, margin in quarters:
        last = period == LAST_FOUR[-1]
        FigureFactory(
            client=client,
            period=period,
            revenue=Decimal(revenue),
            gross_margin=Decimal(margin),
            potential_revenue=Decimal(3000) if last else Decimal(2),
            share_of_wallet=Decimal("42.50") if last else Decimal(2),
        )
    FigureFactory(
        client=client,
        period=datetime.date(2026, 4, 1),  # the current quarter, not completed as of AS_OF
        revenue=Decimal(7777),
        gross_margin=Decimal(7777),
        potential_revenue=Decimal(7777),
        share_of_wallet=Decimal(77),
    )


def in_threads(target: Callable[[], object], count: int = 2) -> list[object]:
    """Run ``target`` in ``count`` threads released at the same moment, each on its own database
    connection; return what each returned, and fail on any exception."""
    start = threading.Barrier(count)
    results: list[object] = []
    failures: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            results.append(target())
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert len(results) == count
    return results


@pytest.fixture
def ruler(db: None) -> RulerVersion:
    """The ruler in force: coverage of at least 75 % and nothing else."""
    return adopt_ruler()


# --- The scenario run on both PostgreSQL and SQLite ----------------------------------------------


def build_scenario() -> None:
    """A small register exercising coverage, gates, score and figures at once."""
    adopt_ruler(
        criterion(CriterionKind.REVENUE_4Q, "450", gate=True),
        criterion(CriterionKind.POTENTIAL_REVENUE, "1000", weight=3),
        criterion(CriterionKind.REVENUE_GROWTH, "10", weight=4),
        criterion(CriterionKind.GROSS_MARGIN_PERCENT, "25", weight=1),
        criterion(CriterionKind.STRATEGIC_FIT, "4", weight=2),
    )
    main, partner = USPFactory(name="Main"), USPFactory(name="Partner")
    retired = USPFactory(name="Retired", retired_on=AS_OF - datetime.timedelta(days=1))
    future = USPFactory(name="Future", since=AS_OF + datetime.timedelta(days=1))

    # (7·1 + 1·0.5 + 2·0) / 10 = 0.75: the retired and the future USP do not count.
    exact = ClientFactory(name="Exact")
    need(exact, 7, (main, "1"))
    need(exact, 1, (partner, "0.5"), (retired, "1"))
    need(exact, 2, (future, "1"))
    eight_quarters(exact)
    # (7·1 + 1·0.499 + 2·0) / 10 = 0.7499
    short = ClientFactory(name="Short")
    need(short, 7, (main, "1"))
    need(short, 1, (partner, "0.499"))
    need(short, 2)
    eight_quarters(short)
    # Full coverage, but revenue of the last four quarters is 0 + 0 + 0 + 300 < 450 (the gate).
    gated = ClientFactory(name="Gated")
    need(gated, 10, (main, "1"))
    FigureFactory(
        client=gated,
        period=LAST_FOUR[-1],
        revenue=Decimal(300),
        gross_margin=Decimal(60),
        potential_revenue=Decimal(5000),
        share_of_wallet=Decimal(30),
    )
    ClientFactory(name="Bare")  # no needs, no figures
    # From 1.00 to 1 000 000.00 of revenue, at a margin of −10¹²: percentages beyond NUMERIC(9, 2)
    soaring = ClientFactory(name="Soaring")
    for period, revenue, margin in (
        (PREVIOUS_FOUR[0], "1.00", "0"),
        (LAST_FOUR[-1], "1000000.00", "-1000000000000.00"),
    ):
        FigureFactory(
            client=soaring,
            period=period,
            revenue=Decimal(revenue),
            gross_margin=Decimal(margin),
            potential_revenue=Decimal(0),
            share_of_wallet=Decimal(0),
        )


def scenario_results(run: EvaluationRun) -> dict[str, dict[str, object]]:
    def number(value: Decimal | None) -> float | None:
        return None if value is None else float(value)

    return {
        e.client.name: {
            "coverage": number(e.coverage_ratio),
            "weight_total": e.weight_total,
            "meets": e.meets_ruler,
            "score": number(e.score),
            "revenue_4q": number(e.revenue_4q),
            "growth": number(e.revenue_growth),
            "margin": number(e.gross_margin_percent),
            "potential": number(e.potential_revenue),
            "share_of_wallet": number(e.share_of_wallet),
        }
        for e in run.evaluations.select_related("client")
    }


# Score: potential revenue 3000 ≥ 1000 (3) and growth 25 ≥ 10 (4) pass, margin 20 < 25 (1) and an
# unknown strategic fit (2) fail: 7 / 10 = 70 %.
EIGHT_QUARTERS = {
    "revenue_4q": 500.0,
    "growth": 25.0,
    "margin": 20.0,
    "potential": 3000.0,
    "share_of_wallet": 42.5,
}
SCENARIO_EXPECTED = {
    "Exact": {"coverage": 0.75, "weight_total": 10, "meets": True, "score": 70.0} | EIGHT_QUARTERS,
    "Short": {"coverage": 0.7499, "weight_total": 10, "meets": False, "score": 70.0}
    | EIGHT_QUARTERS,
    # Potential 5000 ≥ 1000 passes (3); no previous year, so no growth (4); margin 60 / 300 =
    # 20 % < 25 % (1); no fit (2): 3 / 10 = 30 %.
    "Gated": {
        "coverage": 1.0,
        "weight_total": 10,
        "meets": False,
        "score": 30.0,
        "revenue_4q": 300.0,
        "growth": None,
        "margin": 20.0,
        "potential": 5000.0,
        "share_of_wallet": 30.0,
    },
    # No needs: no coverage and no verdict in favour; no figures: every criterion unknown.
    "Bare": {
        "coverage": None,
        "weight_total": 0,
        "meets": False,
        "score": 0.0,
        "revenue_4q": None,
        "growth": None,
        "margin": None,
        "potential": None,
        "share_of_wallet": None,
    },
    # Capped percentages; only growth (4) passes: 4 / 10.
    "Soaring": {
        "coverage": None,
        "weight_total": 0,
        "meets": False,
        "score": 40.0,
        "revenue_4q": 1000000.0,
        "growth": 9999999.99,
        "margin": -9999999.99,
        "potential": 0.0,
        "share_of_wallet": 0.0,
    },
}


@pytest.mark.django_db
def test_scenario_on_postgresql() -> None:
    build_scenario()
    run = evaluate()

    assert run.status == RunStatus.DONE
    assert run.clients_evaluated == 5
    assert scenario_results(run) == SCENARIO_EXPECTED


def test_scenario_on_sqlite(tmp_path: Path, migrated_sqlite_database: Path) -> None:
    """The same scenario on the embedded default, SQLite, in a fresh process and a freshly
    migrated database (a copy of the run's, migrated once: tests/embedded.py)."""
    var_dir_with(migrated_sqlite_database, tmp_path)
    script = (
        "import json\n"
        "from django.db import connection\n"
        "from tests.criteria.test_evaluation import build_scenario, evaluate, scenario_results\n"
        "assert connection.vendor == 'sqlite', connection.vendor\n"
        "build_scenario()\n"
        "print('RESULT ' + json.dumps(scenario_results(evaluate())))\n"
    )
    shell = manage(tmp_path, "shell", "--no-imports", "-c", script)
    assert shell.returncode == 0, shell.stderr
    # The run was written into the database file in SKAM_VAR_DIR.
    assert rows_in(tmp_path, EvaluationRun) == {"EvaluationRun": 1}
    [line] = [line for line in shell.stdout.splitlines() if line.startswith("RESULT ")]
    assert json.loads(line.removeprefix("RESULT ")) == SCENARIO_EXPECTED


# --- Coverage of weighted needs ------------------------------------------------------------------


def test_coverage_weighs_needs_by_importance_and_degree(ruler: RulerVersion) -> None:
    usp = USPFactory()
    client = ClientFactory()
    full = need(client, 3, (usp, "1"))
    half = need(client, 2, (usp, "0.5"))
    none = need(client, 5)

    run = evaluate()
    result = evaluation(run, client)

    # (3·1 + 2·0.5 + 5·0) / (3 + 2 + 5) = 4 / 10
    assert result.coverage_ratio == Decimal("0.4")
    assert result.weight_total == 10
    assert result.meets_ruler is False
    rows = {row[0]: row for row in result.breakdown}
    assert rows.keys() == {full.pk, half.pk, none.pk}
    assert [rows[full.pk][1], rows[full.pk][2], Decimal(str(rows[full.pk][3]))] == [
        full.name,
        3,
        Decimal(1),
    ]
    assert Decimal(str(rows[half.pk][3])) == Decimal("0.5")
    assert rows[half.pk][4] == [usp.pk]
    assert Decimal(str(rows[none.pk][3])) == 0
    assert not rows[none.pk][4]
    assert coverage_ratio_of(result.breakdown) == Decimal("0.4")


def test_a_need_counts_the_best_of_the_usps_meeting_it(ruler: RulerVersion) -> None:
    weak, strong, middling = USPFactory(), USPFactory(), USPFactory()
    client = ClientFactory()
    best_met = need(client, 4, (weak, "0.25"), (strong, "1"), (middling, "0.5"))
    need(client, 4)

    result = evaluation(evaluate(), client)

    # (4·1 + 4·0) / 8: the degrees are not added up, the best one counts.
    assert result.coverage_ratio == Decimal("0.5")
    [row] = [row for row in result.breakdown if row[0] == best_met.pk]
    assert Decimal(str(row[3])) == 1
    assert sorted(row[4]) == sorted([weak.pk, strong.pk, middling.pk])


@pytest.mark.parametrize(
    ("partial_degree", "coverage", "meets"),
    [
        ("0.499", "0.7499", False),  # (7 + 0.499) / 10 = 74.99 %
        ("0.5", "0.75", True),  # (7 + 0.5) / 10 = exactly 75 %
        ("0.501", "0.7501", True),
    ],
)
def test_coverage_threshold_edge(
    ruler: RulerVersion, partial_degree: str, coverage: str, meets: bool
) -> None:
    main, partner = USPFactory(), USPFactory()
    client = ClientFactory()
    need(client, 7, (main, "1"))
    need(client, 1, (partner, partial_degree))
    need(client, 2)

    result = evaluation(evaluate(), client)

    assert result.coverage_ratio == Decimal(coverage)
    assert result.meets_ruler is meets


def test_coverage_threshold_edge_over_ten_thousand_weight(ruler: RulerVersion) -> None:
    """1000 needs of weight 10: 750 met = 7500 / 10000 meets; one of them met only to 0.999
    instead gives 7499.99 / 10000, just below."""
    usp = USPFactory()
    at, below = ClientFactory(), ClientFactory()
    for client in (at, below):
        needs = ClientNeed.objects.bulk_create(
            ClientNeed(client=client, name=f"Need {n}", weight=10) for n in range(1000)
        )
        NeedCoverage.objects.bulk_create(
            NeedCoverage(need=n, usp=usp, degree=Decimal(1)) for n in needs[:750]
        )
    NeedCoverage.objects.filter(need__client=below, need__name="Need 0").update(
        degree=Decimal("0.999")
    )

    run = evaluate()

    assert evaluation(run, at).coverage_ratio == Decimal("0.75")
    assert evaluation(run, at).weight_total == 10000
    assert evaluation(run, at).meets_ruler is True
    assert evaluation(run, below).coverage_ratio == Decimal("0.749999")
    assert evaluation(run, below).meets_ruler is False


@pytest.mark.parametrize(
    ("since", "retired_on", "counts"),
    [
        (AS_OF - datetime.timedelta(days=1), None, True),
        (AS_OF, None, True),  # offered from that very day
        (AS_OF + datetime.timedelta(days=1), None, False),  # not offered yet
        (datetime.date(2020, 1, 1), AS_OF - datetime.timedelta(days=1), False),
        (datetime.date(2020, 1, 1), AS_OF, False),  # retired on the day
        (datetime.date(2020, 1, 1), AS_OF + datetime.timedelta(days=1), True),  # still offered
    ],
)
def test_only_usps_offered_on_the_run_date_count(
    ruler: RulerVersion,
    since: datetime.date,
    retired_on: datetime.date | None,
    counts: bool,
) -> None:
    usp = USPFactory(since=since, retired_on=retired_on)
    client = ClientFactory()
    need(client, 5, (usp, "1"))

    result = evaluation(evaluate(), client)

    assert result.coverage_ratio == (Decimal(1) if counts else Decimal(0))
    assert result.meets_ruler is counts
    assert result.breakdown[0][4] == ([usp.pk] if counts else None)


def test_retiring_a_usp_keeps_the_history_of_earlier_evaluations(ruler: RulerVersion) -> None:
    usp = USPFactory()
    client = ClientFactory()
    met = need(client, 5, (usp, "1"))
    before = evaluate()

    USP.objects.filter(pk=usp.pk).update(retired_on=AS_OF + datetime.timedelta(days=10))
    after = evaluate(as_of=AS_OF + datetime.timedelta(days=30))

    assert evaluation(after, client).coverage_ratio == 0
    assert evaluation(after, client).meets_ruler is False
    earlier = evaluation(before, client)
    assert earlier.coverage_ratio == 1
    assert earlier.meets_ruler is True
    assert earlier.breakdown[0][0] == met.pk
    assert earlier.breakdown[0][4] == [usp.pk]
    assert NeedCoverage.objects.filter(need=met, usp=usp).exists()
    with pytest.raises(ProtectedError):
        usp.delete()


def test_a_need_of_zero_weight_does_not_change_the_ratio(ruler: RulerVersion) -> None:
    usp = USPFactory()
    with_unmet_zero, with_met_zero = ClientFactory(), ClientFactory()
    need(with_unmet_zero, 4, (usp, "1"))
    need(with_unmet_zero, 0)
    need(with_met_zero, 4)
    need(with_met_zero, 0, (usp, "1"))

    run = evaluate()

    assert evaluation(run, with_unmet_zero).coverage_ratio == 1
    assert evaluation(run, with_unmet_zero).weight_total == 4
    assert len(evaluation(run, with_unmet_zero).breakdown) == 2
    assert evaluation(run, with_met_zero).coverage_ratio == 0


def test_a_client_without_weighted_needs_has_no_coverage_and_does_not_meet(db: None) -> None:
    adopt_ruler(threshold="0")  # even a ruler that asks for no coverage at all
    usp = USPFactory()
    no_needs, zero_weights = ClientFactory(), ClientFactory()
    need(zero_weights, 0, (usp, "1"))
    need(zero_weights, 0)

    run = evaluate()

    for client in (no_needs, zero_weights):
        result = evaluation(run, client)
        assert result.coverage_ratio is None
        assert result.weight_total == 0
        assert result.meets_ruler is False
        assert result.score is None  # the ruler has no scoring criteria
    assert evaluation(run, no_needs).breakdown == []
    assert run.clients_evaluated == 2


# --- Gates, score and figures --------------------------------------------------------------------


def fully_covered_client(**figures: Any) -> Client:
    client = ClientFactory()
    need(client, 5, (USPFactory(), "1"))
    if figures:
        FigureFactory(client=client, period=LAST_FOUR[-1], **figures)
    return client


def test_a_failing_gate_fails_the_verdict_despite_full_coverage(db: None) -> None:
    adopt_ruler(criterion(CriterionKind.POTENTIAL_REVENUE, "1000", gate=True))
    small = fully_covered_client(potential_revenue=Decimal("999.99"))
    large = fully_covered_client(potential_revenue=Decimal("1000.00"))  # exactly the threshold

    run = evaluate()

    assert evaluation(run, small).coverage_ratio == 1
    assert evaluation(run, small).meets_ruler is False
    assert evaluation(run, large).meets_ruler is True


def test_a_verdict_names_the_same_unmet_needs_whatever_their_names(ruler: RulerVersion) -> None:
    """The verdict names the largest shortfalls; among equal ones, the needs entered first, so
    that renaming needs (or reading the demo in Russian) does not change which are named."""
    client = ClientFactory()
    usp = USPFactory()
    need(client, 9, (usp, "1"))  # met: never named
    half = need(client, 6, (usp, "0.5"))  # shortfall 3, after the unmet ones of 4
    names = ["Zeta", "Epsilon", "Delta", "Gamma", "Beta", "Alpha"]  # entered in this order
    unmet = [NeedFactory(client=client, weight=4, name=name) for name in names]

    def named() -> list[str]:
        verdict = scorecard_for(evaluation(evaluate(), client)).verdict()
        return [line["need"] for line in verdict["unmet"]]

    assert named() == ["Zeta", "Epsilon", "Delta", "Gamma", "Beta"]
    for position, unmet_need in enumerate(reversed(unmet)):
        ClientNeed.objects.filter(pk=unmet_need.pk).update(name=f"Renamed {position}")
    assert named() == ["Renamed 5", "Renamed 4", "Renamed 3", "Renamed 2", "Renamed 1"]
    assert half.name not in named()


@pytest.mark.parametrize(
    ("threshold", "passes"), [("50", True), ("42.50", True), ("42.49", False), ("40", False)]
)
def test_an_at_most_gate_passes_at_or_below_its_threshold(
    db: None, threshold: str, passes: bool
) -> None:
    adopt_ruler(
        criterion(CriterionKind.SHARE_OF_WALLET, threshold, gate=True, direction=Direction.AT_MOST)
    )
    client = fully_covered_client(share_of_wallet=Decimal("42.50"))

    assert evaluation(evaluate(), client).meets_ruler is passes


@pytest.mark.parametrize("direction", [Direction.AT_LEAST, Direction.AT_MOST])
def test_an_unknown_value_fails_a_gate(db: None, direction: str) -> None:
    adopt_ruler(criterion(CriterionKind.STRATEGIC_FIT, "3", gate=True, direction=direction))
    unrated = fully_covered_client()
    no_share = fully_covered_client(share_of_wallet=None)

    run = evaluate()

    assert evaluation(run, unrated).strategic_fit is None
    assert evaluation(run, unrated).meets_ruler is False
    assert evaluation(run, no_share).meets_ruler is False


def test_the_latest_strategic_fit_rating_counts(db: None) -> None:
    adopt_ruler(criterion(CriterionKind.STRATEGIC_FIT, "3", gate=True))
    rater = UserFactory()
    fallen, risen = fully_covered_client(), fully_covered_client()
    fit_rate(client=fallen, rating=5, by=rater)
    fit_rate(client=fallen, rating=2, by=rater)
    fit_rate(client=risen, rating=1, by=rater)
    fit_rate(client=risen, rating=3, by=rater)

    run = evaluate()

    assert evaluation(run, fallen).strategic_fit == 2
    assert evaluation(run, fallen).meets_ruler is False
    assert evaluation(run, risen).strategic_fit == 3
    assert evaluation(run, risen).meets_ruler is True


def test_score_is_the_share_of_weights_of_the_criteria_passed(db: None) -> None:
    adopt_ruler(
        criterion(CriterionKind.POTENTIAL_REVENUE, "1000", weight=3),
        criterion(CriterionKind.SHARE_OF_WALLET, "40", weight=2, direction=Direction.AT_MOST),
        criterion(CriterionKind.STRATEGIC_FIT, "4", weight=1),
        criterion(CriterionKind.REVENUE_4Q, "1", gate=True),  # a gate adds nothing to the score
        criterion(CriterionKind.REVENUE_GROWTH, "0", weight=0),  # nor does a weight of nought
    )
    rater = UserFactory()
    all_pass = fully_covered_client(potential_revenue=Decimal(1000), share_of_wallet=Decimal(40))
    fit_rate(client=all_pass, rating=4, by=rater)
    two_of_three = fully_covered_client(potential_revenue=Decimal(5000), share_of_wallet=None)
    fit_rate(client=two_of_three, rating=5, by=rater)
    one_of_three = fully_covered_client(potential_revenue=Decimal(1), share_of_wallet=Decimal(10))

    run = evaluate()

    assert evaluation(run, all_pass).score == Decimal("100.00")
    # (3 + 1) / 6
    assert evaluation(run, two_of_three).score == Decimal("66.67")
    # 2 / 6
    assert evaluation(run, one_of_three).score == Decimal("33.33")
    # The score does not decide the verdict: coverage and gates do.
    assert evaluation(run, one_of_three).meets_ruler is True


def test_figures_come_from_the_right_quarters(ruler: RulerVersion) -> None:
    client = ClientFactory()
    eight_quarters(client)

    result = evaluation(evaluate(), client)

    assert result.potential_revenue == Decimal("3000.00")
    assert result.share_of_wallet == Decimal("42.50")
    assert result.revenue_4q == Decimal("500.00")
    assert result.gross_margin_percent == Decimal("20.00")
    assert result.revenue_growth == Decimal("25.00")


def test_figures_as_of_a_quarter_start_take_the_quarter_before(ruler: RulerVersion) -> None:
    """On 1 April the first quarter has just ended: it is the last completed one."""
    client = ClientFactory()
    FigureFactory(client=client, period=datetime.date(2026, 1, 1), revenue=Decimal(10))
    FigureFactory(client=client, period=datetime.date(2026, 4, 1), revenue=Decimal(1000))
    FigureFactory(client=client, period=datetime.date(2025, 1, 1), revenue=Decimal(5))

    result = evaluation(evaluate(as_of=datetime.date(2026, 4, 1)), client)

    assert result.revenue_4q == Decimal(10)
    # 2025 Q1 is in the previous four: (10 − 5) / 5
    assert result.revenue_growth == Decimal("100.00")


def test_extreme_percentages_are_capped_instead_of_failing_the_chunk(db: None) -> None:
    """Growth from 1.00 to 1 000 000.00 is 99 999 900 %, and a margin of −1 000 000 000 000 on
    that revenue −100 000 000 %: both beyond what NUMERIC(9, 2) holds."""
    adopt_ruler(
        criterion(CriterionKind.REVENUE_GROWTH, "50", gate=True),
        criterion(CriterionKind.GROSS_MARGIN_PERCENT, "10", weight=1, direction=Direction.AT_MOST),
    )
    grown, ordinary = fully_covered_client(), ClientFactory()
    FigureFactory(client=grown, period=PREVIOUS_FOUR[0], revenue=Decimal("1.00"))
    FigureFactory(
        client=grown,
        period=LAST_FOUR[0],
        revenue=Decimal("1000000.00"),
        gross_margin=Decimal("-1000000000000.00"),
    )
    eight_quarters(ordinary)

    run = evaluate()

    assert run.status == RunStatus.DONE
    result = evaluation(run, grown)
    assert result.revenue_growth == Decimal("9999999.99")
    assert result.gross_margin_percent == Decimal("-9999999.99")
    assert result.meets_ruler is True
    assert result.score == 100
    assert evaluation(run, ordinary).revenue_growth == Decimal("25.00")


def test_periods_of_a_run() -> None:
    assert Periods.as_of(AS_OF) == Periods(
        last=datetime.date(2026, 1, 1),
        first_of_last_four=datetime.date(2025, 4, 1),
        first_of_previous_four=datetime.date(2024, 4, 1),
        last_of_previous_four=datetime.date(2025, 1, 1),
    )
    assert Periods.as_of(datetime.date(2026, 1, 1)).last == datetime.date(2025, 10, 1)
    assert Periods.as_of(datetime.date(2026, 12, 31)).first_of_previous_four == datetime.date(
        2024, 10, 1
    )


# --- Runs: start, idempotence, resumption --------------------------------------------------------


@pytest.mark.django_db
def test_no_run_without_a_ruler_in_force() -> None:
    ruler_draft_create(title="Not adopted yet")
    with pytest.raises(NoRulerInForce):
        run_start(as_of=AS_OF)


def test_a_second_run_does_not_start_while_one_is_in_progress(ruler: RulerVersion) -> None:
    ClientFactory()
    first = run_start(as_of=AS_OF)

    assert run_start(as_of=AS_OF) is None
    run_all_chunks(run=first)
    assert run_start(as_of=AS_OF) is not None


def test_running_a_chunk_twice_writes_nothing_the_second_time(ruler: RulerVersion) -> None:
    ClientFactory.create_batch(3)
    run = run_start(as_of=AS_OF)

    assert run_chunk(run=run, index=0) is True
    assert run_chunk(run=run, index=0) is False

    run.refresh_from_db()
    assert Evaluation.objects.filter(run=run).count() == 3
    assert EvaluationChunk.objects.filter(run=run).count() == 1
    assert (run.chunks_done, run.clients_evaluated, run.status) == (1, 3, RunStatus.DONE)


def test_run_all_chunks_twice_changes_nothing(ruler: RulerVersion) -> None:
    clients = ClientFactory.create_batch(5)
    run = run_start(as_of=AS_OF, chunk_size=2)

    first = run_all_chunks(run=run)
    second = run_all_chunks(run=run)

    assert first.chunks_total == 3
    assert (second.chunks_done, second.clients_evaluated) == (3, 5)
    assert second.finished_at == first.finished_at
    assert sorted(Evaluation.objects.filter(run=run).values_list("client_id", flat=True)) == sorted(
        c.pk for c in clients
    )


def test_a_run_stopped_halfway_resumes_and_evaluates_everyone_once(ruler: RulerVersion) -> None:
    clients = ClientFactory.create_batch(7)
    run, created = run_start_or_resume(chunk_size=2)
    assert created is True
    assert run.chunks_total == 4
    run_chunk(run=run, index=0)
    run_chunk(run=run, index=2)  # then the worker dies

    resumed, created = run_start_or_resume(chunk_size=1000)

    assert (resumed.pk, created) == (run.pk, False)
    assert resumed.status == RunStatus.RUNNING
    assert resumed.chunk_size == 2
    assert chunks_remaining(run=resumed) == [1, 3]
    done = run_all_chunks(run=resumed)
    assert done.status == RunStatus.DONE
    assert (done.chunks_done, done.clients_evaluated) == (4, 7)
    assert sorted(Evaluation.objects.filter(run=run).values_list("client_id", flat=True)) == sorted(
        c.pk for c in clients
    )
    assert EvaluationRun.objects.count() == 1


def test_a_chunk_that_fails_midway_leaves_no_trace_and_is_done_on_resume(
    ruler: RulerVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after the evaluations were written but before the chunk finished rolls the whole
    chunk back, its claim included: nothing half-done, nothing lost."""
    clients = ClientFactory.create_batch(4)
    run = run_start(as_of=AS_OF, chunk_size=2)

    def crash(**kwargs: object) -> None:
        raise RuntimeError("worker killed")

    with monkeypatch.context() as patch:
        patch.setattr("criteria.evaluation._review_items_update", crash)
        with pytest.raises(RuntimeError):
            run_chunk(run=run, index=1)

    assert chunks_remaining(run=run) == [0, 1]
    assert not Evaluation.objects.filter(run=run).exists()
    resumed, created = run_start_or_resume()
    assert (resumed.pk, created) == (run.pk, False)
    done = run_all_chunks(run=resumed)
    assert (done.status, done.clients_evaluated) == (RunStatus.DONE, 4)
    assert Evaluation.objects.filter(run=run).count() == len(clients)


@pytest.mark.parametrize("clients", [5, 60])
def test_queries_per_chunk_do_not_grow_with_its_clients(
    db: None, django_assert_num_queries: Any, clients: int
) -> None:
    adopt_ruler(
        criterion(CriterionKind.REVENUE_4Q, "1", gate=True),
        criterion(CriterionKind.STRATEGIC_FIT, "3", weight=2),
    )
    usps = USPFactory.create_batch(3)
    rater = UserFactory()
    for client in ClientFactory.create_batch(clients):
        need(client, 5, (usps[0], "1"), (usps[1], "0.5"))
        need(client, 3, (usps[2], "0.5"))
        eight_quarters(client)
        fit_rate(client=client, rating=4, by=rater)
    evaluate()  # a previous run, so verdict changes are counted too
    run = run_start(as_of=AS_OF)

    # Start the run; SAVEPOINT; claim the chunk; insert the evaluations; the ruler's criteria;
    # the previous run; count verdict changes; close and open review items; record the chunk;
    # count it on the run; RELEASE SAVEPOINT; finish the run.
    with django_assert_num_queries(13):
        assert run_chunk(run=run, index=0) is True

    assert Evaluation.objects.filter(run=run).count() == clients


# --- Review items and verdict changes ------------------------------------------------------------


def open_items() -> list[tuple[int, str]]:
    return sorted(ReviewItem.objects.filter(closed_at=None).values_list("client_id", "kind"))


def test_disagreements_with_key_status_open_review_items_once(ruler: RulerVersion) -> None:
    usp = USPFactory()
    meets_not_key, key_fails, key_meets, neither = ClientFactory.create_batch(4)
    need(meets_not_key, 5, (usp, "1"))
    need(key_fails, 5, (usp, "0.5"))
    need(key_meets, 5, (usp, "1"))
    need(neither, 5)
    Client.objects.filter(pk__in=[key_fails.pk, key_meets.pk]).update(is_key=True)

    first = evaluate()

    assert open_items() == sorted(
        [(meets_not_key.pk, ReviewKind.MEETS_BUT_NOT_KEY), (key_fails.pk, ReviewKind.KEY_BUT_FAILS)]
    )
    assert set(ReviewItem.objects.values_list("opened_by_run", flat=True)) == {first.pk}
    assert evaluation(first, key_fails).was_key is True

    evaluate()

    assert ReviewItem.objects.count() == 2
    assert set(ReviewItem.objects.values_list("opened_by_run", flat=True)) == {first.pk}


def test_a_review_item_closes_once_verdict_and_status_agree(ruler: RulerVersion) -> None:
    usp = USPFactory()
    promoted, improved = ClientFactory.create_batch(2)
    need(promoted, 5, (usp, "1"))
    improving = need(improved, 5, (usp, "0.5"))
    Client.objects.filter(pk=improved.pk).update(is_key=True)
    evaluate()
    assert len(open_items()) == 2

    Client.objects.filter(pk=promoted.pk).update(is_key=True)  # the committee made it key
    coverage_set(need=improving, usp=usp, degree=Decimal(1))
    second = evaluate()

    assert open_items() == []
    assert ReviewItem.objects.filter(closed_at=None).count() == 0
    closed = ReviewItem.objects.all()
    assert {item.closed_at for item in closed} == {evaluation(second, promoted).created_at}

    evaluate()
    assert ReviewItem.objects.count() == 2


def test_a_review_item_of_another_kind_replaces_the_open_one(ruler: RulerVersion) -> None:
    usp = USPFactory()
    client = ClientFactory()
    met = need(client, 5, (usp, "1"))
    evaluate()
    assert open_items() == [(client.pk, ReviewKind.MEETS_BUT_NOT_KEY)]

    Client.objects.filter(pk=client.pk).update(is_key=True)
    coverage_set(need=met, usp=usp, degree=Decimal(0))
    second = evaluate()

    assert open_items() == [(client.pk, ReviewKind.KEY_BUT_FAILS)]
    assert ReviewItem.objects.get(closed_at=None).opened_by_run_id == second.pk
    assert ReviewItem.objects.count() == 2


def test_verdict_changes_count_clients_whose_verdict_changed(ruler: RulerVersion) -> None:
    usp = USPFactory()
    rises, falls, stays_in, stays_out, newcomer = ClientFactory.create_batch(5)
    rising = need(rises, 5)
    falling = need(falls, 5, (usp, "1"))
    need(stays_in, 5, (usp, "1"))
    need(stays_out, 5)
    ClientNeed.objects.filter(client=newcomer).delete()

    first = evaluate(chunk_size=2)
    assert first.verdict_changes == 0

    coverage_set(need=rising, usp=usp, degree=Decimal(1))
    coverage_set(need=falling, usp=usp, degree=Decimal("0.5"))
    second = evaluate(chunk_size=2)

    assert second.chunks_total == 3
    assert second.verdict_changes == 2
    assert sum(second.chunks.values_list("verdict_changes", flat=True)) == 2

    third = evaluate(chunk_size=2)
    assert third.verdict_changes == 0


# --- Ruler versions ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_adopting_a_draft_supersedes_the_version_in_force() -> None:
    chair = UserFactory()
    first = adopt_ruler(criterion(CriterionKind.REVENUE_4Q, "100", gate=True), threshold="0.8")
    draft = ruler_draft_create(title="Second", based_on=first)
    assert draft.status == RulerStatus.DRAFT
    assert draft.number == first.number + 1
    assert draft.coverage_threshold == Decimal("0.8")
    assert list(draft.criteria.values_list("kind", "is_gate")) == [(CriterionKind.REVENUE_4Q, True)]

    adopted = ruler_adopt(ruler=draft, by=chair)

    first.refresh_from_db()
    assert adopted.status == RulerStatus.IN_FORCE
    assert adopted.adopted_by == chair
    assert adopted.adopted_at is not None
    assert first.status == RulerStatus.SUPERSEDED
    assert list(RulerVersion.objects.filter(status=RulerStatus.IN_FORCE)) == [adopted]


@pytest.mark.django_db
def test_only_a_draft_can_be_adopted() -> None:
    chair = UserFactory()
    first = adopt_ruler()
    second = adopt_ruler()
    first.refresh_from_db()

    for not_a_draft in (first, second):
        with pytest.raises(RulerNotDraft):
            ruler_adopt(ruler=not_a_draft, by=chair)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (RulerStatus.SUPERSEDED, RulerStatus.IN_FORCE)


def test_a_run_measures_against_the_ruler_in_force_when_it_started(ruler: RulerVersion) -> None:
    client = ClientFactory()
    need(client, 5, (USPFactory(), "1"))
    run = run_start(as_of=AS_OF)
    stricter = adopt_ruler(criterion(CriterionKind.REVENUE_4Q, "1", gate=True))

    run_all_chunks(run=run)

    assert evaluation(run, client).ruler == ruler
    assert evaluation(run, client).meets_ruler is True
    assert evaluation(evaluate(), client).ruler == stricter


# --- Races: separate connections, real transactions ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_starting_at_once_get_the_same_run() -> None:
    adopt_ruler()
    ClientFactory.create_batch(3)

    results = in_threads(lambda: run_start_or_resume(chunk_size=2))

    runs = {run.pk for run, _created in results}
    assert len(runs) == 1
    assert sorted(created for _run, created in results) == [False, True]
    assert EvaluationRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_same_chunk_leave_one_set_of_evaluations() -> None:
    adopt_ruler()
    usp = USPFactory()
    clients = ClientFactory.create_batch(20)
    for client in clients:
        need(client, 5, (usp, "1"))
    ClientFactory.create_batch(20, is_key=False)
    run = run_start(as_of=AS_OF)

    def work() -> bool:
        return run_chunk(run=EvaluationRun.objects.select_related("ruler").get(pk=run.pk), index=0)

    assert sorted(in_threads(work)) == [False, True]

    run.refresh_from_db()
    assert Evaluation.objects.filter(run=run).count() == 40
    assert (run.chunks_done, run.clients_evaluated, run.status) == (1, 40, RunStatus.DONE)
    assert ReviewItem.objects.count() == 20


def slow_adoptions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold each adoption's transaction open a moment, so that adoptions at once overlap."""
    real_now = timezone.now

    def slow_now() -> datetime.datetime:
        time.sleep(0.3)
        return real_now()

    monkeypatch.setattr("criteria.services.timezone", SimpleNamespace(now=slow_now))


@pytest.mark.django_db(transaction=True)
def test_drafts_adopted_at_once_are_adopted_one_after_the_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chair = UserFactory()
    first = adopt_ruler()
    drafts = iter([ruler_draft_create(title=f"Draft {n}") for n in range(3)])
    next_draft = threading.Lock()
    slow_adoptions(monkeypatch)

    def adopt() -> RulerVersion:
        with next_draft:
            draft = next(drafts)
        return ruler_adopt(ruler=draft, by=chair)

    adopted = in_threads(adopt, count=3)

    assert {ruler.status for ruler in adopted} == {RulerStatus.IN_FORCE}
    statuses = sorted(RulerVersion.objects.values_list("status", flat=True))
    assert statuses == [RulerStatus.IN_FORCE] + [RulerStatus.SUPERSEDED] * 3
    latest = max(adopted, key=lambda ruler: ruler.adopted_at)
    assert RulerVersion.objects.get(status=RulerStatus.IN_FORCE) == latest
    first.refresh_from_db()
    assert first.status == RulerStatus.SUPERSEDED


@pytest.mark.django_db(transaction=True)
def test_one_draft_adopted_twice_at_once_is_adopted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    chair = UserFactory()
    adopt_ruler()
    draft = ruler_draft_create(title="Contested")
    slow_adoptions(monkeypatch)

    def adopt() -> str:
        try:
            ruler_adopt(ruler=draft, by=chair)
        except RulerNotDraft:
            return "refused"
        return "adopted"

    assert sorted(in_threads(adopt)) == ["adopted", "refused"]
    assert RulerVersion.objects.get(status=RulerStatus.IN_FORCE) == draft


def test_a_chunk_that_cannot_be_done_fails_the_run_instead_of_blocking_later_ones(
    ruler: RulerVersion, monkeypatch: pytest.MonkeyPatch
) -> None:

    ClientFactory.create_batch(2)
    run = run_start(as_of=AS_OF)

    def broken(**kwargs: object) -> bool:
        raise ValueError("a bug, not a hiccup")

    monkeypatch.setattr(tasks, "run_chunk", broken)
    with pytest.raises(ValueError):
        tasks.evaluate_chunk(run.pk, 0)

    run.refresh_from_db()
    assert (run.status, run.in_progress) == (RunStatus.FAILED, None)
    assert "a bug, not a hiccup" in run.error
    assert tasks.evaluate_chunk(run.pk, 0) is False  # a redelivered message is skipped
    monkeypatch.undo()
    fresh, created = run_start_or_resume()
    assert created is True
    assert run_all_chunks(run=fresh).clients_evaluated == 2


def test_a_transient_database_error_leaves_the_run_to_be_resumed(
    ruler: RulerVersion, monkeypatch: pytest.MonkeyPatch
) -> None:

    ClientFactory.create_batch(2)
    run = run_start(as_of=AS_OF)

    def unreachable(**kwargs: object) -> bool:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(tasks, "run_chunk", unreachable)
    with pytest.raises(OperationalError):
        tasks.evaluate_chunk(run.pk, 0)

    run.refresh_from_db()
    assert run.in_progress is True
    assert run.status != RunStatus.FAILED
    monkeypatch.undo()
    assert run_start_or_resume() == (run, False)
    assert tasks.evaluate_chunk(run.pk, 0) is True


# --- Celery: a real worker on the real Redis broker ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_reevaluate_all_runs_through_a_worker_on_redis(monkeypatch: pytest.MonkeyPatch) -> None:

    adopt_ruler()
    usp = USPFactory()
    clients = ClientFactory.create_batch(7)
    for client in clients[:3]:
        need(client, 5, (usp, "1"))
    # Small chunks, so the task fans out to several chunk tasks.
    monkeypatch.setattr(
        tasks, "run_start_or_resume", functools.partial(tasks.run_start_or_resume, chunk_size=2)
    )
    # A queue of our own: no other worker on this broker may take these tasks.
    queue = f"skam-tests-{uuid.uuid4().hex}"
    # The broker is the suite's own Redis (REDIS_URL): the producer pool an earlier test opened
    # publishes there, so a worker listening on another database would never see the task.
    test_conf = {
        "task_always_eager": False,
        "task_default_queue": queue,
        "worker_enable_remote_control": False,  # no broadcast queue shared with other workers
    }
    saved = {key: app.conf[key] for key in test_conf}
    app.conf.update(test_conf)

    def close_connections(**kwargs: object) -> None:
        connections.close_all()  # the worker thread's own connections

    task_postrun.connect(close_connections, weak=False)
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=30
        ):
            tasks.reevaluate_all.delay()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                run = EvaluationRun.objects.first()
                if run is not None and run.status == RunStatus.DONE:
                    break
                time.sleep(0.1)
    finally:
        task_postrun.disconnect(close_connections)
        with app.connection_for_write() as broker:  # the queue's keys and bindings
            redis = broker.default_channel.client
            leftovers = redis.keys(f"*{queue}*")
            if leftovers:
                redis.delete(*leftovers)
        app.conf.update(saved)

    run = EvaluationRun.objects.get()
    assert run.status == RunStatus.DONE, run.error or run.status
    assert (run.chunks_total, run.chunks_done, run.clients_evaluated) == (4, 4, 7)
    assert sorted(Evaluation.objects.filter(run=run).values_list("client_id", flat=True)) == sorted(
        c.pk for c in clients
    )
    assert Evaluation.objects.filter(run=run, meets_ruler=True).count() == 3


def test_a_run_in_progress_under_a_superseded_ruler_gives_way_to_the_new_ruler(
    kam, administrator
) -> None:
    """Adopting a ruler mid-run: the next request does not resume the stale run."""
    old = RulerVersion.objects.create(number=1, title="Old", status=RulerStatus.IN_FORCE)
    ClientFactory.create_batch(3, owner_kam=kam)
    stale, created = run_start_or_resume(chunk_size=1)
    run_chunk(run=stale, index=0)
    new = ruler_adopt(ruler=ruler_draft_create(title="New", based_on=old), by=administrator)

    fresh, created = run_start_or_resume(chunk_size=1)

    stale.refresh_from_db()
    assert created is True
    assert fresh.ruler == new
    assert stale.status == RunStatus.FAILED
    assert stale.error_text == "Superseded: a new ruler version was put in force."
    with translation.override("ru"):  # kept as a code: said in the reader's language
        assert stale.error_text == "Прогон остановлен: в силу вступила новая версия линейки."
