"""A long import keeps its record entries for its commit: the record's lock (one writer of the
chain at a time) is held for that moment only, so a committee member who votes while an import
of thousands of clients is still running is not kept waiting for it, and the chain stays whole
with an entry for every client imported."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from accounts import imports
from accounts.imports import import_apply, import_check
from accounts.models import Client, ImportKind, ImportStatus
from accounts.roles import Role
from accounts.taxids import inn_with_check_digits
from governance.committee.proposals import proposal_create, proposal_open, vote_cast
from governance.models import CommitteeMember, CommitteeRole, RecordEntry, Vote
from governance.record.verify import record_verify
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the record is PostgreSQL's"
)

ROWS = 3000
# What "not kept waiting" means: a vote takes milliseconds; before, it waited for the import.
VOTE_WITHIN_SECONDS = 2.0


def clients_file(rows: int) -> bytes:
    lines = ["ИНН;Наименование"] + [
        f"{inn_with_check_digits(f'98{n:07d}')};Imported {n}" for n in range(rows)
    ]
    return "".join(f"{line}\r\n" for line in lines).encode("utf-8-sig")


@pytest.mark.django_db(transaction=True)
def test_a_vote_cast_while_an_import_is_being_written_is_not_kept_waiting(monkeypatch) -> None:
    chair = UserFactory(username="chair", role=Role.COMMITTEE_CHAIR)
    administrator = UserFactory(username="administrator", role=Role.ADMINISTRATOR)
    CommitteeMember.objects.create(
        user=chair,
        committee_role=CommitteeRole.EXECUTIVE_DIRECTOR,
        is_chair=True,
        active_from=datetime.date(2025, 1, 1),
    )
    proposal = proposal_open(
        proposal=proposal_create(
            type="grant_key", title="Key", rationale="Why", by=chair, client=ClientFactory()
        ),
        deadline=timezone.now() + datetime.timedelta(days=3),
    )
    batch = import_check(
        kind=ImportKind.CLIENTS,
        filename="clients.csv",
        content=clients_file(ROWS),
        user=administrator,
    )
    assert batch.status == ImportStatus.CHECKED

    # The import stops once every client is written, its transaction still open, until the vote
    # is done (or 30 s have passed: then the vote was kept waiting, and the test says so).
    written, voted = threading.Event(), threading.Event()
    finish = imports._ClientWriter.finish

    def finish_after_the_vote(writer: imports._ClientWriter) -> None:
        written.set()
        voted.wait(timeout=30)
        finish(writer)

    monkeypatch.setattr(imports._ClientWriter, "finish", finish_after_the_vote)
    outcome: list[object] = []

    def run_import() -> None:
        try:
            outcome.append(import_apply(batch=batch).status)
        except BaseException as exc:  # reported by the assertion below
            outcome.append(exc)
        finally:
            connections.close_all()

    importer = threading.Thread(target=run_import)
    importer.start()
    try:
        assert written.wait(timeout=60), "the import did not reach its last step"
        assert Client.objects.count() == 1  # the import's clients are not committed yet
        began = time.perf_counter()
        vote_cast(proposal=proposal, member=chair, choice="for")
        seconds = time.perf_counter() - began
    finally:
        voted.set()
        importer.join(timeout=120)

    assert seconds < VOTE_WITHIN_SECONDS
    assert outcome == [ImportStatus.APPLIED]
    assert Client.objects.count() == ROWS + 1
    # One entry per client imported, chained after the vote's (the import committed later),
    # and the whole chain verifies.
    vote_entry = RecordEntry.objects.get(
        table_name=Vote._meta.db_table, row_pk=str(Vote.objects.get().pk)
    )
    imported = RecordEntry.objects.filter(
        table_name=Client._meta.db_table, operation="I", pk__gt=vote_entry.pk
    )
    assert imported.count() == ROWS
    assert imported.filter(actor__isnull=True).count() == ROWS  # the worker's, as before
    verdict = record_verify()
    assert verdict.broken is None


@pytest.mark.django_db(transaction=True)
def test_entries_kept_for_a_commit_that_never_comes_leave_no_trace() -> None:
    UserFactory(username="someone")
    before = RecordEntry.objects.count()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('skam.record_at_commit', 'on', true)")
        Client.objects.bulk_create(
            [Client(name=f"Gone {n}", registration_number=f"G{n:09d}") for n in range(50)]
        )
        assert RecordEntry.objects.count() == before  # kept for the commit, not chained yet
        transaction.set_rollback(True)

    UserFactory(username="someone.else")
    assert RecordEntry.objects.count() == before + 1
    assert record_verify().broken is None


@pytest.mark.django_db(transaction=True)
def test_a_transaction_that_records_at_commit_keeps_every_change_in_order() -> None:
    UserFactory(username="someone")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('skam.record_at_commit', 'on', true)")
        Client.objects.bulk_create(
            [Client(name=f"Kept {n}", registration_number=f"K{n:09d}") for n in range(20)]
        )
        Client.objects.filter(name="Kept 3").update(name="Kept three")
        Client.objects.filter(name="Kept 4").delete()

    entries = list(RecordEntry.objects.filter(table_name=Client._meta.db_table).order_by("pk"))
    assert [e.operation for e in entries] == ["I"] * 20 + ["U", "D"]
    assert entries[20].before["name"] == "Kept 3" and entries[20].after["name"] == "Kept three"
    assert record_verify().broken is None
