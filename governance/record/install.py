"""The record's triggers, installed after every ``migrate`` (and again by the tests' flush):
idempotent, so that a governed table added to ``governed.GOVERNED`` or a column added to one
is recorded on the next ``migrate`` with no migration of its own here.

Every governed table has three statement-level triggers (insert, update, delete: PostgreSQL
gives transition tables to a trigger of one event only), which read the statement's rows
before and after from its transition tables (``to_jsonb``) and append one entry per row
changed, in one INSERT per statement: a bulk write of thousands of rows costs one trigger
call, one lock and one read of the chain's head, not one of each per row. An UPDATE pairs
each row's before and after by primary key (rows whose key changed, in the order the
statement changed them); a row whose recorded columns did not change is no entry.

Entries are chained under one transaction-level advisory lock: each stores the previous
entry's hash and SHA-256 over the previous hash and its own content (``CANONICAL_COLUMNS``),
worked out along the statement's rows in order of id by an aggregate (``skam_record_chain``).
Every entry still says who, when, through which path and where. The entry table refuses
UPDATE and DELETE; a superuser may still disable that, which the chain and the rows' check in
``verify`` reveal.

A long transaction that writes many governed rows (an import of 100,000 clients) would hold
that lock from its first write to its commit, and every vote meanwhile would wait for it. Such
a transaction asks for its entries to be chained *at its commit* (``RECORD_AT_COMMIT``, a
transaction-local setting): the triggers then keep its entries, unchained and with everything
else they say, in ``skam_record_pending`` (which only that transaction sees), and a deferred
constraint trigger chains them all, under the lock, as the transaction commits. The lock is
held for that last step only; the entries are the same, one per row changed.
"""

from __future__ import annotations

from django.db import connections, transaction
from psycopg2 import sql

from governance.models import RecordEntry
from governance.record.governed import governed_tables

# The advisory lock that orders the chain: one writer of the record at a time, until commit.
RECORD_LOCK = 0x5CA3_2EC0
# The transaction-local setting that defers chaining to the commit, when "on"; its entries wait
# meanwhile in PENDING, and a row of COMMIT_MARK queues their chaining at commit, once.
RECORD_AT_COMMIT = "skam.record_at_commit"
PENDING = "skam_record_pending"
COMMIT_MARK = "skam_record_commit"
GENESIS = "0" * 64
# One trigger per event; the insert's keeps the name the row-level trigger had, so that a
# database recorded before knows its tables are recorded already.
TRIGGER = "skam_record"
TRIGGERS = {
    "INSERT": TRIGGER,
    "UPDATE": "skam_record_update",
    "DELETE": "skam_record_delete",
}
APPEND_ONLY_TRIGGER = "skam_record_append_only"

# What an entry's hash is taken over, in order: the previous hash, then the entry's columns
# (the time in microseconds since the epoch: text of a timestamp would follow the session's
# zone).
CANONICAL_COLUMNS = (
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
)


def _columns(prefix: str, columns: tuple[str, ...]) -> str:
    return ", ".join(
        column.format(p=prefix) if "{p}" in column else prefix + column for column in columns
    )


def canonical(prefix: str = "") -> str:
    """SQL for the text an entry's hash is taken over, from built-in functions only (so that
    ``verify`` needs none of ours): a JSON array of the previous hash and every column."""
    return f"jsonb_build_array({_columns(prefix, CANONICAL_COLUMNS)})::text"


