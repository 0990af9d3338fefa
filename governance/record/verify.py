"""The walk along the record that ``manage.py audit_verify`` runs, in one read-only snapshot.

1. The chain: in batches by id, each entry's ``prev_hash`` must be the hash of the entry
   before it, and its ``hash`` SHA-256 over the previous hash and its content. The content's
   text comes from PostgreSQL's built-in functions and the hash is taken here, so that a
   function of ours replaced in the database cannot vouch for itself.
2. The rows: every row of every governed table must hold what its last entry says it became
   (a column added since is not compared), and no row the record holds may be gone without
   an entry of its deletion. This finds a change made with the triggers disabled.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections, transaction
from psycopg2 import sql

from governance.models import RecordEntry
from governance.record.governed import governed_tables
from governance.record.install import GENESIS, canonical

BATCH = 2000


@dataclass(frozen=True)
class Break:
    """The first link found broken: which entry, or which row, and how."""

    kind: str  # "hash", "link", "row_differs", "row_unrecorded", "row_gone"
    table_name: str
    row_pk: str
    entry_id: int | None

    def describe(self) -> str:
        where = f"{self.table_name} row {self.row_pk}"
        entry = f"entry {self.entry_id}"
        return {
            "hash": f"{entry} ({where}) does not match its hash: it was changed",
            "link": f"{entry} ({where}) does not follow the entry before it: an entry before "
            "it was changed, removed or slipped in",
            "row_differs": f"{where} differs from what its last {entry} recorded: changed "
            "without the record",
            "row_unrecorded": f"{where} has no entry: written without the record",
            "row_gone": f"{where} is gone, but its last {entry} is no deletion: removed "
            "without the record",
        }[self.kind]


@dataclass(frozen=True)
class Verdict:
    entries: int
    head_id: int | None
    head_hash: str
    broken: Break | None


def _walk_chain(
    cursor, progress: Callable[[int], None] | None
) -> tuple[int, int | None, str, Break | None]:
    entries = sql.Identifier(RecordEntry._meta.db_table).as_string(cursor.cursor)
    query = (
        f"SELECT id, table_name, row_pk, prev_hash, hash, {canonical()} "
        f"FROM {entries} WHERE id > %s ORDER BY id LIMIT %s"
    )
    after, previous, count = 0, GENESIS, 0
    head_id = None
    while True:
        cursor.execute(query, [after, BATCH])
        rows = cursor.fetchall()
        if not rows:
            return count, head_id, previous, None
        for entry_id, table_name, row_pk, prev_hash, entry_hash, content in rows:
            if prev_hash != previous:
                return count, head_id, previous, Break("link", table_name, row_pk, entry_id)
            if hashlib.sha256(content.encode()).hexdigest() != entry_hash:
                return count, head_id, previous, Break("hash", table_name, row_pk, entry_id)
            previous, head_id, count = entry_hash, entry_id, count + 1
        after = rows[-1][0]
        if progress is not None:
            progress(count)


def _check_rows(cursor) -> Break | None:
    entries = sql.Identifier(RecordEntry._meta.db_table)
    for table in governed_tables():
        names = {
            "entries": entries,
            "table": sql.Identifier(table.table),
            "pk": sql.Identifier(table.pk_column),
        }
        cursor.execute(
            sql.SQL(
                "SELECT t.{pk}::text, last.id FROM {table} t LEFT JOIN LATERAL ("
                "  SELECT e.id, e.after FROM {entries} e"
                "  WHERE e.table_name = %s AND e.row_pk = t.{pk}::text ORDER BY e.id DESC LIMIT 1"
                ") last ON true "
                "WHERE last.after IS NULL OR EXISTS ("
                "  SELECT 1 FROM jsonb_each(last.after) recorded"
                "  WHERE to_jsonb(t) ? recorded.key"
                "  AND to_jsonb(t) -> recorded.key IS DISTINCT FROM recorded.value"
                ") ORDER BY t.{pk} LIMIT 1"
            )
            .format(**names)
            .as_string(cursor.cursor),
            [table.table],
        )
        row = cursor.fetchone()
        if row is not None:
            kind = "row_unrecorded" if row[1] is None else "row_differs"
            return Break(kind, table.table, row[0], row[1])
        cursor.execute(
            sql.SQL(
                "SELECT last.row_pk, last.id FROM ("
                "  SELECT DISTINCT ON (row_pk) row_pk, id, operation FROM {entries}"
                "  WHERE table_name = %s ORDER BY row_pk, id DESC"
                ") last WHERE last.operation <> 'D' AND NOT EXISTS ("
                "  SELECT 1 FROM {table} t WHERE t.{pk}::text = last.row_pk"
                ") ORDER BY last.id LIMIT 1"
            )
            .format(**names)
            .as_string(cursor.cursor),
            [table.table],
        )
        row = cursor.fetchone()
        if row is not None:
            return Break("row_gone", table.table, row[0], row[1])
    return None


def record_verify(
    *, using: str = "default", rows: bool = True, progress: Callable[[int], None] | None = None
) -> Verdict:
    """Walk the chain, then the governed rows; stop at the first break."""
    connection = connections[using]
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if outermost:  # one snapshot for the chain and the rows
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cursor.execute("SET LOCAL TimeZone = 'UTC'")  # as the triggers copy the rows
        count, head_id, head_hash, broken = _walk_chain(cursor, progress)
        if broken is None and rows:
            broken = _check_rows(cursor)
    return Verdict(count, head_id, head_hash, broken)
