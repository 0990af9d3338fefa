"""The backup and restore the README documents for the compose stack, run against this
machine's PostgreSQL: pg_dump of the database in custom format, pg_restore into an empty one,
and the restored database holds the same rows in every table."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

from accounts.roles import Role
from tests.factories import ClientFactory, NeedFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _libpq_environment() -> dict[str, str]:
    database = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        PGHOST=str(database.get("HOST") or "127.0.0.1"),
        PGPORT=str(database.get("PORT") or 5432),
        PGUSER=str(database.get("USER") or "postgres"),
        PGPASSWORD=str(database.get("PASSWORD") or ""),
    )
    return env


def _rows_by_table(dbname: str) -> dict[str, list[tuple]]:
    database = settings.DATABASES["default"]
    with (
        psycopg2.connect(
            dbname=dbname,
            host=database.get("HOST") or "127.0.0.1",
            port=database.get("PORT") or 5432,
            user=database.get("USER") or "postgres",
            password=database.get("PASSWORD") or "",
        ) as restored,
        restored.cursor() as cursor,
    ):
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        tables = [name for (name,) in cursor.fetchall()]
        rows = {}
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}" ORDER BY 1')  # names from pg_tables
            rows[table] = cursor.fetchall()
    return rows


def test_a_dump_restores_to_the_same_rows(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the documented backup is PostgreSQL's")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.fail("pg_dump and pg_restore are needed: apt-get install postgresql-client")
    kam = UserFactory(username="backup.kam", role=Role.KAM)
    client = ClientFactory(name="ПАО «Волжский металлург»", owner_kam=kam)
    NeedFactory(client=client, name="Отсрочка платежа", weight=5)

    source = settings.DATABASES["default"]["NAME"]
    restored = f"{source}_restored"
    env = _libpq_environment()
    dump = tmp_path / "skam.dump"
    # What the README runs in the postgres container, against this machine's server.
    with dump.open("wb") as out:
        subprocess.run(
            ["pg_dump", "--dbname", source, "--format=custom"], env=env, stdout=out, check=True
        )
    subprocess.run(["dropdb", "--if-exists", restored], env=env, check=True)
    subprocess.run(["createdb", restored], env=env, check=True)
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", restored, str(dump)],
            env=env,
            check=True,
        )
        before, after = _rows_by_table(source), _rows_by_table(restored)
    finally:
        subprocess.run(["dropdb", "--if-exists", restored], env=env, check=True)

    assert after == before
    assert any("ПАО «Волжский металлург»" in row for row in after["accounts_client"])
    assert len(after["auth_group"]) == len(Role)  # the roles, with their permissions
    assert after["auth_group_permissions"]
