"""The cast every test can call on: one person per role, plus an outsider with no role, and
an account for each of the two KAMs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db.backends.postgresql.operations import DatabaseOperations as PostgreSQLOperations
from django.test import Client as HttpClient
from django.test import override_settings
from django.utils import translation

from accounts.models import Client, TeamRole, User
from accounts.roles import Role
from tests.embedded import database_migrated_once
from tests.factories import ClientFactory, TeamMemberFactory, UserFactory


@pytest.fixture
def chair(db: None) -> User:
    return UserFactory(username="chair", role=Role.COMMITTEE_CHAIR)


@pytest.fixture
def member(db: None) -> User:
    return UserFactory(username="member", role=Role.COMMITTEE_MEMBER)


@pytest.fixture
def kam(db: None) -> User:
    return UserFactory(username="kam", role=Role.KAM)


@pytest.fixture
def kam2(db: None) -> User:
    return UserFactory(username="kam2", role=Role.KAM)


@pytest.fixture
def director(db: None) -> User:
    return UserFactory(username="director", role=Role.DIRECTOR)


@pytest.fixture
def administrator(db: None) -> User:
    return UserFactory(username="administrator", role=Role.ADMINISTRATOR, is_staff=True)


@pytest.fixture
def outsider(db: None) -> User:
    """Signed in, but with no role at all."""
    return UserFactory(username="outsider")


@pytest.fixture
def cast(
    chair: User,
    member: User,
    kam: User,
    kam2: User,
    director: User,
    administrator: User,
    outsider: User,
) -> dict[str, User]:
    return {
        "chair": chair,
        "member": member,
        "kam": kam,
        "kam2": kam2,
        "director": director,
        "administrator": administrator,
        "outsider": outsider,
    }


@pytest.fixture
def account_of_kam(kam: User) -> Client:
    return ClientFactory(name="Volga Steel Works JSC", owner_kam=kam)


@pytest.fixture
def account_of_kam2(kam2: User) -> Client:
    return ClientFactory(name="Ural Chemical Plant LLC", owner_kam=kam2)


@pytest.fixture
def shared_account(kam: User, kam2: User) -> Client:
    """Owned by kam2; kam works on it as a team member."""
    client = ClientFactory(name="Kama Foods LLC", owner_kam=kam2)
    TeamMemberFactory(client=client, user=kam, role=TeamRole.KAM)
    return client


@pytest.fixture(autouse=True)
def fast_passwords(settings) -> None:
    """Tests log people in thousands of times; a slow hasher adds nothing to what they prove."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


_truncate_every_table = PostgreSQLOperations.sql_flush


def _delete_rows_written(
    self: PostgreSQLOperations, style, tables, *, reset_sequences=False, allow_cascade=False
) -> list[str]:
    """What a transactional test's flush runs: DELETE in the few tables that hold a row, rather
    than TRUNCATE of all 76. TRUNCATE gives each table and index a new file, tens of milliseconds
    apiece, while a test writes to a handful. One query finds which; their rows are deleted with
    triggers off (``session_replication_role``, the tests' superuser's right), so that neither
    the record's append-only guard nor foreign keys to tables left empty stand in the way, and
    nothing is recorded of the tidying. Where a test asks for its sequences reset, or the user
    may not switch triggers off, every table is truncated as Django does."""
    if not tables or reset_sequences:
        return _truncate_every_table(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
    quote = self.quote_name
    with self.connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        (superuser,) = cursor.fetchone()
        if not superuser:
            return _truncate_every_table(
                self, style, tables, reset_sequences=False, allow_cascade=allow_cascade
            )
        cursor.execute(
            " UNION ALL ".join(f"(SELECT %s FROM {quote(table)} LIMIT 1)" for table in tables),
            list(tables),
        )
        written = sorted(table for (table,) in cursor.fetchall())
    if not written:
        return []
    return [
        "SET LOCAL session_replication_role = replica",
        *(f"DELETE FROM {quote(table)}" for table in written),
    ]


@pytest.fixture(scope="session", autouse=True)
def flush_only_tables_written() -> Iterator[None]:
    PostgreSQLOperations.sql_flush = _delete_rows_written
    yield
    PostgreSQLOperations.sql_flush = _truncate_every_table


@pytest.fixture(scope="session")
def migrated_sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded default's database file, migrated as `make run` migrates it, once for the
    whole run (tests/embedded.py): a test that runs SKAM on SQLite copies it into its var dir."""
    return database_migrated_once(tmp_path_factory)


@pytest.fixture
def client_as(db: None):
    """An HTTP test client logged in as the given user."""

    def make(user: User) -> HttpClient:
        http = HttpClient()
        http.force_login(user)
        return http

    return make


@pytest.fixture(autouse=True)
def english_after_each_test() -> Iterator[None]:
    """A request in Russian leaves Russian active in the thread; the next test starts afresh."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Parallel workers (pytest-xdist) share one Redis, as may other runs and a developer's own
    SKAM: each worker keeps its cache keys under a prefix of its own, so that none reads or
    replaces another's. A write in one worker would otherwise renew the dashboards' data version
    under the other, whose test expects a page read back, not built again. Set before the first
    fixture, which may already write to the cache.

    And Django's test client builds the middleware chain anew for each client, thousands of
    times a run: WhiteNoise, serving static files through the finders (as `make run` does), would
    list every static file at each build (36 ms). It finds the file asked for instead, as it does
    under DEBUG; what it serves is the same."""
    caches = {name: dict(options) for name, options in settings.CACHES.items()}
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    caches["default"]["KEY_PREFIX"] = f"skam-tests:{settings.DATABASES['default']['NAME']}:{worker}"
    override_settings(CACHES=caches, WHITENOISE_AUTOREFRESH=True).enable()
