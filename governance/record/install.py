"""The record's triggers, installed after every ``migrate`` (and again by the tests' flush):
idempotent, so that a governed table added to ``governed.GOVERNED`` or a column added to one
is recorded on the next ``migrate`` with no migration of its own here.

One generic trigger function copies the row before and after (``to_jsonb``) into the entry
table. Entries are chained under one transaction-level advisory lock: each stores the previous
entry's hash and SHA-256 over the previous hash and its own content (``CANONICAL``). The entry
table refuses UPDATE and DELETE; a superuser may still disable that, which the chain and the
rows' check in ``verify`` reveal.
"""

from __future__ import annotations

from django.db import connections, transaction
from psycopg2 import sql

from governance.models import RecordEntry
from governance.record.governed import governed_tables

# The advisory lock that orders the chain: one writer of the record at a time, until commit.
RECORD_LOCK = 0x5CA3_2EC0
GENESIS = "0" * 64
TRIGGER = "skam_record"
APPEND_ONLY_TRIGGER = "skam_record_append_only"


def canonical(prefix: str = "") -> str:
    """SQL for the text an entry's hash is taken over, from built-in functions only (so that
    ``verify`` needs none of ours): a JSON array of the previous hash and every column, the time
    in microseconds since the epoch (text of a timestamp would follow the session's zone)."""
    columns = [
        "prev_hash",
        "id",
        "(extract(epoch FROM {p}at) * 1000000)::bigint",
        "table_name",
        "row_pk",
        "operation",
        "before",
        "after",
        "actor_id",
        "path",
        "origin",
        "request_id",
    ]
    return "jsonb_build_array({})::text".format(
        ", ".join(
            column.format(p=prefix) if "{p}" in column else prefix + column for column in columns
        )
    )


def _functions_sql(entries: str, sequence: str) -> str:
    insert_canonical = canonical("v_")
    return f"""
CREATE OR REPLACE FUNCTION skam_record_append(
    v_table_name text, v_row_pk text, v_operation text, v_before jsonb, v_after jsonb
) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    v_prev_hash text;
    v_id bigint;
    v_at timestamptz := clock_timestamp();
    v_actor_id bigint := nullif(current_setting('skam.actor', true), '')::bigint;
    v_path text := coalesce(nullif(current_setting('skam.path', true), ''), 'system');
    v_origin text := left(coalesce(current_setting('skam.origin', true), ''), 200);
    v_request_id text := left(coalesce(current_setting('skam.request', true), ''), 64);
BEGIN
    PERFORM pg_advisory_xact_lock({RECORD_LOCK});
    SELECT hash INTO v_prev_hash FROM {entries} ORDER BY id DESC LIMIT 1;
    v_prev_hash := coalesce(v_prev_hash, '{GENESIS}');
    v_id := nextval('{sequence}');
    INSERT INTO {entries} (
        id, at, table_name, row_pk, operation, before, after, actor_id, path, origin,
        request_id, prev_hash, hash
    ) VALUES (
        v_id, v_at, v_table_name, v_row_pk, v_operation, v_before, v_after, v_actor_id, v_path,
        v_origin, v_request_id, v_prev_hash,
        encode(sha256(convert_to({insert_canonical}, 'UTF8')), 'hex')
    );
END
$fn$;

CREATE OR REPLACE FUNCTION skam_record_change() RETURNS trigger
LANGUAGE plpgsql SET TimeZone = 'UTC' AS $fn$
DECLARE
    not_copied text[] := coalesce(TG_ARGV[1:TG_NARGS], '{{}}');
    before_row jsonb;
    after_row jsonb;
BEGIN
    IF TG_OP <> 'INSERT' THEN before_row := to_jsonb(OLD) - not_copied; END IF;
    IF TG_OP <> 'DELETE' THEN after_row := to_jsonb(NEW) - not_copied; END IF;
    IF before_row = after_row THEN RETURN NULL; END IF;  -- nothing recorded changed
    PERFORM skam_record_append(
        TG_TABLE_NAME, coalesce(after_row, before_row) ->> TG_ARGV[0], left(TG_OP, 1),
        before_row, after_row
    );
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION skam_record_refuse() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    RAISE EXCEPTION 'the record is append-only: % of an entry is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$fn$;

DROP TRIGGER IF EXISTS {APPEND_ONLY_TRIGGER} ON {entries};
CREATE TRIGGER {APPEND_ONLY_TRIGGER} BEFORE UPDATE OR DELETE ON {entries}
    FOR EACH ROW EXECUTE FUNCTION skam_record_refuse();
"""


def record_install(*, using: str = "default") -> list[str]:
    """Create or refresh the functions and every governed table's trigger; a table that had
    none yet gets one entry per row as found (operation ``S``), so that every row has a
    recorded state from then on. Returns the tables that began to be recorded. PostgreSQL
    only: elsewhere nothing is recorded."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    entries = RecordEntry._meta.db_table
    tables = governed_tables()
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [entries])
        (sequence,) = cursor.fetchone()
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = %s AND c.relname = ANY(%s)",
            [TRIGGER, [table.table for table in tables]],
        )
        already = {name for (name,) in cursor.fetchall()}
        cursor.execute(_functions_sql(entries, sequence))
        statements = []
        for table in tables:
            arguments = sql.SQL(", ").join(
                sql.Literal(value) for value in (table.pk_column, *table.not_copied)
            )
            statements.append(
                sql.SQL(
                    "DROP TRIGGER IF EXISTS {trigger} ON {table}; "
                    "CREATE TRIGGER {trigger} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION skam_record_change({arguments});"
                ).format(
                    trigger=sql.Identifier(TRIGGER),
                    table=sql.Identifier(table.table),
                    arguments=arguments,
                )
            )
        cursor.execute(sql.SQL(" ").join(statements).as_string(cursor.cursor))
        begun = [table for table in tables if table.table not in already]
        if begun:
            cursor.execute(
                "SELECT set_config('skam.path', 'system', true), "
                "set_config('skam.origin', 'recording began', true), "
                "set_config('skam.actor', '', true), set_config('skam.request', '', true), "
                "set_config('TimeZone', 'UTC', true)"
            )
        for table in begun:
            cursor.execute(
                sql.SQL(
                    "SELECT skam_record_append({name}, t.{pk}::text, 'S', NULL, "
                    "to_jsonb(t) - {not_copied}::text[]) FROM {table} t ORDER BY t.{pk}"
                )
                .format(
                    name=sql.Literal(table.table),
                    pk=sql.Identifier(table.pk_column),
                    not_copied=sql.Literal(list(table.not_copied)),
                    table=sql.Identifier(table.table),
                )
                .as_string(cursor.cursor)
            )
    return [table.table for table in begun]
