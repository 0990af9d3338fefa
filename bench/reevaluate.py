"""Benchmark of the re-evaluation of every client against the ruler in force.

    python bench/reevaluate.py --clients 100000

Builds N synthetic clients in PostgreSQL (``DATABASE_URL``, default the local server's
``skam_bench`` database, created if missing) with about 10 needs each, 12 USPs, coverage of
the needs, 8 quarters of figures, strategic-fit ratings and a ruler in force with three
criteria (one gate, two scoring). Then it times, in the same run:

* the floor: one plain ``INSERT … SELECT … GROUP BY`` that writes each client's weighted
  coverage into a scratch table, the least work that produces the same numbers (run before
  and after the full run; the faster of the two counts);
* the full re-evaluation through ``criteria.evaluation`` — ``run_start_or_resume`` and
  ``run_chunk``, the code the Celery tasks call — with its chunks shared by a pool of worker
  processes, one per core as Celery's default concurrency (``--workers 1``: one chunk after
  another in this process);
* a naive per-client ORM loop over a sample of clients, extrapolated to N.

It checks that every coverage ratio of the full run equals the floor's, and that the naive
loop agrees with the full run on every field of the sampled clients. The last line is
``reevaluate clients=N seconds=S floor_seconds=F ratio_to_floor=R speedup_vs_naive=X``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import resource
import sys
import time
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from benchlib import ensure_database, h, log

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/skam_bench"

USP_COUNT = 12
RETIRED_USP = 12  # retired a year ago: its coverage must not count
NEED_NAMES = [
    "Same-day delivery",
    "On-site engineer within 4 hours",
    "24/7 service desk",
    "Custom integration with their ERP",
    "Volume discounts",
    "Dedicated account team",
    "Regulatory compliance reporting",
    "Extended payment terms",
    "Training for their staff",
    "Spare parts held locally",
    "Energy-efficient equipment",
    "Single invoice for all sites",
    "Quarterly business reviews",
    "Data residency in-country",
    "Co-developed product roadmap",
    "Guaranteed uptime 99.9 %",
    "Recycling of old equipment",
    "Financing and leasing",
    "Multilingual support",
    "Fast returns and replacements",
]


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ["DJANGO_SETTINGS_MODULE"] = "skam.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    url = os.environ["DATABASE_URL"]
    if not url.startswith(("postgres://", "postgresql://", "pgsql://", "psql://")):
        sys.exit("bench/reevaluate.py needs PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    ensure_database(url)

    import django
    from django.conf import settings

    django.setup()
    # With DEBUG on, Django keeps every query's SQL: it would slow the naive loop down and
    # flatter the speed-up. Turn it off for the measurements.
    settings.DEBUG = False

    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def table(model: type) -> str:
    from django.db import connection

    return connection.ops.quote_name(model._meta.db_table)


def execute(sql: str, params: list[object] | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.rowcount


def scalar(sql: str, params: list[object] | None = None) -> object:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


# --- data -------------------------------------------------------------------------------------


def clear_runs() -> None:
    from criteria.models import Evaluation, EvaluationChunk, EvaluationRun, ReviewItem

    tables = ", ".join(table(m) for m in (EvaluationRun, EvaluationChunk, Evaluation, ReviewItem))
    execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def build(clients: int) -> None:
    """Fill the register with set-based SQL: truncate, insert, vacuum and analyze."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Client, ClientFigure, ClientNeed, User
    from criteria.evaluation import Periods
    from criteria.models import (
        USP,
        CriterionKind,
        Direction,
        NeedCoverage,
        RulerCriterion,
        RulerStatus,
        RulerVersion,
        StrategicFitRating,
    )

    started = time.perf_counter()
    client_t, need_t, coverage_t = table(Client), table(ClientNeed), table(NeedCoverage)
    figure_t, usp_t, fit_t = table(ClientFigure), table(USP), table(StrategicFitRating)
    ruler_t, criterion_t = table(RulerVersion), table(RulerCriterion)
    clear_runs()
    execute(
        f"TRUNCATE {client_t}, {need_t}, {coverage_t}, {figure_t}, {usp_t}, {fit_t}, "
        f"{ruler_t}, {criterion_t} RESTART IDENTITY CASCADE"
    )
    user, _created = User.objects.get_or_create(username="bench", defaults={"first_name": "Bench"})
    today = timezone.localdate()
    periods = Periods.as_of(today)

    def quarter_back(quarters: int) -> datetime.date:
        months = periods.last.year * 12 + periods.last.month - 1 - 3 * quarters
        return datetime.date(months // 12, months % 12 + 1, 1)

    quarters = ", ".join(f"({i}, DATE '{quarter_back(i).isoformat()}')" for i in range(8))
    quoted = ("'" + n.replace("'", "''").replace("%", "%%") + "'" for n in NEED_NAMES)
    names = "ARRAY[" + ", ".join(quoted) + "]"

    def step(label: str, sql: str, params: list[object] | None = None) -> None:
        began = time.perf_counter()
        with transaction.atomic():
            # Generated rows are consistent by construction: skip the per-row FK triggers.
            execute("SET LOCAL session_replication_role = replica")
            rows = execute(sql, params)
        log(f"  {label}: {rows} rows in {time.perf_counter() - began:.1f} s")

    log(f"building {clients} clients")
    step(
        "clients",
        f"INSERT INTO {client_t} (id, name, registration_number, segment, industry, region, "
        "owner_kam_id, notes, is_key, created_at, updated_at) "
        "SELECT c, 'Client ' || c, 'B' || lpad(c::text, 9, '0'), "
        "(ARRAY['enterprise', 'mid_market', 'small', 'public'])[1 + c %% 4], '', '', NULL, '', "
        "c %% 10 = 0, now(), now() FROM generate_series(1, %s) c",
        [clients],
    )
    step(
        "USPs",
        f"INSERT INTO {usp_t} (id, name, description, since, retired_on) "
        "SELECT u, 'USP ' || u, '', DATE '2015-01-01' + u * 30, "
        f"CASE WHEN u = {RETIRED_USP} THEN %s::date - 365 END "
        f"FROM generate_series(1, {USP_COUNT}) u",
        [today],
    )
    # 1 % of clients have no needs; the others 8 to 12 (10 on average), weights 0 to 10.
    step(
        "needs",
        f"INSERT INTO {need_t} (client_id, name, description, weight) "
        f"SELECT c, ({names})[1 + (c + 7 * k) %% {len(NEED_NAMES)}], '', "
        f"floor({h('c * 16 + k', 1)} * 11)::int "
        "FROM generate_series(1, %s) c CROSS JOIN LATERAL generate_series(1, 8 + c * 31 %% 5) k "
        "WHERE c %% 101 <> 0 ORDER BY c, k",
        [clients],
    )
    # 95 % of needs are met by one USP (degree 0, 0.5 or 1), 12 % of them by a second one too.
    first = "(n.id * 7 + n.client_id) %% 12"
    step(
        "coverage",
        f"INSERT INTO {coverage_t} (need_id, usp_id, degree, updated_at) "
        f"SELECT n.id, 1 + {first}, CASE WHEN {h('n.id', 3)} < 0.15 THEN 0 "
        f"WHEN {h('n.id', 3)} < 0.5 THEN 0.5 ELSE 1 END, now() "
        f"FROM {need_t} n WHERE {h('n.id', 2)} >= 0.05 "
        "UNION ALL "
        f"SELECT n.id, 1 + ({first} + 1 + n.id %% 11) %% 12, "
        f"CASE WHEN {h('n.id', 4)} < 0.3 THEN 0.5 "
        f"WHEN {h('n.id', 4)} < 0.6 THEN 0.75 ELSE 1 END, now() "
        f"FROM {need_t} n WHERE {h('n.id', 2)} >= 0.88 ORDER BY 1, 2",
    )
    # 8 quarters per client; 1 client in 53 has none, 1 in 17 only the last 4 quarters.
    base = f"(5000 + {h('c', 5)} * 150000)"
    revenue = f"round({base} * (0.7 + 0.03 * (7 - q.i) + 0.3 * {h('c * 8 + q.i', 6)}), 2)"
    step(
        "figures",
        f"INSERT INTO {figure_t} (client_id, period, revenue, gross_margin, potential_revenue, "
        "share_of_wallet) "
        f"SELECT c, q.period, r.revenue, "
        f"round(r.revenue * (0.5 * {h('c * 8 + q.i', 7)} - 0.05), 2), "
        f"round({base} * 8 * {h('c * 8 + q.i', 8)}, 2), "
        f"CASE WHEN {h('c * 8 + q.i', 9)} < 0.1 THEN NULL "
        f"ELSE round({h('c * 8 + q.i', 10)} * 100, 2) END "
        f"FROM generate_series(1, %s) c CROSS JOIN (VALUES {quarters}) q(i, period) "
        f"CROSS JOIN LATERAL (SELECT {revenue} AS revenue) r "
        "WHERE c %% 53 <> 0 AND (c %% 17 <> 0 OR q.i < 4) ORDER BY c, q.period",
        [clients],
    )
    # A third of clients rated; some twice, some twice at the same moment (the later id wins).
    step(
        "fit ratings",
        f"INSERT INTO {fit_t} (client_id, rating, comment, rated_by_id, rated_at) "
        f"SELECT c, 1 + floor({h('c', 11)} * 5)::int, '', %s, now() - interval '90 days' "
        "FROM generate_series(1, %s) c WHERE c %% 3 = 0 "
        "UNION ALL "
        f"SELECT c, 1 + floor({h('c', 12)} * 5)::int, '', %s, "
        "now() - CASE WHEN c %% 2 = 0 THEN interval '90 days' ELSE interval '10 days' END "
        "FROM generate_series(1, %s) c WHERE c %% 21 = 0",
        [user.pk, clients, user.pk, clients],
    )
    with connection.cursor() as cursor:
        for model in (Client, USP):
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table(model)}))",
                [model._meta.db_table],
            )
    ruler = RulerVersion.objects.create(
        number=1,
        title="Bench ruler",
        status=RulerStatus.IN_FORCE,
        coverage_threshold=Decimal("0.75"),
        adopted_at=timezone.now(),
        adopted_by=user,
    )
    RulerCriterion.objects.bulk_create(
        [
            RulerCriterion(
                ruler=ruler,
                kind=CriterionKind.REVENUE_4Q,
                direction=Direction.AT_LEAST,
                threshold=Decimal("250000"),
                is_gate=True,
            ),
            RulerCriterion(
                ruler=ruler,
                kind=CriterionKind.GROSS_MARGIN_PERCENT,
                direction=Direction.AT_LEAST,
                threshold=Decimal("20"),
                weight=2,
            ),
            RulerCriterion(
                ruler=ruler,
                kind=CriterionKind.STRATEGIC_FIT,
                direction=Direction.AT_LEAST,
                threshold=Decimal("3"),
                weight=1,
            ),
        ]
    )
    began = time.perf_counter()
    # Publish this session's row counts now rather than in a few seconds, after the ANALYZE
    # below: else they would read as changes since, and the run would ANALYZE again.
    execute("SELECT pg_stat_force_next_flush()")
    for model in (Client, ClientNeed, NeedCoverage, ClientFigure, USP, StrategicFitRating):
        execute(f"VACUUM (FREEZE, ANALYZE) {table(model)}")
    execute("CHECKPOINT")
    log(f"  vacuum, analyze, checkpoint: {time.perf_counter() - began:.1f} s")
    log(f"built in {time.perf_counter() - started:.1f} s")