def _chained_insert(entries: str, sequence: str, table_name: str, source: str) -> str:
    """One INSERT of an entry per row of ``source`` (``row_pk``, ``operation``, ``before``,
    ``after``), chained to the record's head in order of id. The caller holds the lock
    already, so this statement's snapshot sees the head as the last writer left it."""
    content = _columns("e.", CANONICAL_COLUMNS[1:])
    return f"""
WITH ctx AS MATERIALIZED (
    SELECT clock_timestamp() AS at,
        nullif(current_setting('skam.actor', true), '')::bigint AS actor_id,
        coalesce(nullif(current_setting('skam.path', true), ''), 'system') AS path,
        left(coalesce(current_setting('skam.origin', true), ''), 200) AS origin,
        left(coalesce(current_setting('skam.request', true), ''), 64) AS request_id,
        coalesce(
            (SELECT hash FROM {entries} ORDER BY id DESC LIMIT 1), '{GENESIS}'
        ) AS head
), numbered AS (
    SELECT nextval('{sequence}') AS id, src.row_pk, src.operation, src.before, src.after
    FROM ({source}) src
), chained AS (
    SELECT e.*, skam_record_chain(ctx.head, jsonb_build_array({content}))
        OVER (ORDER BY e.id ROWS UNBOUNDED PRECEDING) AS link
    FROM (
        SELECT n.id, ctx.at, {table_name}::text AS table_name, n.row_pk, n.operation,
            n.before, n.after, ctx.actor_id, ctx.path, ctx.origin, ctx.request_id
        FROM numbered n CROSS JOIN ctx
    ) e CROSS JOIN ctx
)
INSERT INTO {entries} (
    id, at, table_name, row_pk, operation, before, after, actor_id, path, origin,
    request_id, prev_hash, hash
)
SELECT id, at, table_name, row_pk, operation, before, after, actor_id, path, origin,
    request_id, left(link, 64), right(link, 64)
FROM chained"""


def _staged_insert(source: str) -> str:
    """One INSERT into ``PENDING`` of an entry per row of ``source``, unchained: what the
    entry says but its id and hashes, given at commit (``_flush_sql``)."""
    return f"""
WITH ctx AS MATERIALIZED (
    SELECT clock_timestamp() AS at,
        nullif(current_setting('skam.actor', true), '')::bigint AS actor_id,
        coalesce(nullif(current_setting('skam.path', true), ''), 'system') AS path,
        left(coalesce(current_setting('skam.origin', true), ''), 200) AS origin,
        left(coalesce(current_setting('skam.request', true), ''), 64) AS request_id
)
INSERT INTO {PENDING} (
    at, table_name, row_pk, operation, before, after, actor_id, path, origin, request_id
)
SELECT ctx.at, TG_TABLE_NAME, src.row_pk, src.operation, src.before, src.after, ctx.actor_id,
    ctx.path, ctx.origin, ctx.request_id
FROM ({source}) src CROSS JOIN ctx"""


def _flush_sql(entries: str, sequence: str) -> str:
    """Chain the transaction's pending entries to the record's head, in the order they were
    kept; the caller holds the lock."""
    content = _columns("e.", CANONICAL_COLUMNS[1:])
    return f"""
WITH ctx AS MATERIALIZED (
    SELECT coalesce(
        (SELECT hash FROM {entries} ORDER BY id DESC LIMIT 1), '{GENESIS}'
    ) AS head
), numbered AS (
    SELECT nextval('{sequence}') AS id, p.*
    FROM (SELECT * FROM {PENDING} ORDER BY seq) p
), chained AS (
    SELECT e.*, skam_record_chain(ctx.head, jsonb_build_array({content}))
        OVER (ORDER BY e.id ROWS UNBOUNDED PRECEDING) AS link
    FROM (
        SELECT n.id, n.at, n.table_name, n.row_pk, n.operation, n.before, n.after,
            n.actor_id, n.path, n.origin, n.request_id
        FROM numbered n
    ) e CROSS JOIN ctx
)
INSERT INTO {entries} (
    id, at, table_name, row_pk, operation, before, after, actor_id, path, origin,
    request_id, prev_hash, hash
)
SELECT id, at, table_name, row_pk, operation, before, after, actor_id, path, origin,
    request_id, left(link, 64), right(link, 64)
FROM chained"""


