"""Benchmark of the client register (its page and its API list) against a signed-in empty page,
through the whole stack, and of an import of N rows.

    python bench/register.py --clients 100000

Builds N synthetic clients in PostgreSQL (``DATABASE_URL``, default the local server's
``skam_bench_register`` database, created if missing) with Russian and Latin names, industries,
regions, owner KAMs, a team member on every tenth account and five quarters of figures. It then
requests, signed in through Django's handler and its full middleware stack, as a committee
member and as a KAM, each page of the register the issue names, K times each, interleaved with
a signed-in empty page (``base.html`` behind ``login_required``, in a URLconf of the
benchmark's own, as in ``bench/dashboard.py``):

* ``list``: ``/clients/``;
* ``search``: ``/clients/?q=<part of a name>``;
* ``sort``: ``/clients/?ordering=-owner_kam``;
* ``htmx``: ``/clients/?ordering=-updated_at`` as htmx asks it (the results region);
* ``api_deep``: the API list a thousand pages deep (``?page=1000``, or the cursor of the same
  row when the list is paginated by cursor); for a KAM, their last page when they have fewer;
* ``api_search``: ``/api/clients/?q=<part of a name>``.

Then it imports a CSV of ``--import-rows`` new clients as the worker does (``bench/imports.py``:
check, then apply) in a child process, whose peak resident memory it reports, and rolls the
import back so that the data can be reused. It imports the same file again while it requests,
as the committee member, the register's list, search and htmx pages and the signed-in empty
page, one after the other, until the import is done. The last three lines are

    during_import rows=N worst=<page> p95_ms=P at_rest_p95_ms=A slowdown=D
        signed_in_p95_ms=S ratio=R requests=K
    import rows=N seconds=S peak_mb=M
    register clients=N worst=<page> p95_ms=P signed_in_p95_ms=S ratio=R queries=Q

(the first on one line) where ``worst`` is the slowest page (``member:search``…), P its 95th
percentile, R = P / S, and Q the queries of one request of every page, both users, added up
(it must not depend on N). During the import, A is the worst page's p95 at rest, D = P / A,
S the signed-in empty page's p95 meanwhile, and K the requests of each page. With
``REDIS_URL`` set it measures the production shape (Redis holds the sessions);
``--no-redis`` measures the embedded default's cache. The machine's noise moves R by a fifth
between runs of 100 requests: compare runs of the same length, and more than one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from benchlib import ensure_database, h, log
from imports import measure_import

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/skam_bench_register"
BENCH_URLS = "bench_register_urls"
KAMS = 20
QUARTERS = 5
PAGE_DEPTH = 1000
# The pages requested while an import runs.
DURING_IMPORT = ("signed_in:empty", "member:list", "member:search", "member:htmx")
# Names as a Russian company's register holds them: Russian and Latin, with ё, and a number
# that keeps each one unique.
NAME_WORDS = [
    "Волга",
    "Урал",
    "Сибирь",
    "Кама",
    "Енисей",
    "Байкал",
    "Алтай",
    "Северсталь",
    "Приозёрье",
    "Звёздный",
    "Volga",
    "Ural",
    "Baltic",
    "Polar",
    "Arctic",
    "Orion",
    "Vector",
    "Neva",
]
NAME_KINDS = [
    "Steel Works",
    "Chemical Plant",
    "Logistics",
    "Foods",
    "Energy",
    "Machinery",
    "Завод",
    "Торговый дом",
    "Агрохолдинг",
    "Фармация",
    "Ритейл",
    "Машиностроение",
]
INDUSTRIES = [
    "Metals",
    "Chemicals",
    "Logistics",
    "Food processing",
    "Energy",
    "Machinery",
    "Retail",
    "Pharmaceuticals",
    "Agriculture",
    "Construction",
    "Telecom",
    "Mining",
]
REGIONS = [
    "Moscow",
    "Saint Petersburg",
    "Kazan",
    "Yekaterinburg",
    "Novosibirsk",
    "Nizhny Novgorod",
    "Samara",
    "Rostov-on-Don",
    "Krasnoyarsk",
    "Perm",
    "Voronezh",
    "Volgograd",
    "Krasnodar",
    "Tyumen",
    "Irkutsk",
    "Khabarovsk",
    "Vladivostok",
    "Murmansk",
    "Tatarstan",
    "Bashkortostan",
]


def setup_django(*, redis: bool) -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ["DJANGO_SETTINGS_MODULE"] = "skam.settings"
    # With REDIS_URL, the production shape: Redis keeps the sessions. --no-redis: the embedded
    # default's cache (this process's memory, sessions in the database).
    if not redis:
        os.environ.pop("REDIS_URL", None)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    url = os.environ["DATABASE_URL"]
    if not url.startswith(("postgres://", "postgresql://", "pgsql://", "psql://")):
        sys.exit("bench/register.py needs PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    ensure_database(url)

    import django
    from django.conf import settings

    django.setup()
    # DEBUG keeps every query's SQL and renders the debug page of errors: production mode.
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


def sql_array(values: list[str]) -> str:
    quoted = ("'" + v.replace("'", "''").replace("%", "%%") + "'" for v in values)
    return "ARRAY[" + ", ".join(quoted) + "]"


# --- data -------------------------------------------------------------------------------------


def bench_users() -> tuple[object, list[object]]:
    """A committee member and the KAMs, created once."""
    from django.contrib.auth.models import Group

    from accounts.models import User
    from accounts.roles import Role

    member, _created = User.objects.get_or_create(
        username="bench.member", defaults={"first_name": "Bench", "last_name": "Member"}
    )
    member.groups.add(Group.objects.get(name=Role.COMMITTEE_MEMBER))
    kam_group = Group.objects.get(name=Role.KAM)
    kams = []
    for number in range(1, KAMS + 1):
        kam, _created = User.objects.get_or_create(
            username=f"bench.kam{number}",
            defaults={"first_name": "KAM", "last_name": f"Number {number:02d}"},
        )
        kam.groups.add(kam_group)
        kams.append(kam)
    return member, kams


def build(clients: int) -> None:
    """Truncate the register and fill it with set-based SQL."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import AccountTeamMember, Client, ClientFigure
    from accounts.periods import quarters_back

    started = time.perf_counter()
    execute(
        f"TRUNCATE {table(AccountTeamMember)}, {table(ClientFigure)}, {table(Client)} "
        "RESTART IDENTITY CASCADE"
    )
    _member, kams = bench_users()
    kam_ids = "ARRAY[" + ", ".join(str(k.pk) for k in kams) + "]"
    # The owner's last name each client keeps for sorting (``accounts.owner_name``): the
    # build skips the triggers that would set it.
    kam_names = sql_array([k.last_name for k in kams])

    def step(label: str, sql: str, params: list[object] | None = None) -> None:
        began = time.perf_counter()
        with transaction.atomic():
            # Generated rows are consistent by construction: skip the per-row FK triggers.
            execute("SET LOCAL session_replication_role = replica")
            rows = execute(sql, params)
        log(f"  {label}: {rows} rows in {time.perf_counter() - began:.1f} s")

    log(f"building {clients} clients")
    words, kinds = sql_array(NAME_WORDS), sql_array(NAME_KINDS)
    industries, regions = sql_array(INDUSTRIES), sql_array(REGIONS)
    # One client in ten has no owner; the others are spread over the KAMs in runs of nine.
    # Every fifth has no industry, every seventh no region. Updated times spread over a year.
    step(
        "clients",
        f"INSERT INTO {table(Client)} (id, name, registration_number, segment, industry, region, "
        "owner_kam_id, owner_kam_last_name, notes, is_key, created_at, updated_at) "
        f"SELECT c, ({words})[1 + floor({h('c', 1)} * {len(NAME_WORDS)})::int] || ' ' "
        f"|| ({kinds})[1 + floor({h('c', 2)} * {len(NAME_KINDS)})::int] || ' ' || c, "
        "'R' || lpad(c::text, 10, '0'), "
        "(ARRAY['enterprise', 'mid_market', 'small', 'public'])[1 + c %% 4], "
        f"CASE WHEN c %% 5 = 0 THEN '' "
        f"ELSE ({industries})[1 + floor({h('c', 3)} * {len(INDUSTRIES)})::int] END, "
        f"CASE WHEN c %% 7 = 0 THEN '' "
        f"ELSE ({regions})[1 + floor({h('c', 4)} * {len(REGIONS)})::int] END, "
        f"CASE WHEN c %% 10 = 0 THEN NULL ELSE ({kam_ids})[1 + c / 10 %% {KAMS}] END, "
        f"CASE WHEN c %% 10 = 0 THEN NULL ELSE ({kam_names})[1 + c / 10 %% {KAMS}] END, "
        "'', c %% 50 = 0, now() - interval '400 days', "
        f"now() - interval '1 second' * floor({h('c', 5)} * 31536000) "
        "FROM generate_series(1, %s) c",
        [clients],
    )
    # Every tenth account has a second KAM on its team (the next one along).
    step(
        "team members",
        f"INSERT INTO {table(AccountTeamMember)} (client_id, user_id, role) "
        f"SELECT c, ({kam_ids})[1 + (c / 10 + 1) %% {KAMS}], 'kam' "
        "FROM generate_series(1, %s) c WHERE c %% 10 = 3",
        [clients],
    )
    quarters = quarters_back(timezone.localdate(), QUARTERS)
    values = ", ".join(f"({i}, DATE '{q.isoformat()}')" for i, q in enumerate(quarters))
    base = f"(5000 + {h('c', 6)} * 150000)"
    step(
        "figures",
        f"INSERT INTO {table(ClientFigure)} (client_id, period, revenue, gross_margin, "
        "potential_revenue, share_of_wallet) "
        f"SELECT c, q.period, round({base} * (0.7 + 0.3 * {h('c * 8 + q.i', 7)}), 2), "
        f"round({base} * 0.2, 2), round({base} * 8, 2), NULL "
        f"FROM generate_series(1, %s) c CROSS JOIN (VALUES {values}) q(i, period) "
        "ORDER BY c, q.period",
        [clients],
    )
    with connection.cursor() as cursor:
        for model in (Client, AccountTeamMember, ClientFigure):
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table(model)}))",
                [model._meta.db_table],
            )
    after_build()
    began = time.perf_counter()
    for model in (Client, AccountTeamMember, ClientFigure):
        execute(f"VACUUM (FREEZE, ANALYZE) {table(model)}")
    log(f"  vacuum, analyze: {time.perf_counter() - began:.1f} s")
    log(f"built in {time.perf_counter() - started:.1f} s")


