"""Re-evaluation of every client against the ruler in force: set-based, chunked, idempotent.

A run is split into chunks of client ids. Each chunk is one transaction of a few statements:
claim the chunk, write every client's evaluation with one ``INSERT … SELECT … GROUP BY``, open
and close review items. A chunk that was claimed is never done again, so a run can be resumed
after a crash, and many workers can share its chunks. The web, the API, the Celery task and the
benchmark all call these functions.
"""

from __future__ import annotations

import datetime
import json as jsonlib
import math
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Min
from django.utils import timezone

from accounts.models import Client, ClientFigure, ClientNeed
from accounts.periods import previous_quarter, quarters_back
from criteria.models import (
    RUN_SUPERSEDED,
    STALL_AFTER,
    USP,
    CriterionKind,
    Direction,
    Evaluation,
    EvaluationChunk,
    EvaluationRun,
    NeedCoverage,
    ReviewItem,
    ReviewKind,
    RulerVersion,
    RunStatus,
    StrategicFitRating,
)

DEFAULT_CHUNK_SIZE = 5000


class NoRulerInForce(Exception):
    """No ruler version has been adopted yet."""


# Where the SQL differs between PostgreSQL and SQLite: building the JSON breakdown, and how each
# need finds its coverage (see ``evaluation_select_sql``).
_JSON = {
    "postgresql": {"agg": "jsonb_agg({})", "array": "jsonb_build_array({})", "json": "{}"},
    "sqlite": {"agg": "json_group_array({})", "array": "json_array({})", "json": "json({})"},
}


@dataclass(frozen=True)
class Periods:
    """The quarters a run's figures come from, fixed by the run's ``as_of`` date."""

    last: datetime.date  # the last completed quarter
    first_of_last_four: datetime.date
    first_of_previous_four: datetime.date
    last_of_previous_four: datetime.date

    @classmethod
    def as_of(cls, day: datetime.date) -> Periods:
        last = previous_quarter(day)

        def back(quarters: int) -> datetime.date:
            return quarters_back(last, quarters + 1)[0]

        return cls(last, back(3), back(7), back(4))


def ruler_in_force() -> RulerVersion:
    ruler = RulerVersion.objects.filter(status="in_force").first()
    if ruler is None:
        raise NoRulerInForce
    return ruler