def data_matches(clients: int) -> bool:
    from accounts.models import Client
    from criteria.models import RulerVersion

    return (
        scalar(f"SELECT COUNT(*) FROM {table(Client)}") == clients
        and RulerVersion.objects.filter(status="in_force", title="Bench ruler").exists()
    )


# --- the floor --------------------------------------------------------------------------------


def floor_sql() -> tuple[str, list[object]]:
    from django.utils import timezone

    from accounts.models import ClientNeed
    from criteria.models import USP, NeedCoverage

    today = timezone.localdate()
    return (
        "INSERT INTO bench_floor (client_id, coverage_ratio) "
        "SELECT cn.client_id, "
        "ROUND(SUM(cn.weight * COALESCE(b.degree, 0)) * 1.0 / NULLIF(SUM(cn.weight), 0), 6) "
        f"FROM {table(ClientNeed)} cn LEFT JOIN ("
        f"  SELECT nc.need_id, MAX(nc.degree) AS degree FROM {table(NeedCoverage)} nc "
        f"  JOIN {table(USP)} u ON u.id = nc.usp_id AND u.since <= %s "
        "   AND (u.retired_on IS NULL OR u.retired_on > %s) "
        "  GROUP BY nc.need_id"
        ") b ON b.need_id = cn.id "
        "GROUP BY cn.client_id",
        [today, today],
    )


