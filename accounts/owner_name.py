"""The owner KAM's last name kept on each client (``Client.owner_kam_last_name``), what the
register's "sort by owner KAM" orders by through an index rather than a join and a sort of
every client.

The database keeps it, with triggers installed after every ``migrate`` (idempotent, so a table
that SQLite's schema editor rebuilt gets them back): a client's owner written by any path
(a form, the API, the admin, an import's bulk writes, SQL) sets it, and a KAM's change of
last name carries it to the clients they own. No Python write path can forget it.
"""

from __future__ import annotations

from django.db import connections, transaction

from accounts.models import Client, User

_POSTGRESQL = """
CREATE OR REPLACE FUNCTION skam_client_owner_name() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.owner_kam_last_name := (SELECT u.last_name FROM {user} u WHERE u.id = NEW.owner_kam_id);
    RETURN NEW;
END
$fn$;
DROP TRIGGER IF EXISTS skam_client_owner_name ON {client};
CREATE TRIGGER skam_client_owner_name
    BEFORE INSERT OR UPDATE OF owner_kam_id, owner_kam_last_name ON {client}
    FOR EACH ROW EXECUTE FUNCTION skam_client_owner_name();

CREATE OR REPLACE FUNCTION skam_owner_renamed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE {client} SET owner_kam_last_name = NEW.last_name WHERE owner_kam_id = NEW.id;
    RETURN NULL;
END
$fn$;
DROP TRIGGER IF EXISTS skam_owner_renamed ON {user};
CREATE TRIGGER skam_owner_renamed AFTER UPDATE OF last_name ON {user}
    FOR EACH ROW WHEN (OLD.last_name IS DISTINCT FROM NEW.last_name)
    EXECUTE FUNCTION skam_owner_renamed();
"""

# SQLite runs a trigger's own UPDATE without firing it again (recursive triggers are off).
_OWNER_NAME = "(SELECT u.last_name FROM {user} u WHERE u.id = NEW.owner_kam_id)"
_SQLITE = [
    "DROP TRIGGER IF EXISTS skam_client_owner_name_insert",
    "CREATE TRIGGER skam_client_owner_name_insert AFTER INSERT ON {client} BEGIN "
    f"UPDATE {{client}} SET owner_kam_last_name = {_OWNER_NAME} WHERE id = NEW.id; END",
    "DROP TRIGGER IF EXISTS skam_client_owner_name_update",
    "CREATE TRIGGER skam_client_owner_name_update "
    "AFTER UPDATE OF owner_kam_id, owner_kam_last_name ON {client} BEGIN "
    f"UPDATE {{client}} SET owner_kam_last_name = {_OWNER_NAME} WHERE id = NEW.id; END",
    "DROP TRIGGER IF EXISTS skam_owner_renamed",
    "CREATE TRIGGER skam_owner_renamed AFTER UPDATE OF last_name ON {user} "
    "WHEN OLD.last_name IS NOT NEW.last_name BEGIN "
    "UPDATE {client} SET owner_kam_last_name = NEW.last_name WHERE owner_kam_id = NEW.id; END",
]

# Clients whose kept name is not their owner's (all of them, the first time).
_STALE = """
UPDATE {client} SET owner_kam_last_name = (
    SELECT u.last_name FROM {user} u WHERE u.id = {client}.owner_kam_id
)
WHERE owner_kam_last_name IS DISTINCT FROM (
    SELECT u.last_name FROM {user} u WHERE u.id = {client}.owner_kam_id
)
"""


def owner_name_install(*, using: str = "default") -> None:
    """Create or refresh the triggers, and bring every client's kept name up to date."""
    connection = connections[using]
    names = {
        "client": connection.ops.quote_name(Client._meta.db_table),
        "user": connection.ops.quote_name(User._meta.db_table),
    }
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_POSTGRESQL.format(**names))
            cursor.execute(_STALE.format(**names))
        else:
            for statement in _SQLITE:
                cursor.execute(statement.format(**names))
            cursor.execute(_STALE.format(**names).replace("IS DISTINCT FROM", "IS NOT"))