def after_build() -> None:
    """What the register keeps beside the rows, brought up to date after the SQL build, as
    after an import."""
    from accounts.choices import filter_choices_rebuild

    filter_choices_rebuild()


def data_matches(clients: int) -> bool:
    from accounts.models import Client

    return (
        scalar(f"SELECT COUNT(*) FROM {table(Client)}") == clients
        and scalar(f"SELECT COUNT(*) FROM {table(Client)} WHERE registration_number LIKE 'R%%'")
        == clients
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
class Page:
    user: str
    name: str
    path: str
    htmx: bool = False

    @property
    def label(self) -> str:
        return f"{self.user}:{self.name}"


def search_term() -> str:
    """A part of a name in the middle of the register: a word's tail, its kind, part of its
    number."""
    from accounts.models import Client

    middle = Client.objects.count() // 2
    name = Client.objects.order_by("pk").values_list("name", flat=True)[middle]
    return name[2:-1].lower()


def deep_api_path(user: object, http: object) -> str:
    """The API list a thousand pages deep, or the user's last page when they have fewer: by
    page number, or by the cursor of the same row when the list is paginated by cursor."""
    from accounts.selectors import clients_visible_to

    first = http.get("/api/clients/").json()
    size = len(first["results"]) or 1
    visible = clients_visible_to(user).order_by("name", "pk")
    depth = max(min(PAGE_DEPTH, (visible.count() - 1) // size + 1), 1)
    if first.get("next") is None or "cursor=" not in first["next"]:
        return f"/api/clients/?page={depth}"
    if depth == 1:
        return "/api/clients/"
    from accounts.pagination import encode_cursor

    name, pk = visible.values_list("name", "pk")[(depth - 1) * size - 1]
    return f"/api/clients/?cursor={encode_cursor([name, pk])}"


def timed_rounds(
    clients: dict[str, object], pages: list[Page], rounds: int, warmup: int
) -> tuple[dict[str, float], dict[str, float], dict[str, int]]:
    """``rounds`` requests of each page, interleaved, after ``warmup`` rounds not counted."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get(page: Page) -> object:
        headers = {"HX-Request": "true"} if page.htmx else {}
        return clients[page.user].get(page.path, headers=headers)

    queries = {}
    for page in pages:
        with CaptureQueriesContext(connection) as context:
            response = get(page)
        if response.status_code != 200:
            raise SystemExit(f"{page.label} {page.path} answered {response.status_code}")
        queries[page.label] = len(context.captured_queries)
    samples: dict[str, list[float]] = {page.label: [] for page in pages}
    for round_number in range(warmup + rounds):
        for page in pages:
            began = time.perf_counter()
            response = get(page)
            elapsed = (time.perf_counter() - began) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{page.label} answered {response.status_code}")
            if round_number >= warmup:
                samples[page.label].append(elapsed)
    return (
        {label: p95(values) for label, values in samples.items()},
        {label: statistics.median(values) for label, values in samples.items()},
        queries,
    )


def register_pages(member: object, kam: object, http: dict[str, object]) -> list[Page]:
    """Every page of the register the issue names, for both users, and the signed-in empty
    page first."""
    term = search_term()
    log(f"search term: {term!r}")
    term = quote(term)
    pages = [Page("signed_in", "empty", "/bench/signed-in/")]
    for user_label, user in (("member", member), ("kam", kam)):
        pages += [
            Page(user_label, "list", "/clients/"),
            Page(user_label, "search", f"/clients/?q={term}"),
            Page(user_label, "sort", "/clients/?ordering=-owner_kam"),
            Page(user_label, "htmx", "/clients/?ordering=-updated_at", htmx=True),
            Page(user_label, "api_deep", deep_api_path(user, http[user_label])),
            Page(user_label, "api_search", f"/api/clients/?q={term}"),
        ]
    return pages


def measure(
    http: dict[str, object], pages: list[Page], requests: int, warmup: int, clients: int
) -> tuple[str, dict[str, float]]:
    p95s, medians, queries = timed_rounds(http, pages, requests, warmup)
    signed_in = p95s["signed_in:empty"]
    for page in pages:
        log(
            f"{page.label}: median {medians[page.label]:.2f} ms, p95 {p95s[page.label]:.2f} ms "
            f"({p95s[page.label] / signed_in:.1f}x), {queries[page.label]} queries  {page.path}"
        )
    worst = max((label for label in p95s if label != "signed_in:empty"), key=p95s.get)
    total_queries = sum(q for label, q in queries.items() if label != "signed_in:empty")
    return (
        f"register clients={clients} worst={worst} p95_ms={p95s[worst]:.2f} "
        f"signed_in_p95_ms={signed_in:.2f} ratio={p95s[worst] / signed_in:.2f} "
        f"queries={total_queries}"
    ), p95s


def measure_during_import(
    http: dict[str, object], pages: list[Page], rows: int, at_rest: dict[str, float]
) -> tuple[str, str]:
    """The import of ``rows`` rows in the worker's stead (a child process), while this process
    requests register pages (``pages``, interleaved with the signed-in empty page) until it is
    done: the import's line, and one for the pages meanwhile. Each page's p95 is compared
    with its own p95 at rest (``at_rest``), the load of the import being what it adds."""
    samples: dict[str, list[float]] = {page.label: [] for page in pages}
    failures: list[str] = []

    def request_each() -> None:
        for page in pages:
            headers = {"HX-Request": "true"} if page.htmx else {}
            began = time.perf_counter()
            response = http[page.user].get(page.path, headers=headers)
            samples[page.label].append((time.perf_counter() - began) * 1000)
            if response.status_code != 200:
                failures.append(f"{page.label} answered {response.status_code}")

    import_line = measure_import(rows, importer="bench.member", while_running=request_each)
    if failures:
        raise SystemExit(f"during the import: {failures[0]}")
    rounds = min(len(values) for values in samples.values())
    if rounds < 2:
        raise SystemExit("the import ended before the pages were requested twice")
    p95s = {label: p95(values) for label, values in samples.items()}
    for page in pages:
        log(
            f"during the import, {page.label}: p95 {p95s[page.label]:.2f} ms, "
            f"{p95s[page.label] / at_rest[page.label]:.1f}x its p95 at rest "
            f"({at_rest[page.label]:.2f} ms), {len(samples[page.label])} requests"
        )
    worst = max((label for label in p95s if label != "signed_in:empty"), key=p95s.get)
    signed_in = p95s["signed_in:empty"]
    return import_line, (
        f"during_import rows={rows} worst={worst} p95_ms={p95s[worst]:.2f} "
        f"at_rest_p95_ms={at_rest[worst]:.2f} slowdown={p95s[worst] / at_rest[worst]:.2f} "
        f"signed_in_p95_ms={signed_in:.2f} ratio={p95s[worst] / signed_in:.2f} "
        f"requests={rounds}"
    )


# --- import -----------------------------------------------------------------------------------


def vacuum_after_import() -> None:
    """A previous run's import was rolled back: its rows are dead until vacuumed, and they would
    bloat the trigram index this run's searches read."""
    from accounts.models import AccountTeamMember, Client, ClientFigure

    for model in (Client, AccountTeamMember, ClientFigure):
        execute(f"VACUUM (ANALYZE) {table(model)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000, help="clients to build")
    parser.add_argument("--requests", type=int, default=100, help="requests per page")
    parser.add_argument("--warmup", type=int, default=5, help="requests per page not counted")
    parser.add_argument(
        "--import-rows", type=int, default=100_000, help="rows of the import (0: none)"
    )
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="keep the register if it already holds N bench clients",
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

    if args.reuse_data and data_matches(args.clients):
        log(f"reusing the {args.clients} clients already built")
        after_build()
        vacuum_after_import()
    else:
        build(args.clients)
    from django.test import Client as HttpClient
    from django.test.utils import override_settings

    member, kams = bench_users()
    with override_settings(ROOT_URLCONF=bench_urlconf()):
        http = {"member": HttpClient(), "kam": HttpClient()}
        http["member"].force_login(member)
        http["kam"].force_login(kams[0])
        http["signed_in"] = http["member"]
        pages = register_pages(member, kams[0], http)
        register_line, at_rest = measure(http, pages, args.requests, args.warmup, args.clients)
        if args.import_rows:
            import_line = measure_import(args.import_rows, importer="bench.member")
            vacuum_after_import()
            # Again, while a member lists and searches the register.
            during = [p for p in pages if p.label in DURING_IMPORT]
            loaded_line, during_line = measure_during_import(
                http, during, args.import_rows, at_rest
            )
            log(f"the import again, while the pages were requested: {loaded_line}")
            vacuum_after_import()
            log(during_line)
            log(import_line)
    log(register_line)


if __name__ == "__main__":
    main()