def time_floor() -> float:
    execute(
        "CREATE TABLE IF NOT EXISTS bench_floor (client_id bigint, coverage_ratio numeric(7, 6))"
    )
    execute("TRUNCATE bench_floor")
    sql, params = floor_sql()
    began = time.perf_counter()
    execute(sql, params)
    return time.perf_counter() - began


# --- the naive loop ---------------------------------------------------------------------------


def round_to(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def percent(value: Decimal) -> Decimal:
    """A percentage rounded and capped as the evaluation stores it (NUMERIC(9, 2))."""
    cap = Decimal("9999999.99")
    return min(max(round_to(value, 2), -cap), cap)


def naive_evaluate(*, sample: int, full_run: object) -> tuple[float, int, int]:
    """Evaluate ``sample`` clients spread over the id range one by one with the ORM, the way
    one would without set-based SQL. Returns seconds per client, clients compared with the
    full run, and how many of them disagree on any field."""
    from django.db.models import Q
    from django.utils import timezone

    from accounts.models import Client, ClientFigure, ClientNeed
    from criteria.evaluation import Periods
    from criteria.models import (
        CriterionKind,
        Evaluation,
        EvaluationRun,
        NeedCoverage,
        RunStatus,
        StrategicFitRating,
    )

    ruler = full_run.ruler
    criteria = list(ruler.criteria.all())
    as_of = full_run.as_of
    periods = Periods.as_of(as_of)
    low, high = full_run.first_client_id, full_run.last_client_id
    step = max((high - low + 1) // sample, 1)
    ids = list(range(low, high + 1, step))[:sample]
    # A run of its own, marked failed so that it never counts as "the previous run".
    run = EvaluationRun.objects.create(
        ruler=ruler, as_of=as_of, status=RunStatus.FAILED, in_progress=None, error="bench naive"
    )
    active = Q(usp__since__lte=as_of) & (
        Q(usp__retired_on__isnull=True) | Q(usp__retired_on__gt=as_of)
    )
    began = time.perf_counter()
    for client in Client.objects.filter(pk__in=ids).order_by("pk"):
        needs = list(ClientNeed.objects.filter(client=client))
        best: dict[int, Decimal] = {}
        usps: dict[int, list[int]] = defaultdict(list)
        for coverage in NeedCoverage.objects.filter(active, need__client=client, degree__gt=0):
            best[coverage.need_id] = max(best.get(coverage.need_id, Decimal(0)), coverage.degree)
            usps[coverage.need_id].append(coverage.usp_id)
        weight_total = sum(n.weight for n in needs)
        weight_met = sum(n.weight * best.get(n.pk, Decimal(0)) for n in needs)
        coverage_ratio = round_to(Decimal(weight_met) / weight_total, 6) if weight_total else None
        figures = list(
            ClientFigure.objects.filter(
                client=client, period__range=(periods.first_of_previous_four, periods.last)
            )
        )
        last = [f for f in figures if f.period == periods.last]
        recent = [f for f in figures if f.period >= periods.first_of_last_four]
        earlier = [f for f in figures if f.period <= periods.last_of_previous_four]
        revenue_4q = sum((f.revenue for f in recent), Decimal(0)) if recent else None
        margin = sum((f.gross_margin for f in recent), Decimal(0)) if recent else None
        revenue_before = sum((f.revenue for f in earlier), Decimal(0)) if earlier else None
        fit = StrategicFitRating.objects.filter(client=client).order_by("-rated_at", "-pk").first()
        values = {
            CriterionKind.POTENTIAL_REVENUE: last[0].potential_revenue if last else None,
            CriterionKind.SHARE_OF_WALLET: last[0].share_of_wallet if last else None,
            CriterionKind.REVENUE_4Q: revenue_4q,
            CriterionKind.GROSS_MARGIN_PERCENT: percent(margin * 100 / revenue_4q)
            if revenue_4q
            else None,
            CriterionKind.REVENUE_GROWTH: percent(
                (revenue_4q - revenue_before) * 100 / revenue_before
            )
            if revenue_4q is not None and revenue_before
            else None,
            CriterionKind.STRATEGIC_FIT: fit.rating if fit else None,
        }
        meets = coverage_ratio is not None and coverage_ratio >= ruler.coverage_threshold
        meets = meets and all(c.passes(values[c.kind]) for c in criteria if c.is_gate)
        scoring = [c for c in criteria if not c.is_gate and c.weight]
        score = None
        if scoring:
            points = sum(c.weight for c in scoring if c.passes(values[c.kind]))
            score = round_to(Decimal(points * 100) / sum(c.weight for c in scoring), 2)
        Evaluation.objects.create(
            run=run,
            client=client,
            ruler=ruler,
            coverage_ratio=coverage_ratio,
            weight_total=weight_total,
            potential_revenue=values[CriterionKind.POTENTIAL_REVENUE],
            revenue_4q=values[CriterionKind.REVENUE_4Q],
            gross_margin_percent=values[CriterionKind.GROSS_MARGIN_PERCENT],
            revenue_growth=values[CriterionKind.REVENUE_GROWTH],
            share_of_wallet=values[CriterionKind.SHARE_OF_WALLET],
            strategic_fit=values[CriterionKind.STRATEGIC_FIT],
            score=score,
            meets_ruler=meets,
            was_key=client.is_key,
            breakdown=[
                [n.pk, n.name, n.weight, float(best.get(n.pk, 0)), usps.get(n.pk)] for n in needs
            ],
            created_at=timezone.now(),
        )
    per_client = (time.perf_counter() - began) / len(ids)

    fields = [
        "coverage_ratio",
        "weight_total",
        "potential_revenue",
        "revenue_4q",
        "gross_margin_percent",
        "revenue_growth",
        "share_of_wallet",
        "strategic_fit",
        "score",
        "meets_ruler",
        "was_key",
    ]
    naive = {e.client_id: e for e in Evaluation.objects.filter(run=run)}
    full = {e.client_id: e for e in Evaluation.objects.filter(run=full_run, client_id__in=ids)}

    def normal(breakdown: list[list[object]]) -> list[tuple[object, ...]]:
        return sorted(
            (row[0], row[1], row[2], Decimal(str(row[3])), tuple(sorted(row[4] or [])))
            for row in breakdown
        )

    mismatches = 0
    for client_id, expected in naive.items():
        got = full.get(client_id)
        differs = got is None or any(getattr(got, f) != getattr(expected, f) for f in fields)
        differs = differs or normal(got.breakdown) != normal(expected.breakdown)
        if differs:
            mismatches += 1
            if mismatches <= 5:
                log(f"  naive and full disagree on client {client_id}")
                for f in fields:
                    if got is not None and getattr(got, f) != getattr(expected, f):
                        log(f"    {f}: full={getattr(got, f)!r} naive={getattr(expected, f)!r}")
    run.delete()
    return per_client, len(naive), mismatches


def compare_runs(first: object, second: object) -> tuple[int, int, int]:
    """Evaluations of ``second`` that differ from ``first`` (the breakdown compared as a set of
    needs), review items closed since, and review items ``second`` opened."""
    from criteria.models import Evaluation, ReviewItem

    def needs(side: str) -> str:
        return (
            f"(SELECT jsonb_agg(x ORDER BY (x ->> 0)::bigint) "
            f"FROM jsonb_array_elements({side}.breakdown) x)"
        )

    columns = (
        "coverage_ratio, weight_total, potential_revenue, revenue_4q, gross_margin_percent, "
        "revenue_growth, share_of_wallet, strategic_fit, score, meets_ruler, was_key"
    )
    a_columns = ", ".join(f"a.{c.strip()}" for c in columns.split(","))
    b_columns = ", ".join(f"b.{c.strip()}" for c in columns.split(","))
    differing = scalar(
        f"SELECT COUNT(*) FROM (SELECT * FROM {table(Evaluation)} WHERE run_id = %s) a "
        f"FULL JOIN (SELECT * FROM {table(Evaluation)} WHERE run_id = %s) b USING (client_id) "
        f"WHERE ({a_columns}) IS DISTINCT FROM ({b_columns}) "
        f"OR (a.breakdown <> b.breakdown AND {needs('a')} <> {needs('b')})",
        [first.pk, second.pk],
    )
    closed = scalar(f"SELECT COUNT(*) FROM {table(ReviewItem)} WHERE closed_at IS NOT NULL")
    opened = scalar(
        f"SELECT COUNT(*) FROM {table(ReviewItem)} WHERE opened_by_run_id = %s", [second.pk]
    )
    return differing, closed, opened


# --- main -------------------------------------------------------------------------------------


def backend_peak_memory_mb() -> float | None:
    """The high-water mark of the PostgreSQL backend serving this process, when it runs on
    this machine (it counts the shared buffers it touched, too)."""
    try:
        pid = scalar("SELECT pg_backend_pid()")
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


_worker_runs: dict[int, object] = {}


def _chunk_in_worker(job: tuple[int, int]) -> bool:
    """One chunk in a worker process: what a Celery worker does with ``evaluate_chunk``."""
    from criteria.evaluation import run_chunk
    from criteria.models import EvaluationRun

    run_id, number = job
    if run_id not in _worker_runs:
        _worker_runs[run_id] = EvaluationRun.objects.select_related("ruler").get(pk=run_id)
    return run_chunk(run=_worker_runs[run_id], index=number)


def run_every_chunk(*, chunk_size: int, workers: int) -> object:
    """Start a run and do all its chunks through the code the Celery tasks call: in this
    process, or shared by ``workers`` processes as a pool of Celery workers shares them."""
    import multiprocessing

    from django.db import connections

    from criteria import evaluation

    run, _created = evaluation.run_start_or_resume(chunk_size=chunk_size)
    if workers <= 1:
        return evaluation.run_all_chunks(run=run)
    jobs = [(run.pk, number) for number in evaluation.chunks_remaining(run=run)]
    connections.close_all()  # each forked worker opens its own connection
    with multiprocessing.get_context("fork").Pool(
        workers, initializer=connections.close_all
    ) as pool:
        for _done in pool.imap_unordered(_chunk_in_worker, jobs):
            pass
    evaluation.run_finish_if_complete(run=run)
    run.refresh_from_db()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10000, help="clients to build")
    parser.add_argument("--sample", type=int, default=200, help="clients for the naive loop")
    parser.add_argument("--chunk-size", type=int, default=None, help="default: the code's")
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="keep the register if it already holds N bench clients (runs are always cleared)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes sharing the chunks, as a Celery worker's pool does; default: one per "
        "core, as Celery's own default concurrency (1: chunks one after another)",
    )
    parser.add_argument(
        "--second-run",
        action="store_true",
        help="also time a second run over the unchanged register, the nightly case: it counts "
        "verdict changes against the first and must find none, nor open or close review items",
    )
    args = parser.parse_args()
    if args.clients < 1:
        parser.error("--clients must be at least 1")
    setup_django()

    from django.db import connection

    from accounts.models import ClientFigure, ClientNeed
    from criteria import evaluation
    from criteria.models import Evaluation, NeedCoverage

    if args.reuse_data and data_matches(args.clients):
        log(f"reusing the {args.clients} clients already built")
        clear_runs()
    else:
        build(args.clients)

    needs = scalar(f"SELECT COUNT(*) FROM {table(ClientNeed)}")
    coverages = scalar(f"SELECT COUNT(*) FROM {table(NeedCoverage)}")
    figures = scalar(f"SELECT COUNT(*) FROM {table(ClientFigure)}")
    log(f"data: clients={args.clients} needs={needs} coverages={coverages} figures={figures}")

    floor_before = time_floor()
    log(f"floor (before the full run): {floor_before:.3f} s")

    chunk_size = args.chunk_size or evaluation.DEFAULT_CHUNK_SIZE
    log(f"full re-evaluation, chunks of {chunk_size}, {args.workers} worker process(es)")
    began = time.perf_counter()
    run = run_every_chunk(chunk_size=chunk_size, workers=args.workers)
    seconds = time.perf_counter() - began
    log(
        f"full re-evaluation: {seconds:.3f} s, run #{run.pk} {run.status}, "
        f"{run.chunks_done}/{run.chunks_total} chunks, {run.clients_evaluated} clients, "
        f"{run.verdict_changes} verdict changes"
    )

    floor_after = time_floor()
    log(f"floor (after the full run): {floor_after:.3f} s")
    floor = min(floor_before, floor_after)

    evaluated = Evaluation.objects.filter(run=run).count()
    mismatches = scalar(
        f"SELECT COUNT(*) FROM (SELECT client_id, coverage_ratio FROM {table(Evaluation)} "
        "WHERE run_id = %s) e FULL JOIN bench_floor f USING (client_id) "
        "WHERE e.coverage_ratio IS DISTINCT FROM f.coverage_ratio",
        [run.pk],
    )
    meets = Evaluation.objects.filter(run=run, meets_ruler=True).count()
    log(
        f"check: evaluations={evaluated} of {args.clients} clients, meets the ruler={meets}, "
        f"coverage mismatches with the floor={mismatches}"
    )

    per_client, compared, naive_mismatches = naive_evaluate(sample=args.sample, full_run=run)
    naive_seconds = per_client * args.clients
    log(
        f"naive ORM loop: {per_client * 1000:.2f} ms per client over {compared} clients, "
        f"{naive_seconds:.1f} s extrapolated to {args.clients}; "
        f"clients where it disagrees with the full run={naive_mismatches}"
    )

    second_failed = False
    if args.second_run:
        began = time.perf_counter()
        second = run_every_chunk(chunk_size=chunk_size, workers=args.workers)
        second_seconds = time.perf_counter() - began
        differing, closed, opened = compare_runs(run, second)
        log(
            f"second run over the same register: {second_seconds:.3f} s, run #{second.pk} "
            f"{second.status}, {second.clients_evaluated} clients, {second.verdict_changes} "
            f"verdict changes, {differing} evaluations differing from the first run, "
            f"{closed} review items closed, {opened} opened"
        )
        second_failed = bool(
            second.clients_evaluated != args.clients
            or second.verdict_changes
            or differing
            or closed
            or opened
        )

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    backend_mb = backend_peak_memory_mb()
    backend = f"{backend_mb:.0f} MB" if backend_mb is not None else "not readable"
    log(
        f"peak memory: this process {peak_mb:.0f} MB (ru_maxrss); "
        f"its PostgreSQL backend, a separate process: {backend} (VmHWM, shared buffers included)"
    )
    connection.close()
    if evaluated != args.clients or mismatches or naive_mismatches or second_failed:
        log("FAILED: the full run does not match the floor, the naive loop or the second run")
        exit_code = 1
    else:
        exit_code = 0
    log(
        f"reevaluate clients={args.clients} seconds={seconds:.3f} floor_seconds={floor:.3f} "
        f"ratio_to_floor={seconds / floor:.2f} speedup_vs_naive={naive_seconds / seconds:.1f}"
    )
    sys.exit(exit_code)


if __name__ == "__main__":
    main()