def run_start(
    *,
    requested_by: object | None = None,
    as_of: datetime.date | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> EvaluationRun | None:
    """Create a run over every client, or return None when another run is in progress."""
    ruler = ruler_in_force()
    _refresh_planner_statistics()
    bounds = Client.objects.aggregate(first=Min("pk"), last=Max("pk"))
    first, last = bounds["first"] or 0, bounds["last"] or 0
    chunks = math.ceil((last - first + 1) / chunk_size) if bounds["first"] is not None else 0
    try:
        with transaction.atomic():
            return EvaluationRun.objects.create(
                ruler=ruler,
                requested_by=requested_by,
                as_of=as_of or timezone.localdate(),
                first_client_id=first,
                last_client_id=last,
                chunk_size=chunk_size,
                chunks_total=chunks,
            )
    except IntegrityError:
        return None


def _refresh_planner_statistics() -> None:
    """ANALYZE the tables a run reads, once per run, when their statistics are missing or stale.
    Right after a large import PostgreSQL has no statistics yet and would plan the chunk
    statement as nested loops over "one row". Sampling takes a fraction of a second even for
    millions of rows, but that is a good share of a run over a hundred thousand clients: the
    tables with fresh statistics (autovacuum's threshold not passed) are left alone."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(
        f"'{_table(m)}'::regclass" for m in (Client, ClientNeed, NeedCoverage, ClientFigure, USP)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "DO $$ DECLARE stale text; BEGIN "
            "SELECT string_agg(c.oid::regclass::text, ', ') INTO stale FROM pg_class c "
            "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
            f"WHERE c.oid IN ({tables}) AND (c.reltuples < 0 OR s.n_mod_since_analyze IS NULL "
            "OR s.n_mod_since_analyze > 50 + 0.1 * c.reltuples); "
            "IF stale IS NOT NULL THEN EXECUTE 'ANALYZE ' || stale; END IF; END $$"
        )


def run_in_progress() -> EvaluationRun | None:
    return EvaluationRun.objects.filter(in_progress=True).select_related("ruler").first()


def run_start_or_resume(
    *, requested_by: object | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> tuple[EvaluationRun, bool]:
    """The run in progress if there is one (to resume it), else a new run; and whether it is
    new. Two schedulers calling this at once get the same run."""
    run = run_start(requested_by=requested_by, chunk_size=chunk_size)
    if run is not None:
        return run, True
    run = run_in_progress()
    if run is None:  # it finished between our two looks: start afresh
        return run_start_or_resume(requested_by=requested_by, chunk_size=chunk_size)
    if run.ruler_id != ruler_in_force().pk:
        # A new ruler was adopted while this run measured against the old one: its verdicts
        # would be stale the moment it finished. Stop it and measure against the new ruler.
        run_fail(run=run, error=RUN_SUPERSEDED)
        return run_start_or_resume(requested_by=requested_by, chunk_size=chunk_size)
    return run, False


def run_claim_stalled(
    *, run: EvaluationRun | None = None, at: datetime.datetime | None = None
) -> EvaluationRun | None:
    """The run in progress (or ``run``) if it has stalled, claimed for a resume: its last
    progress is moved to now by a conditional update, so of two resumers (the watchdog on two
    beats, the API) one re-queues its chunks, and the next resume waits ``STALL_AFTER`` again.
    None when no run is stalled."""
    at = at or timezone.now()
    runs = EvaluationRun.objects.filter(in_progress=True, progressed_at__lte=at - STALL_AFTER)
    if run is not None:
        runs = runs.filter(pk=run.pk)
    stalled = runs.select_related("ruler").first()
    if stalled is None:
        return None
    claimed = EvaluationRun.objects.filter(
        pk=stalled.pk, in_progress=True, progressed_at=stalled.progressed_at
    ).update(progressed_at=at)
    return stalled if claimed else None


def chunks_remaining(*, run: EvaluationRun) -> list[int]:
    done = set(run.chunks.values_list("number", flat=True))
    return [number for number in range(run.chunks_total) if number not in done]


def run_chunk(*, run: EvaluationRun, index: int) -> bool:
    """Evaluate one chunk of a run. Returns False when the chunk was done already."""
    low = run.first_client_id + index * run.chunk_size
    high = min(low + run.chunk_size - 1, run.last_client_id)
    now = timezone.now()
    EvaluationRun.objects.filter(pk=run.pk, status=RunStatus.PENDING).update(
        status=RunStatus.RUNNING, started_at=now
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {EvaluationChunk._meta.db_table} "
                "(run_id, number, clients, verdict_changes, done_at) VALUES (%s, %s, 0, 0, %s) "
                "ON CONFLICT (run_id, number) DO NOTHING",
                [run.pk, index, now],
            )
            if cursor.rowcount == 0:
                return False
            sql, params = evaluation_insert_sql(run=run, low=low, high=high, now=now)
            if connection.vendor == "postgresql":
                # A chunk's cost estimate passes jit_above_cost, and compiling the statement
                # (about 0.4 s) takes longer than running it. Sent with it: one round trip.
                sql = f"SET LOCAL jit = off; {sql}"
            cursor.execute(sql, params)
            evaluated = cursor.rowcount
        changes = _verdict_changes(run=run, low=low, high=high)
        _review_items_update(run=run, low=low, high=high, now=now)
        EvaluationChunk.objects.filter(run=run, number=index).update(
            clients=evaluated, verdict_changes=changes
        )
        EvaluationRun.objects.filter(pk=run.pk).update(
            progressed_at=now,
            chunks_done=F("chunks_done") + 1,
            clients_evaluated=F("clients_evaluated") + evaluated,
            verdict_changes=F("verdict_changes") + changes,
        )
    run_finish_if_complete(run=run)
    return True


def run_finish_if_complete(*, run: EvaluationRun) -> bool:
    """Mark the run done once every chunk is; safe to call any number of times."""
    return bool(
        EvaluationRun.objects.filter(
            pk=run.pk,
            status__in=[RunStatus.PENDING, RunStatus.RUNNING],
            chunks_done__gte=F("chunks_total"),
        ).update(status=RunStatus.DONE, finished_at=timezone.now(), in_progress=None)
    )


def run_fail(*, run: EvaluationRun, error: str) -> None:
    EvaluationRun.objects.filter(pk=run.pk, in_progress=True).update(
        status=RunStatus.FAILED, finished_at=timezone.now(), in_progress=None, error=error[:2000]
    )


def run_all_chunks(*, run: EvaluationRun) -> EvaluationRun:
    """Do every chunk that is not done yet, in this process (the embedded way, and tests)."""
    for index in chunks_remaining(run=run):
        run_chunk(run=run, index=index)
    run_finish_if_complete(run=run)
    run.refresh_from_db()
    return run


def _table(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


EVALUATION_COLUMNS = (
    "run_id", "client_id", "ruler_id", "coverage_ratio", "weight_total", "potential_revenue",
    "revenue_4q", "gross_margin_percent", "revenue_growth", "share_of_wallet", "strategic_fit",
    "score", "meets_ruler", "was_key", "breakdown", "created_at",
)  # fmt: skip


def evaluation_insert_sql(
    *, run: EvaluationRun, low: int, high: int, now: datetime.datetime
) -> tuple[str, list[object]]:
    """One statement that evaluates the clients with ids in [low, high] and writes the result."""
    select, params = evaluation_select_sql(
        ruler=run.ruler, as_of=run.as_of, low=low, high=high, run_id=run.pk, now=now
    )
    sql = (
        f"INSERT INTO {_table(Evaluation)} ({', '.join(EVALUATION_COLUMNS)}) {select} "
        "ON CONFLICT (run_id, client_id) DO NOTHING"
    )
    return sql, params


def evaluation_preview(
    *, client: Client, ruler: RulerVersion | None = None, as_of: datetime.date | None = None
) -> Evaluation:
    """The client evaluated now, by the same statement a run uses, without storing it."""
    ruler = ruler or ruler_in_force()
    now = timezone.now()
    sql, params = evaluation_select_sql(
        ruler=ruler,
        as_of=as_of or timezone.localdate(),
        low=client.pk,
        high=client.pk,
        run_id=None,
        now=now,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    values = dict(zip(EVALUATION_COLUMNS, row, strict=True))
    fields = {f.attname: f for f in Evaluation._meta.concrete_fields}
    for name in ("coverage_ratio", "potential_revenue", "revenue_4q", "gross_margin_percent",
                 "revenue_growth", "share_of_wallet", "score"):  # fmt: skip
        if values[name] is not None:
            values[name] = fields[name].to_python(round(Decimal(str(values[name])), 6))
    if isinstance(values["breakdown"], str):
        values["breakdown"] = jsonlib.loads(values["breakdown"])
    values["meets_ruler"] = bool(values["meets_ruler"])
    values["was_key"] = bool(values["was_key"])
    values["created_at"] = now
    evaluation = Evaluation(**values)
    evaluation.ruler = ruler
    evaluation.client = client
    return evaluation


# Percentages are stored as NUMERIC(9, 2). Growth from next to nothing, or a margin on a tiny
# revenue, would overflow that and fail the client's whole chunk (and so the run, every night):
# capped at the largest storable value, they still pass or fail any sensible threshold.
PERCENT_CAP = "9999999.99"


def _percent_capped(expression: str) -> str:
    return (
        f"CASE WHEN {expression} > {PERCENT_CAP} THEN {PERCENT_CAP} "
        f"WHEN {expression} < -{PERCENT_CAP} THEN -{PERCENT_CAP} ELSE {expression} END"
    )


def evaluation_select_sql(
    *,
    ruler: RulerVersion,
    as_of: datetime.date,
    low: int,
    high: int,
    run_id: int | None,
    now: datetime.datetime,
) -> tuple[str, list[object]]:
    """The SELECT that evaluates the clients with ids in [low, high]: one row per client, in
    the order of ``EVALUATION_COLUMNS``."""
    json = _JSON[connection.vendor]
    periods = Periods.as_of(as_of)
    criteria = list(ruler.criteria.all())

    values = {
        CriterionKind.POTENTIAL_REVENUE: "f.potential_revenue",
        CriterionKind.REVENUE_4Q: "f.revenue_4q",
        CriterionKind.GROSS_MARGIN_PERCENT: _percent_capped("f.gross_margin_percent"),
        CriterionKind.REVENUE_GROWTH: _percent_capped("f.revenue_growth"),
        CriterionKind.SHARE_OF_WALLET: "f.share_of_wallet",
        CriterionKind.STRATEGIC_FIT: "fit.rating",
    }

    def passes(criterion: object) -> str:
        operator = ">=" if criterion.direction == Direction.AT_LEAST else "<="
        # CAST: SQLite receives decimals as text, and text never compares equal to a number.
        return f"COALESCE({values[criterion.kind]} {operator} CAST(%s AS NUMERIC), FALSE)"

    params: list[object] = []
    coverage = "CASE WHEN n.weight_total > 0 THEN ROUND(n.weight_met * 1.0 / n.weight_total, 6) END"
    gates = [f"COALESCE({coverage} >= CAST(%s AS NUMERIC), FALSE)"]
    gate_params: list[object] = [ruler.coverage_threshold]
    for criterion in criteria:
        if criterion.is_gate:
            gates.append(passes(criterion))
            gate_params.append(criterion.threshold)
    scoring = [c for c in criteria if not c.is_gate and c.weight]
    if scoring:
        total_weight = sum(c.weight for c in scoring)
        score = (
            "ROUND(("
            + " + ".join(f"CASE WHEN {passes(c)} THEN {int(c.weight)} ELSE 0 END" for c in scoring)
            + f") * 100.0 / {int(total_weight)}, 2)"
        )
        score_params: list[object] = [c.threshold for c in scoring]
    else:
        score, score_params = "NULL", []

    need, coverage_table, usp = _table(ClientNeed), _table(NeedCoverage), _table(USP)
    figure, fit_table = _table(ClientFigure), _table(StrategicFitRating)
    client = _table(Client)

    # Built apart so that each placeholder in the statement below is a plain name.
    if connection.vendor == "postgresql":
        # Each need looks up its own coverage through the index on need_id (LATERAL). Grouping
        # the coverage by need before the join, as below for SQLite, let PostgreSQL hash the
        # whole coverage table for every chunk: a run cost O(clients²). The breakdown is
        # written as JSON text and parsed once, the same value as jsonb_agg(jsonb_build_array(…))
        # at about half the cost.
        best = ""
        best_join = f"""LEFT JOIN LATERAL (
            SELECT MAX(nc.degree) AS degree, '[' || string_agg(nc.usp_id::text, ',') || ']' AS usps
            FROM {coverage_table} nc
            WHERE nc.need_id = cn.id AND nc.degree > 0 AND nc.usp_id = ANY(ARRAY(
                SELECT u.id FROM {usp} u
                WHERE u.since <= %s AND (u.retired_on IS NULL OR u.retired_on > %s)
            ))
        ) b ON TRUE"""
        best_params = [as_of, as_of]
        breakdown = (
            "concat('[', string_agg(concat('[', cn.id, ',', to_json(cn.name), ',', cn.weight, "
            "',', COALESCE(b.degree, 0), ',', COALESCE(b.usps, 'null'), ']'), ','), ']')::jsonb"
        )
    else:
        best = f"""best AS (
        SELECT nc.need_id, MAX(nc.degree) AS degree,
               {json["agg"].format("nc.usp_id")} AS usps
        FROM {coverage_table} nc
        JOIN {usp} u ON u.id = nc.usp_id AND u.since <= %s
                    AND (u.retired_on IS NULL OR u.retired_on > %s)
        JOIN {need} cn ON cn.id = nc.need_id
        WHERE cn.client_id BETWEEN %s AND %s AND nc.degree > 0
        GROUP BY nc.need_id
    ),"""
        best_join = "LEFT JOIN best b ON b.need_id = cn.id"
        best_params = [as_of, as_of, low, high]
        breakdown = json["agg"].format(
            json["array"].format(
                "cn.id, cn.name, cn.weight, COALESCE(b.degree, 0), " + json["json"].format("b.usps")
            )
        )
    empty = json["array"].format("")
    margin = values[CriterionKind.GROSS_MARGIN_PERCENT]
    growth = values[CriterionKind.REVENUE_GROWTH]
    all_gates = " AND ".join(gates)

    sql = f"""
    WITH {best}
    n AS (
        SELECT cn.client_id,
               SUM(cn.weight) AS weight_total,
               SUM(cn.weight * COALESCE(b.degree, 0)) AS weight_met,
               {breakdown} AS breakdown
        FROM {need} cn {best_join}
        WHERE cn.client_id BETWEEN %s AND %s
        GROUP BY cn.client_id
    ),
    f AS (
        SELECT client_id,
               SUM(CASE WHEN period = %s THEN potential_revenue END) AS potential_revenue,
               SUM(CASE WHEN period = %s THEN share_of_wallet END) AS share_of_wallet,
               SUM(CASE WHEN period >= %s THEN revenue END) AS revenue_4q,
               ROUND(SUM(CASE WHEN period >= %s THEN gross_margin END) * 100.0
                     / NULLIF(SUM(CASE WHEN period >= %s THEN revenue END), 0), 2)
                   AS gross_margin_percent,
               ROUND((SUM(CASE WHEN period >= %s THEN revenue END)
                      - SUM(CASE WHEN period <= %s THEN revenue END)) * 100.0
                     / NULLIF(SUM(CASE WHEN period <= %s THEN revenue END), 0), 2)
                   AS revenue_growth
        FROM {figure}
        WHERE client_id BETWEEN %s AND %s AND period BETWEEN %s AND %s
        GROUP BY client_id
    )
    SELECT CAST(%s AS INTEGER) AS run_id, c.id AS client_id, %s AS ruler_id,
           {coverage} AS coverage_ratio, COALESCE(n.weight_total, 0) AS weight_total,
           f.potential_revenue AS potential_revenue, f.revenue_4q AS revenue_4q,
           {margin} AS gross_margin_percent, {growth} AS revenue_growth,
           f.share_of_wallet AS share_of_wallet, fit.rating AS strategic_fit,
           {score} AS score, ({all_gates}) AS meets_ruler, c.is_key AS was_key,
           COALESCE(n.breakdown, {empty}) AS breakdown, %s AS created_at
    FROM {client} c
    LEFT JOIN n ON n.client_id = c.id
    LEFT JOIN f ON f.client_id = c.id
    LEFT JOIN (
        SELECT r.client_id, r.rating FROM {fit_table} r
        WHERE r.client_id BETWEEN %s AND %s AND NOT EXISTS (
            -- The range again, else the anti-join reads every rating up to the chunk's.
            SELECT 1 FROM {fit_table} later
            WHERE later.client_id = r.client_id AND later.client_id BETWEEN %s AND %s
              AND (later.rated_at > r.rated_at OR (later.rated_at = r.rated_at AND later.id > r.id))
        )
    ) fit ON fit.client_id = c.id
    WHERE c.id BETWEEN %s AND %s
    """
    params = [
        *best_params, low, high,  # best, n
        periods.last, periods.last, periods.first_of_last_four, periods.first_of_last_four,
        periods.first_of_last_four, periods.first_of_last_four, periods.last_of_previous_four,
        periods.last_of_previous_four, low, high, periods.first_of_previous_four, periods.last,
        run_id, ruler.pk,
        *score_params, *gate_params, now,
        low, high, low, high,  # fit
        low, high,
    ]  # fmt: skip
    return sql, params


def _verdict_changes(*, run: EvaluationRun, low: int, high: int) -> int:
    """Clients in the chunk whose verdict differs from the one in the previous finished run."""
    previous = (
        EvaluationRun.objects.filter(status=RunStatus.DONE, pk__lt=run.pk).order_by("-pk").first()
    )
    if previous is None:
        return 0
    evaluation = _table(Evaluation)
    with connection.cursor() as cursor:
        # The chunk's range on both sides (here and in the review items below): else
        # PostgreSQL may read the whole previous run, or every open item, for each chunk.
        cursor.execute(
            f"SELECT COUNT(*) FROM {evaluation} cur JOIN {evaluation} prev "
            "ON prev.client_id = cur.client_id AND prev.run_id = %s "
            "AND prev.client_id BETWEEN %s AND %s "
            "WHERE cur.run_id = %s AND cur.client_id BETWEEN %s AND %s "
            "AND cur.meets_ruler <> prev.meets_ruler",
            [previous.pk, low, high, run.pk, low, high],
        )
        return cursor.fetchone()[0]


def _review_items_update(
    *, run: EvaluationRun, low: int, high: int, now: datetime.datetime
) -> None:
    """Close the open items the verdict no longer supports; open one for each disagreement."""
    evaluation, item = _table(Evaluation), _table(ReviewItem)
    disagreement = (
        f"CASE WHEN e.meets_ruler THEN '{ReviewKind.MEETS_BUT_NOT_KEY}' "
        f"ELSE '{ReviewKind.KEY_BUT_FAILS}' END"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {item} SET closed_at = %s WHERE closed_at IS NULL "
            "AND client_id BETWEEN %s AND %s AND NOT EXISTS ("
            f"  SELECT 1 FROM {evaluation} e WHERE e.run_id = %s AND e.client_id = {item}.client_id"
            "   AND e.client_id BETWEEN %s AND %s"
            f"  AND e.meets_ruler <> e.was_key AND {disagreement} = {item}.kind)",
            [now, low, high, run.pk, low, high],
        )
        cursor.execute(
            f"INSERT INTO {item} (client_id, kind, opened_by_run_id, opened_at, closed_at) "
            f"SELECT e.client_id, {disagreement}, %s, %s, NULL FROM {evaluation} e "
            "WHERE e.run_id = %s AND e.client_id BETWEEN %s AND %s "
            "AND e.meets_ruler <> e.was_key AND NOT EXISTS ("
            f"  SELECT 1 FROM {item} opened WHERE opened.client_id = e.client_id "
            "  AND opened.client_id BETWEEN %s AND %s AND opened.closed_at IS NULL)",
            [run.pk, now, run.pk, low, high, low, high],
        )


def coverage_ratio_of(breakdown: list[list[object]]) -> Decimal | None:
    """The weighted share of needs met, from an evaluation's breakdown (for display)."""
    total = sum(Decimal(str(row[2])) for row in breakdown)
    if not total:
        return None
    return sum(Decimal(str(row[2])) * Decimal(str(row[3])) for row in breakdown) / total
