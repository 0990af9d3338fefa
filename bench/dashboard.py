"""Benchmark of the directors' dashboards against a signed-in empty page, through the whole
stack.

    python bench/dashboard.py --clients 100000

Builds N synthetic clients in PostgreSQL (``DATABASE_URL``, default the local server's
``skam_bench_dashboard`` database, created if missing) with 8 quarters of figures, one finished
evaluation run, a policy in force, a KPI catalogue, and a few KAMs whose mandates name a bounded
number of accounts with targets for every quarter. It then runs the KPI snapshot job
(``governance.kpis.snapshots.snapshot_quarter``, the code the Celery task calls) for each quarter
and times it, and requests, signed in as a director through Django's handler and its full
middleware stack, the portfolio dashboard, a per-KAM dashboard and a signed-in empty page, K
times each, interleaved. The empty page is ``base.html`` with no content, behind
``login_required``, added by a URLconf of the benchmark's own (never by the product): what any
page of the site pays before its own work, the session, the user, their permissions and the
layout. The last line is

    dashboard clients=N p95_ms=P signed_in_p95_ms=S ratio=R queries=Q

where P is the slower of the two dashboards' 95th percentiles, R = P / S, and Q the number of
queries of one portfolio request plus one per-KAM request (it must not depend on N).

The dashboards keep their built content in the cache (``governance/kpis/cache.py``), so
those requests read it back and render it in the layout; the line before the last gives the
cold figures in the same form, each dashboard's kept content dropped before each request, as
after a write. Each page is requested 1,000 times by default: a 95th percentile of a
millisecond-long request on a shared machine moves by a fifth between runs of 200. With
``REDIS_URL`` set it measures the production shape (Redis holds the sessions and the dashboards
built); ``--no-redis`` measures the embedded default.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from benchlib import ensure_database, h, log

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/skam_bench_dashboard"
QUARTERS = 8
KAMS = 6
ACCOUNTS_PER_KAM = 25
BENCH_URLS = "bench_dashboard_urls"


def setup_django(*, redis: bool = False) -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ["DJANGO_SETTINGS_MODULE"] = "skam.settings"
    # With REDIS_URL, the production shape: Redis keeps the sessions and the dashboards built.
    # --no-redis measures the embedded default (this process's memory, sessions in the
    # database). Users and their permissions are read from the database either way.
    if not redis:
        os.environ.pop("REDIS_URL", None)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    url = os.environ["DATABASE_URL"]
    if not url.startswith(("postgres://", "postgresql://", "pgsql://", "psql://")):
        sys.exit("bench/dashboard.py needs PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    ensure_database(url)

    import django
    from django.conf import settings

    django.setup()
    # DEBUG keeps every query's SQL and renders the debug toolbar of errors: production mode.
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

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


def quarters_before(today: datetime.date) -> list[datetime.date]:
    """The 8 quarters before the current one, oldest first."""
    from accounts.periods import previous_quarter

    quarters = [previous_quarter(today)]
    while len(quarters) < QUARTERS:
        quarters.append(previous_quarter(quarters[-1]))
    return quarters[::-1]


def build(clients: int, quarters: list[datetime.date]) -> None:
    """Truncate and fill with set-based SQL; the few governance rows with the ORM."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Client, ClientFigure, User
    from accounts.roles import Role
    from criteria.models import Evaluation, EvaluationRun, RulerStatus, RulerVersion
    from governance.models import (
        Kpi,
        KpiDirection,
        KpiSnapshot,
        KpiSource,
        KpiTarget,
        KpiUnit,
        Mandate,
        MandateAccount,
        Policy,
        PolicyStatus,
        PortfolioSnapshot,
    )
    from governance.shell.mandates import mandate_adopt

    started = time.perf_counter()
    execute(
        "TRUNCATE "
        + ", ".join(
            table(m)
            for m in (
                KpiSnapshot,
                PortfolioSnapshot,
                KpiTarget,
                MandateAccount,
                Mandate,
                Kpi,
                Policy,
                Evaluation,
                EvaluationRun,
                RulerVersion,
                ClientFigure,
                Client,
            )
        )
        + " RESTART IDENTITY CASCADE"
    )

    def step(label: str, sql: str, params: list[object] | None = None) -> None:
        began = time.perf_counter()
        with transaction.atomic():
            execute("SET LOCAL session_replication_role = replica")
            rows = execute(sql, params)
        log(f"  {label}: {rows} rows in {time.perf_counter() - began:.1f} s")

    log(f"building {clients} clients")
    step(
        "clients",
        f"INSERT INTO {table(Client)} (id, name, registration_number, segment, industry, region, "
        "owner_kam_id, notes, is_key, created_at, updated_at) "
        "SELECT c, 'Client ' || c, 'D' || lpad(c::text, 9, '0'), "
        "(ARRAY['enterprise', 'mid_market', 'small', 'public'])[1 + c %% 4], '', '', NULL, '', "
        "c %% 50 = 0, now(), now() FROM generate_series(1, %s) c",
        [clients],
    )
    values = ", ".join(f"({i}, DATE '{q.isoformat()}')" for i, q in enumerate(quarters))
    base = f"(5000 + {h('c', 5)} * 150000)"
    step(
        "figures",
        f"INSERT INTO {table(ClientFigure)} (client_id, period, revenue, gross_margin, "
        "potential_revenue, share_of_wallet) "
        f"SELECT c, q.period, round({base} * (0.7 + 0.3 * {h('c * 8 + q.i', 6)}), 2), "
        f"round({base} * 0.2, 2), round({base} * 8, 2), NULL "
        f"FROM generate_series(1, %s) c CROSS JOIN (VALUES {values}) q(i, period) "
        "ORDER BY c, q.period",
        [clients],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            f"(SELECT COALESCE(MAX(id), 1) FROM {table(Client)}))",
            [Client._meta.db_table],
        )
    ruler = RulerVersion.objects.create(
        number=1, title="Bench ruler", status=RulerStatus.IN_FORCE, adopted_at=timezone.now()
    )
    run = EvaluationRun.objects.create(
        ruler=ruler, as_of=quarters[-1], status="done", in_progress=None
    )
    step(
        "evaluations",
        f"INSERT INTO {table(Evaluation)} (run_id, client_id, ruler_id, coverage_ratio, "
        "weight_total, meets_ruler, was_key, breakdown, created_at) "
        f"SELECT %s, c, %s, round({h('c', 3)}, 6), 10, {h('c', 3)} >= 0.75, c %% 50 = 0, "
        "'[]'::jsonb, now() FROM generate_series(1, %s) c",
        [run.pk, ruler.pk, clients],
    )
    Policy.objects.create(
        number=1,
        title="Bench policy",
        status=PolicyStatus.IN_FORCE,
        key_clients_min=max(clients // 100, 1),
        key_clients_max=max(clients // 40, 2),
        key_sales_share_target=Decimal(30),
    )
    catalogue = [
        ("revenue", "Revenue", KpiUnit.MONEY, KpiDirection.HIGHER, KpiSource.REVENUE),
        ("margin", "Gross margin", KpiUnit.MONEY, KpiDirection.HIGHER, KpiSource.GROSS_MARGIN),
        ("growth", "Growth", KpiUnit.PERCENT, KpiDirection.HIGHER, KpiSource.GROWTH),
        ("key-share", "Key share", KpiUnit.PERCENT, KpiDirection.HIGHER, KpiSource.KEY_SHARE),
        ("coverage", "Coverage", KpiUnit.PERCENT, KpiDirection.HIGHER, KpiSource.KEY_COVERAGE),
        ("exceptions", "Exceptions", KpiUnit.COUNT, KpiDirection.LOWER, KpiSource.EXCEPTIONS),
        ("budget", "Budget used", KpiUnit.PERCENT, KpiDirection.LOWER, KpiSource.BUDGET_USED),
    ]
    kpis = [
        Kpi.objects.create(code=c, name=n, unit=u, direction=d, source=s)
        for c, n, u, d, s in catalogue
    ]
    from django.contrib.auth.models import Group

    kam_group = Group.objects.get(name=Role.KAM)
    step_from = 1
    for number in range(1, KAMS + 1):
        kam, _created = User.objects.get_or_create(
            username=f"bench.kam{number}", defaults={"first_name": "KAM", "last_name": str(number)}
        )
        kam.groups.add(kam_group)
        mandate = Mandate.objects.create(
            kam=kam, title=f"Mandate {number}", valid_from=quarters[0] - datetime.timedelta(days=1)
        )
        # Accounts spread over the id range; every tenth is a key client.
        stride = max(clients // (KAMS * ACCOUNTS_PER_KAM), 1)
        ids = [
            min(step_from + stride * i, clients)
            for i in range(ACCOUNTS_PER_KAM)
            if step_from + stride * i <= clients
        ]
        step_from += 1
        MandateAccount.objects.bulk_create(
            MandateAccount(mandate=mandate, client_id=client_id) for client_id in set(ids)
        )
        mandate_adopt(mandate=mandate)
        KpiTarget.objects.bulk_create(
            KpiTarget(
                kpi=kpi,
                mandate=mandate,
                period=quarter,
                target=Decimal(1_500_000) if kpi.unit == KpiUnit.MONEY else Decimal(20),
            )
            for kpi in kpis
            for quarter in quarters
        )
    began = time.perf_counter()
    execute("SELECT pg_stat_force_next_flush()")
    for model in (Client, ClientFigure, Evaluation):
        execute(f"VACUUM (FREEZE, ANALYZE) {table(model)}")
    log(f"  vacuum, analyze: {time.perf_counter() - began:.1f} s")
    log(f"built in {time.perf_counter() - started:.1f} s")


def data_matches(clients: int) -> bool:
    from accounts.models import Client
    from governance.models import Policy

    return (
        scalar(f"SELECT COUNT(*) FROM {table(Client)}") == clients
        and Policy.objects.filter(title="Bench policy").exists()
    )


# --- measurements -----------------------------------------------------------------------------


def bench_urlconf() -> str:
    """The product's URLs plus a signed-in empty page, in a URLconf of the benchmark's own."""
    from django.contrib.auth.decorators import login_required
    from django.http import HttpResponse
    from django.shortcuts import render
    from django.urls import include, path

    @login_required
    def signed_in(request: object) -> HttpResponse:
        """What any signed-in page of the site costs before its own work: the session, the
        user, their permissions (for the navigation), the layout."""
        return render(request, "base.html", {})

    module = types.ModuleType(BENCH_URLS)
    module.urlpatterns = [
        path("bench/signed-in/", signed_in),
        path("", include("skam.urls")),
    ]
    sys.modules[BENCH_URLS] = module
    return BENCH_URLS


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


@dataclass
class Figures:
    """One series of interleaved requests: per page, the 95th percentile and the median in
    milliseconds, and the queries of one request."""

    p95s: dict[str, float]
    medians: dict[str, float]
    queries: dict[str, int]

    def line(self, label: str, clients: int) -> str:
        slower = max(self.p95s["portfolio"], self.p95s["kam"])
        return (
            f"{label} clients={clients} p95_ms={slower:.2f} "
            f"signed_in_p95_ms={self.p95s['signed_in']:.2f} "
            f"ratio={slower / self.p95s['signed_in']:.2f} "
            f"queries={self.queries['portfolio'] + self.queries['kam']}"
        )


def timed_rounds(
    http: object,
    paths: dict[str, str],
    rounds: int,
    *,
    warmup: int = 0,
    before: Callable[[str], None] | None = None,
) -> Figures:
    """``rounds`` requests of each page, interleaved; ``before(name)`` runs before each one,
    untimed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    queries = {}
    for name, path in paths.items():
        if before is not None:
            before(name)
        with CaptureQueriesContext(connection) as context:
            http.get(path)
        queries[name] = len(context.captured_queries)
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for round_number in range(warmup + rounds):
        for name, path in paths.items():
            if before is not None:
                before(name)
            began = time.perf_counter()
            response = http.get(path)
            elapsed = (time.perf_counter() - began) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{name} answered {response.status_code}")
            if round_number >= warmup:
                samples[name].append(elapsed)
    return Figures(
        p95s={name: p95(values) for name, values in samples.items()},
        medians={name: statistics.median(values) for name, values in samples.items()},
        queries=queries,
    )


def measure(requests: int, warmup: int) -> tuple[Figures, Figures]:
    """The pages as they are usually served (the dashboards read back from the cache), then
    cold: each dashboard's kept content dropped before each request, as after a write."""
    from django.contrib.auth.models import Group
    from django.test import Client as HttpClient
    from django.test.utils import override_settings
    from django.urls import reverse

    from accounts.models import User
    from accounts.roles import Role
    from governance.kpis.cache import dashboards_changed

    director, _created = User.objects.get_or_create(
        username="bench.director", defaults={"first_name": "Bench", "last_name": "Director"}
    )
    director.groups.add(Group.objects.get(name=Role.DIRECTOR))
    kam = User.objects.get(username="bench.kam1")
    with override_settings(ROOT_URLCONF=bench_urlconf()):
        http = HttpClient()
        http.force_login(director)
        paths = {
            "portfolio": reverse("governance:dashboard-portfolio"),
            "kam": reverse("governance:dashboard-kam", args=[kam.pk]),
            "signed_in": "/bench/signed-in/",
        }
        for name, path in paths.items():
            response = http.get(path)
            assert response.status_code == 200, (name, response.status_code)
        for name in ("portfolio", "kam"):
            assert b"The snapshot job has not run" not in http.get(paths[name]).content, name
        warm = timed_rounds(http, paths, requests, warmup=warmup)

        def drop_kept(name: str) -> None:
            if name != "signed_in":
                dashboards_changed()

        cold = timed_rounds(http, paths, max(requests // 10, 5), before=drop_kept)
    return warm, cold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000, help="clients to build")
    parser.add_argument("--requests", type=int, default=1000, help="requests per page")
    parser.add_argument("--warmup", type=int, default=20, help="requests per page not counted")
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="keep the register and snapshots if they already hold N bench clients",
    )
    parser.add_argument(
        "--no-redis",
        action="store_true",
        help="measure the embedded default (no Redis) even when REDIS_URL is set",
    )
    args = parser.parse_args()
    if args.clients < 1:
        parser.error("--clients must be at least 1")
    setup_django(redis=not args.no_redis)

    from django.utils import timezone

    from governance.kpis.snapshots import snapshot_quarter
    from governance.models import KpiSnapshot

    quarters = quarters_before(timezone.localdate())
    if args.reuse_data and data_matches(args.clients):
        log(f"reusing the {args.clients} clients already built")
    else:
        build(args.clients, quarters)
        seconds = []
        for quarter in quarters:
            began = time.perf_counter()
            rows = snapshot_quarter(quarter)
            seconds.append(time.perf_counter() - began)
            log(f"  snapshot {quarter.isoformat()}: {rows} KPI rows in {seconds[-1]:.2f} s")
        log(
            f"snapshot job: {sum(seconds):.2f} s for {len(quarters)} quarters "
            f"({max(seconds):.2f} s the slowest)"
        )
    log(f"KPI snapshot rows: {KpiSnapshot.objects.count()}")

    warm, cold = measure(args.requests, args.warmup)
    from django.conf import settings

    log(f"cache: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}")
    for label, figures in (("", warm), ("cold ", cold)):
        for name in ("portfolio", "kam", "signed_in"):
            log(
                f"{label}{name}: median {figures.medians[name]:.2f} ms, "
                f"p95 {figures.p95s[name]:.2f} ms, {figures.queries[name]} queries"
            )
    log(cold.line("cold", args.clients))
    log(warm.line("dashboard", args.clients))


if __name__ == "__main__":
    main()
