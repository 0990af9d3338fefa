"""Benchmark of the tamper-evident record: what recording costs on a write-heavy path, and how
long ``audit_verify`` takes.

    python bench/record.py --votes 400 --rounds 5 --entries 100000

Uses PostgreSQL (``DATABASE_URL``, default the local server's ``skam_bench_record`` database,
created if missing). Seats a committee of 7 and opens proposals, then casts votes through the
service the page and the API call (``vote_cast``: each vote a transaction, a quarter of them
changing an earlier vote, so an UPDATE and an INSERT), each vote as its own request would (a
new request id, so the origin is sent to the session every time). Rounds alternate: the
record's triggers on, then the same work with them disabled (``ALTER TABLE … DISABLE TRIGGER``
on every governed table), on fresh proposals each time. Then it fills the record up to N
entries (one set-based UPDATE of the benchmark's clients at a time, through the triggers) and
times ``record_verify``: the chain alone, then the chain and every governed row. The last line
is

    record votes=V on_ms=A off_ms=B ratio=R entries=N chain_s=C verify_s=S

where A and B are the medians over the rounds of V votes' wall time with and without the
record, R the median of each round's ratio (its two halves ran back to back, so the load of a
shared machine moves it least), and C and S the two walks' times over N entries.

With ``--bulk N`` it first inserts N new clients with ``bulk_create`` as an import does
(``--bulk-batch`` rows to a statement, 2,000 as an import's chunk), in a transaction rolled
back, the same number of rounds with the triggers on and off, and prints before the last line

    record bulk rows=N batch=B on_s=A off_s=B ratio=R db_cpu_ratio=C

where C compares the least CPU time the database's process spent on a round with and without
(when the server runs on this machine), which the load of a shared machine moves least
(``--only-bulk``: that line alone).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

from benchlib import ensure_database, log

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/skam_bench_record"
MEMBERS = 7


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ["DJANGO_SETTINGS_MODULE"] = "skam.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    url = os.environ["DATABASE_URL"]
    if not url.startswith(("postgres://", "postgresql://", "pgsql://", "psql://")):
        sys.exit("bench/record.py needs PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    ensure_database(url)

    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False

    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def committee() -> list:
    import datetime

    from django.contrib.auth.models import Group

    from accounts.models import User
    from accounts.roles import Role
    from governance.models import CommitteeMember, CommitteeRole

    members = []
    for number in range(MEMBERS):
        user, created = User.objects.get_or_create(username=f"bench.member{number}")
        if created:
            user.groups.add(*Group.objects.filter(name=Role.COMMITTEE_MEMBER))
            CommitteeMember.objects.create(
                user=user,
                committee_role=CommitteeRole.SALES_DIRECTOR,
                is_chair=number == 0,
                active_from=datetime.date(2020, 1, 1),
            )
        members.append(user)
    return members


def open_proposals(count: int, by) -> list:
    import datetime

    from django.utils import timezone

    from accounts.models import Client
    from governance.committee.proposals import proposal_create, proposal_open

    proposals = []
    for _ in range(count):
        client = Client.objects.create(
            name=f"Bench client {uuid.uuid4().hex[:12]}",
            registration_number=uuid.uuid4().hex[:12],
        )
        proposal = proposal_create(
            type="strategic_bet",
            title="Bet",
            rationale="Bench.",
            by=by,
            client=client,
            review_date=timezone.localdate() + datetime.timedelta(days=180),
        )
        proposals.append(
            proposal_open(proposal=proposal, deadline=timezone.now() + datetime.timedelta(days=7))
        )
    return proposals


def cast_votes(members: list, proposals: list, votes: int) -> float:
    """Cast ``votes`` votes, each as its own request would; the wall time in ms."""
    from governance.committee.proposals import vote_cast
    from governance.record.context import Origin, recording_as

    plan = []
    for index in range(votes):
        proposal = proposals[index // MEMBERS % len(proposals)]
        member = members[index % MEMBERS]
        plan.append((proposal, member, "for"))
        if index % 4 == 3:  # a changed vote: the old one kept, no longer current
            plan.append((proposal, member, "against"))
    plan = plan[:votes]
    started = time.perf_counter()
    for proposal, member, choice in plan:
        origin = Origin(path="page", actor_id=member.pk, request_id=uuid.uuid4().hex)
        with recording_as(origin):
            vote_cast(proposal=proposal, member=member, choice=choice, comment="Bench.")
    return (time.perf_counter() - started) * 1000


def triggers(enabled: bool) -> None:
    from django.db import connection
    from psycopg2 import sql

    from governance.record.governed import governed_tables
    from governance.record.install import TRIGGERS

    action = "ENABLE" if enabled else "DISABLE"
    with connection.cursor() as cursor:
        for table in governed_tables():
            for trigger in TRIGGERS.values():
                cursor.execute(
                    sql.SQL("ALTER TABLE {} {} TRIGGER {}")
                    .format(sql.Identifier(table.table), sql.SQL(action), sql.Identifier(trigger))
                    .as_string(cursor.cursor)
                )


def forget(proposals: list) -> None:
    """Remove what the rounds without the record wrote, the way they wrote it (triggers off),
    so that the rows' walk below finds every governed row recorded."""
    from django.db import connection

    ids = [proposal.pk for proposal in proposals]
    clients = [proposal.client_id for proposal in proposals]
    triggers(False)
    try:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM governance_vote WHERE proposal_id = ANY(%s)", [ids])
            cursor.execute("DELETE FROM governance_proposal WHERE id = ANY(%s)", [ids])
            cursor.execute("DELETE FROM accounts_client WHERE id = ANY(%s)", [clients])
    finally:
        triggers(True)


