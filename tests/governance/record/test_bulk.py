"""Bulk writes through the record: one trigger call per statement, still one entry per row
changed, each saying who, when and through which path, and one unbroken chain, even when two
writers append at once."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection, connections, transaction

from accounts.models import Client, User
from governance.models import RecordEntry
from governance.record.context import Origin, recording_as
from governance.record.verify import record_verify
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.time_machine("2026-11-18T12:00+03:00")


def new_clients(count: int, first: int = 0) -> list[Client]:
    return [
        Client(name=f"Bulk {n}", registration_number=f"R{n:09d}")
        for n in range(first, first + count)
    ]


def entries_after(last: int, table: str = "accounts_client") -> list[RecordEntry]:
    return list(RecordEntry.objects.filter(pk__gt=last, table_name=table).order_by("pk"))


def head() -> int:
    return RecordEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.mark.django_db
def test_a_bulk_insert_is_one_entry_per_row_each_naming_who_and_where(kam: User) -> None:
    before = head()
    origin = Origin(
        path="worker", origin="accounts.tasks.import", request_id="t-9", actor_id=kam.pk
    )
    with recording_as(origin):
        created = Client.objects.bulk_create(new_clients(250))

    entries = entries_after(before)
    assert [e.row_pk for e in entries] == [str(c.pk) for c in created]
    assert {(e.operation, e.actor_id, e.path, e.origin, e.request_id) for e in entries} == {
        ("I", kam.pk, "worker", "accounts.tasks.import", "t-9")
    }
    assert entries[0].after["name"] == "Bulk 0" and entries[0].before is None
    assert all(e.at is not None for e in entries)
    # Chained one to the next, and the rows as their entries say.
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert record_verify().broken is None


@pytest.mark.django_db
def test_a_bulk_update_records_only_the_rows_it_changed() -> None:
    clients = Client.objects.bulk_create(new_clients(30))
    before = head()
    changed = clients[:10]
    for client in changed:
        client.notes = "Renewed"
    Client.objects.bulk_update(clients, ["notes"])  # twenty of them as they were

    entries = entries_after(before)
    assert [e.row_pk for e in entries] == [str(c.pk) for c in changed]
    assert {(e.operation, e.before["notes"], e.after["notes"]) for e in entries} == {
        ("U", "", "Renewed")
    }
    assert record_verify().broken is None


@pytest.mark.django_db
def test_an_update_or_delete_of_nothing_is_no_entry() -> None:
    ClientFactory()
    before = head()
    Client.objects.filter(name="nobody").update(notes="x")
    Client.objects.filter(name="nobody").delete()
    Client.objects.bulk_create([])
    Client.objects.update(notes="")  # every client already says so
    assert entries_after(before) == []


@pytest.mark.django_db
def test_a_bulk_delete_keeps_every_row_deleted() -> None:
    clients = Client.objects.bulk_create(new_clients(40))
    before = head()
    Client.objects.filter(pk__in=[c.pk for c in clients]).delete()

    entries = entries_after(before)
    assert sorted(int(e.row_pk) for e in entries) == sorted(c.pk for c in clients)
    assert {(e.operation, e.after) for e in entries} == {("D", None)}
    assert all(e.before["name"].startswith("Bulk ") for e in entries)
    assert record_verify().broken is None


@pytest.mark.django_db
def test_a_row_whose_key_changes_is_recorded_as_its_update() -> None:
    moved = ClientFactory(name="Moved")
    stays = ClientFactory(name="Stays")
    before = head()
    with connection.cursor() as cursor:  # no path of SKAM's does this; SQL can
        cursor.execute(
            "UPDATE accounts_client SET id = id + 100000, notes = 'moved' WHERE id = %s; "
            "UPDATE accounts_client SET notes = 'stays' WHERE id = %s",
            [moved.pk, stays.pk],
        )
    moved_entry, stays_entry = entries_after(before)
    assert (moved_entry.operation, moved_entry.row_pk) == ("U", str(moved.pk + 100000))
    assert (moved_entry.before["id"], moved_entry.after["notes"]) == (moved.pk, "moved")
    assert (stays_entry.row_pk, stays_entry.after["notes"]) == (str(stays.pk), "stays")


@pytest.mark.django_db
def test_many_to_many_rows_added_at_once_are_each_recorded(outsider: User) -> None:
    groups = [Group.objects.create(name=f"Group {n}") for n in range(3)]
    before = head()
    outsider.groups.add(*groups)
    entries = entries_after(before, "accounts_user_groups")
    assert sorted(e.after["group_id"] for e in entries) == sorted(g.pk for g in groups)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the record is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_two_writers_in_bulk_at_once_leave_one_unbroken_chain() -> None:
    UserFactory(username="someone")  # the record has a head before they start
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(first: int) -> None:
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                for statement in range(3):
                    Client.objects.bulk_create(new_clients(200, first + statement * 200))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(first,)) for first in (0, 1000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Client.objects.count() == 1200
    verdict = record_verify()
    assert verdict.broken is None
    assert RecordEntry.objects.filter(table_name="accounts_client").count() == 1200