# The rows of a statement, as entries' sources: inside the trigger function, whose variables
# ``v_pk`` (the primary key's column) and ``v_not_copied`` (columns never copied) they read.
_INSERTED = """
SELECT a ->> v_pk AS row_pk, 'I' AS operation, NULL::jsonb AS before, a AS after
FROM (SELECT to_jsonb(t) - v_not_copied AS a FROM new_rows t) rows"""

_DELETED = """
SELECT b ->> v_pk AS row_pk, 'D' AS operation, b AS before, NULL::jsonb AS after
FROM (SELECT to_jsonb(t) - v_not_copied AS b FROM old_rows t) rows"""

# Before and after paired by primary key; rows whose key changed, in the order the statement
# changed them (the transition tables hold them in that order).
_UPDATED = """
SELECT coalesce(a, b) ->> v_pk AS row_pk, 'U' AS operation, b AS before, a AS after
FROM (
    WITH o AS MATERIALIZED (
        SELECT to_jsonb(t) - v_not_copied AS j, row_number() OVER () AS n FROM old_rows t
    ), w AS MATERIALIZED (
        SELECT to_jsonb(t) - v_not_copied AS j, row_number() OVER () AS n FROM new_rows t
    ), p AS MATERIALIZED (
        SELECT o.j AS b, w.j AS a, o.n AS bn, w.n AS an
        FROM o FULL JOIN w ON o.j -> v_pk = w.j -> v_pk
    )
    SELECT b, a FROM p WHERE b IS NOT NULL AND a IS NOT NULL
    UNION ALL
    SELECT x.b, y.a
    FROM (SELECT b, row_number() OVER (ORDER BY bn) AS r FROM p WHERE a IS NULL) x
    FULL JOIN (SELECT a, row_number() OVER (ORDER BY an) AS r FROM p WHERE b IS NULL) y
    ON x.r = y.r
) pairs
WHERE b IS DISTINCT FROM a"""


