"""The cast every test can call on: one person per role, plus an outsider with no role, and
an account for each of the two KAMs."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.test import override_settings
from django.utils import translation

from accounts.models import Client, TeamRole, User
from accounts.roles import Role
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
    fixture, which may already write to the cache."""
    caches = {name: dict(options) for name, options in settings.CACHES.items()}
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    caches["default"]["KEY_PREFIX"] = f"skam-tests:{settings.DATABASES['default']['NAME']}:{worker}"
    override_settings(CACHES=caches).enable()
