"""Benchmark of an import of N rows: the worker's check, then its import, of one file.

    python bench/imports.py --rows 100000 [--format xlsx]

Builds a clients file of N new clients (valid INNs, Russian headers, ';' separated, in
Windows-1251 as Excel in a Russian locale saves it; or a workbook), then, in a child process
whose peak resident memory it reports, runs what the worker runs for an upload and its
confirmation (``import_check_run``, then ``import_apply_claim`` and ``import_apply_run``), and
rolls it all back, so that the database (``DATABASE_URL``, default the local server's
``skam_bench_imports``, created if missing) can be reused. The last line is

    import rows=N seconds=S peak_mb=M

where S is the time from the file kept to the rows imported, and M the child's peak resident
memory (the file, Django and the import). ``bench/register.py`` prints the same line.
"""

from __future__ import annotations

import argparse
import csv
import io
import multiprocessing
import os
import queue
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchlib import ensure_database, log

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/skam_bench_imports"
KAMS = 20
IMPORTER = "bench.importer"
INDUSTRIES = ["Metals", "Chemicals", "Logistics", "Food processing", "Energy", "Machinery"]
REGIONS = ["Москва", "Санкт-Петербург", "Казань", "Екатеринбург", "Новосибирск", "Самара"]
HEADER = ["ИНН", "Наименование", "Сегмент", "Отрасль", "Регион", "КАМ"]


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ["DJANGO_SETTINGS_MODULE"] = "skam.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    ensure_database(os.environ["DATABASE_URL"])

    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # DEBUG keeps every query's SQL: production mode

    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def bench_people(importer: str = IMPORTER) -> None:
    """The uploader and the KAMs the file names, created once."""
    from django.contrib.auth.models import Group

    from accounts.models import User
    from accounts.roles import Role

    User.objects.get_or_create(username=importer)
    kam_group = Group.objects.get(name=Role.KAM)
    for number in range(1, KAMS + 1):
        kam, _created = User.objects.get_or_create(
            username=f"bench.kam{number}", defaults={"last_name": f"KAM {number:02d}"}
        )
        kam.groups.add(kam_group)


def import_rows(rows: int) -> list[list[str]]:
    from accounts.taxids import inn_with_check_digits

    return [
        [
            inn_with_check_digits(f"9{number:08d}"),
            f"ООО «Импорт {number}»",
            "Крупный бизнес",
            INDUSTRIES[number % len(INDUSTRIES)],
            REGIONS[number % len(REGIONS)],
            f"bench.kam{1 + number % KAMS}",
        ]
        for number in range(1, rows + 1)
    ]


def import_csv(rows: int) -> bytes:
    """A clients file of ``rows`` new clients, as Excel in a Russian locale saves it."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(import_rows(rows))
    return out.getvalue().encode("cp1251")


def import_xlsx(rows: int) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Клиенты")
    sheet.append(HEADER)
    for row in import_rows(rows):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def import_child(content: bytes, filename: str, importer: str, results: object) -> None:
    """Check and import the file as the worker does, in this child process; roll it back."""
    from django.db import connection, transaction

    from accounts.imports import (
        import_apply_claim,
        import_apply_run,
        import_check_run,
        import_upload,
    )
    from accounts.models import ImportKind, ImportStatus, User

    connection.close()  # the parent's connection is not ours to share
    user = User.objects.get(username=importer)
    with transaction.atomic():
        batch = import_upload(
            kind=ImportKind.CLIENTS, filename=filename, content=content, user=user
        )
        began = time.perf_counter()
        batch = import_check_run(batch_id=batch.pk)
        checked = time.perf_counter() - began
        import_apply_claim(batch=batch)
        batch = import_apply_run(batch_id=batch.pk)
        # What its commit would do, before the rollback: chain the record's entries the
        # import kept for it (``governance/record/install.py``), under the record's lock.
        chaining = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        chained = time.perf_counter() - chaining
        seconds = time.perf_counter() - began
        status = batch.status
        transaction.set_rollback(True)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime  # this process's share; the machine's load aside
    results.put(
        (status == ImportStatus.APPLIED, checked, chained, seconds, cpu, usage.ru_maxrss / 1024)
    )


def measure_import(
    rows: int,
    *,
    xlsx: bool = False,
    importer: str = IMPORTER,
    while_running: Callable[[], None] | None = None,
) -> str:
    """Import a file of ``rows`` new clients in a child process, as the worker would; with
    ``while_running``, call it again and again in this process until the child is done (what
    a user does meanwhile)."""
    from django.db import connection

    content = import_xlsx(rows) if xlsx else import_csv(rows)
    filename = "bench.xlsx" if xlsx else "bench.csv"
    connection.close()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=import_child, args=(content, filename, importer, results))
    child.start()
    while True:
        try:
            outcome = results.get() if while_running is None else results.get_nowait()
            break
        except queue.Empty:
            if not child.is_alive() and results.empty():
                raise SystemExit(f"the import's process ended with {child.exitcode}") from None
            while_running()
    applied, checked, chained, seconds, cpu, peak_mb = outcome
    child.join()
    if not applied:
        raise SystemExit("the import was not applied")
    log(
        f"import: {len(content) / 1e6:.1f} MB {filename}, checked in {checked:.1f} s, "
        f"record chained at commit in {chained:.1f} s (the record's lock held meanwhile), "
        f"{cpu:.1f} s of this process's CPU in all"
    )
    return f"import rows={rows} seconds={seconds:.1f} peak_mb={peak_mb:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the file")
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    args = parser.parse_args()
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    setup_django()
    bench_people()
    log(measure_import(args.rows, xlsx=args.format == "xlsx"))


if __name__ == "__main__":
    main()