def _functions_sql(entries: str, sequence: str) -> str:
    def append(source: str) -> str:
        """Chain the statement's entries now, or keep them for the commit when the
        transaction asked."""
        return f"""
        IF current_setting('{RECORD_AT_COMMIT}', true) = 'on' THEN
            {_staged_insert(source)};
            IF current_setting('skam.record_marked', true) IS DISTINCT FROM 'on' THEN
                PERFORM set_config('skam.record_marked', 'on', true);
                INSERT INTO {COMMIT_MARK} DEFAULT VALUES;
            END IF;
        ELSE
            PERFORM pg_advisory_xact_lock({RECORD_LOCK});
            {_chained_insert(entries, sequence, "TG_TABLE_NAME", source)};
        END IF"""

    return f"""
-- Entries kept for their transaction's commit (each transaction sees only its own), and the
-- mark that queues their chaining at that commit.
CREATE TABLE IF NOT EXISTS {PENDING} (
    seq bigserial PRIMARY KEY,
    at timestamptz NOT NULL,
    table_name text NOT NULL,
    row_pk text NOT NULL,
    operation char(1) NOT NULL,
    before jsonb,
    after jsonb,
    actor_id bigint,
    path text NOT NULL,
    origin text NOT NULL,
    request_id text NOT NULL
);
CREATE TABLE IF NOT EXISTS {COMMIT_MARK} (id bigserial PRIMARY KEY);

-- Dropped first, so that a change of their arguments installs too (nothing depends on them
-- but the trigger function's body).
DROP AGGREGATE IF EXISTS skam_record_chain(text, jsonb);
DROP FUNCTION IF EXISTS skam_record_link(text, text, jsonb);

-- A link of the chain: the previous entry's hash (the chain's head before the first), then
-- SHA-256 over it and the entry's content, as ``canonical`` spells it.
CREATE FUNCTION skam_record_link(link text, head text, content jsonb)
RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
    previous text := coalesce(right(link, 64), head);
BEGIN
    RETURN previous || encode(sha256(convert_to(
        (jsonb_build_array(previous) || content)::text, 'UTF8'
    )), 'hex');
END
$fn$;

-- Each entry's link along the rows in order of id: its previous hash and its own.
CREATE AGGREGATE skam_record_chain(text, jsonb) (
    SFUNC = skam_record_link, STYPE = text
);

DROP FUNCTION IF EXISTS skam_record_append(text, text, text, jsonb, jsonb);

CREATE OR REPLACE FUNCTION skam_record_change() RETURNS trigger
LANGUAGE plpgsql SET TimeZone = 'UTC' AS $fn$
DECLARE
    v_pk text := TG_ARGV[0];
    v_not_copied text[] := coalesce(TG_ARGV[1:TG_NARGS], '{{}}');
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT FROM new_rows) THEN RETURN NULL; END IF;
        {append(_INSERTED)};
    ELSIF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT FROM old_rows) THEN RETURN NULL; END IF;
        {append(_DELETED)};
    ELSE
        -- Nothing recorded changed (a sign-in's time, a save of the same values): no entry,
        -- and no wait for the lock.
        IF NOT EXISTS ({_UPDATED}) THEN RETURN NULL; END IF;
        {append(_UPDATED)};
    END IF;
    RETURN NULL;
END
$fn$;

-- At the commit of a transaction that kept its entries for it: chain them, under the lock.
CREATE OR REPLACE FUNCTION skam_record_flush() RETURNS trigger
LANGUAGE plpgsql SET TimeZone = 'UTC' AS $fn$
BEGIN
    DELETE FROM {COMMIT_MARK};
    IF NOT EXISTS (SELECT FROM {PENDING}) THEN RETURN NULL; END IF;
    PERFORM pg_advisory_xact_lock({RECORD_LOCK});
    {_flush_sql(entries, sequence)};
    DELETE FROM {PENDING};
    RETURN NULL;
END
$fn$;

DROP TRIGGER IF EXISTS skam_record_at_commit ON {COMMIT_MARK};
CREATE CONSTRAINT TRIGGER skam_record_at_commit AFTER INSERT ON {COMMIT_MARK}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION skam_record_flush();

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
            for event, trigger in TRIGGERS.items():
                transition = (
                    "NEW TABLE AS new_rows"
                    if event == "INSERT"
                    else (
                        "OLD TABLE AS old_rows"
                        if event == "DELETE"
                        else "OLD TABLE AS old_rows NEW TABLE AS new_rows"
                    )
                )
                statements.append(
                    sql.SQL(
                        "DROP TRIGGER IF EXISTS {trigger} ON {table}; "
                        "CREATE TRIGGER {trigger} AFTER {event} ON {table} "
                        "REFERENCING {transition} FOR EACH STATEMENT "
                        "EXECUTE FUNCTION skam_record_change({arguments});"
                    ).format(
                        trigger=sql.Identifier(trigger),
                        event=sql.SQL(event),
                        table=sql.Identifier(table.table),
                        transition=sql.SQL(transition),
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
                "set_config('TimeZone', 'UTC', true), "
                "pg_advisory_xact_lock(%s)",
                [RECORD_LOCK],
            )
        for table in begun:
            source = (
                sql.SQL(
                    "SELECT t.{pk}::text AS row_pk, 'S' AS operation, NULL::jsonb AS before, "
                    "to_jsonb(t) - {not_copied}::text[] AS after FROM {table} t ORDER BY t.{pk}"
                )
                .format(
                    pk=sql.Identifier(table.pk_column),
                    not_copied=sql.Literal(list(table.not_copied)),
                    table=sql.Identifier(table.table),
                )
                .as_string(cursor.cursor)
            )
            name = sql.Literal(table.table).as_string(cursor.cursor)
            cursor.execute(_chained_insert(entries, sequence, name, source))
    return [table.table for table in begun]