def backend_cpu() -> float | None:
    """The CPU seconds the database's process serving this connection has used, when the server
    runs on this machine (``/proc``): the share of a bulk write the load of a shared machine
    moves least. None elsewhere."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bulk_clients(rows: int, batch: int) -> tuple[float, float | None]:
    """Insert ``rows`` new clients with ``bulk_create`` as an import does, ``batch`` to a
    statement, in a transaction rolled back: the wall time in seconds, and the database
    process's CPU seconds (None when it cannot be read)."""
    from django.db import transaction

    from accounts.models import Client

    run = uuid.uuid4().hex[:8]
    clients = [
        Client(name=f"Bulk client {run} {n}", registration_number=f"B{run}{n:07d}", notes="")
        for n in range(rows)
    ]
    cpu_before = backend_cpu()
    started = time.perf_counter()
    with transaction.atomic():
        Client.objects.bulk_create(clients, batch_size=batch)
        seconds = time.perf_counter() - started
        cpu_after = backend_cpu()
        transaction.set_rollback(True)
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return seconds, cpu


def vacuum(*tables: str) -> None:
    """What a rolled-back round left behind, gone before the next round."""
    from django.db import connection

    with connection.cursor() as cursor:
        for name in tables:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(name)}")


def measure_bulk(rows: int, batch: int, rounds: int) -> str:
    """Rounds of a bulk insert of ``rows`` clients, the record's triggers on then off: the
    wall times, and the database process's CPU time (``db_cpu_ratio``), the least moved by
    other load."""
    on, off, cpu_on, cpu_off = [], [], [], []
    try:
        for number in range(rounds):
            for enabled, times, cpus in ((True, on, cpu_on), (False, off, cpu_off)):
                triggers(enabled)
                seconds, cpu = bulk_clients(rows, batch)
                times.append(seconds)
                cpus.append(cpu)
                vacuum("accounts_client", "governance_recordentry")
                log(
                    f"bulk round {number + 1} record={'on' if enabled else 'off'}: "
                    f"{rows} clients in {seconds:.2f} s (database CPU {cpu} s)"
                )
    finally:
        triggers(True)
    ratio = statistics.median(with_ / without for with_, without in zip(on, off, strict=True))
    line = (
        f"record bulk rows={rows} batch={batch} on_s={statistics.median(on):.2f} "
        f"off_s={statistics.median(off):.2f} ratio={ratio:.2f}"
    )
    if None not in cpu_on + cpu_off:
        line += f" db_cpu_ratio={min(cpu_on) / min(cpu_off):.2f}"
    return line


def fill_record(entries: int) -> int:
    """Up to ``entries`` entries, by set-based UPDATEs of the benchmark's clients."""
    from django.db import connection

    from governance.models import RecordEntry

    with connection.cursor() as cursor:
        while (count := RecordEntry.objects.count()) < entries:
            missing = entries - count
            cursor.execute(
                "UPDATE accounts_client SET notes = md5(random()::text) WHERE id IN ("
                " SELECT id FROM accounts_client WHERE name LIKE 'Bench client %%'"
                " ORDER BY random() LIMIT %s)",
                [missing],
            )
            if cursor.rowcount == 0:
                break
    return RecordEntry.objects.count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--votes", type=int, default=400, help="votes per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds with and without")
    parser.add_argument("--entries", type=int, default=100000, help="entries to verify")
    parser.add_argument(
        "--bulk", type=int, default=0, help="clients of a bulk insert, on and off (0: none)"
    )
    parser.add_argument(
        "--bulk-batch", type=int, default=2000, help="rows per statement (an import's chunk)"
    )
    parser.add_argument(
        "--only-bulk", action="store_true", help="measure the bulk insert and nothing else"
    )
    args = parser.parse_args()
    setup_django()

    from governance.record.context import process_origin_set
    from governance.record.verify import record_verify

    process_origin_set(None)
    bulk_line = measure_bulk(args.bulk, args.bulk_batch, args.rounds) if args.bulk else None
    if args.only_bulk:
        if bulk_line:
            log(bulk_line)
        return
    members = committee()
    proposals_per_round = -(-args.votes // MEMBERS) + 1
    on, off = [], []
    unrecorded = []
    try:
        for number in range(args.rounds):
            for enabled, times in ((True, on), (False, off)):
                triggers(enabled)
                proposals = open_proposals(proposals_per_round, members[0])
                if not enabled:
                    unrecorded.extend(proposals)
                times.append(cast_votes(members, proposals, args.votes))
                log(
                    f"round {number + 1} record={'on' if enabled else 'off'}: "
                    f"{args.votes} votes in {times[-1]:.0f} ms"
                )
    finally:
        triggers(True)
    on_ms, off_ms = statistics.median(on), statistics.median(off)
    # Each round's pair ran back to back: its ratio is the least moved by other load.
    ratio = statistics.median(with_ / without for with_, without in zip(on, off, strict=True))
    forget(unrecorded)

    total = fill_record(args.entries)
    started = time.perf_counter()
    chain = record_verify(rows=False)
    chain_s = time.perf_counter() - started
    started = time.perf_counter()
    whole = record_verify()
    verify_s = time.perf_counter() - started
    log(
        f"chain: {chain.entries} entries, broken={chain.broken}; rows walked too: "
        f"broken={whole.broken.describe() if whole.broken else None}"
    )
    if bulk_line:
        log(bulk_line)
    log(
        f"record votes={args.votes} on_ms={on_ms:.0f} off_ms={off_ms:.0f} "
        f"ratio={ratio:.2f} entries={total} chain_s={chain_s:.2f} verify_s={verify_s:.2f}"
    )


if __name__ == "__main__":
    main()
