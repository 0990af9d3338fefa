"""What the benchmarks share: output, a deterministic pseudo-random share in SQL, and their own
PostgreSQL database. The scripts run as ``python bench/<name>.py``, so this folder is on their
path."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


def log(message: str) -> None:
    print(message, flush=True)


def h(expression: str, salt: int) -> str:
    """SQL for a deterministic pseudo-random share in [0, 1) from an integer expression."""
    return f"(((({expression})::bigint * 16 + {salt}) * 2654435761) %% 4294967296) / 4294967296.0"


def ensure_database(url: str) -> None:
    """Create the benchmark database if it is missing, connecting to the ``postgres`` one."""
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    connection = psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password else None,
        dbname="postgres",
    )
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                log(f"creating database {name}")
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()
