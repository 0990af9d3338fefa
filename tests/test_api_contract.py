"""The API answers as its OpenAPI schema says, for every role: schemathesis generates requests
from the schema (valid ones and, where it can, invalid ones) for every operation, sends them
in-process through the WSGI application, and checks each answer: never a server error, only
documented statuses and media types, bodies that match their schemas, invalid input refused.

Run as each role (and signed out) against the permission matrix's world, with a fixed number
of examples per operation and Hypothesis derandomized, so that every run sends the same requests.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator

import hypothesis
import pytest
import schemathesis
import time_machine
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from knox.models import AuthToken
from pytest_django import DjangoDbBlocker
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from tests.test_permissions import FROZEN_AT, _cast, _places

# The roles the API serves, by the permission matrix's cast; None: signed out.
ROLES = {
    "chair": "chair",
    "member": "member",
    "kam": "kam",
    "director": "director",
    "administrator": "administrator",
    "anonymous": None,
}
# Requests per operation, valid and invalid ones drawn together: enough to try every operation
# each run within the suite's budget (about 30 s for the six roles on two workers).
EXAMPLES = 4
# The checks: a server error, a status or media type the schema does not document, a body that
# does not match its schema. Not "schema-valid request rejected": a schema cannot say that an id
# names a row this person may see, and the API rightly answers such a request 400 or 404.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Operations not tried, each with why.
NOT_TRIED = {
    # Revoke the token the run signs in with: every later request would be a 401.
    ("POST", "/api/auth/logout/"),
    ("POST", "/api/auth/logout-all/"),
}


@functools.cache
def api_schema() -> schemathesis.BaseSchema:
    """The schema as /api/schema/ serves it, generated once per process."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    document = json.loads(OpenApiJsonRenderer().render(generated))
    config = schemathesis.config.SchemathesisConfig.from_dict(
        {
            "generation": {
                # PostgreSQL cannot store a NUL character: every text field refuses it (400),
                # and a request made of little else says nothing more about the contract.
                "allow-x00": False,
            }
        }
    )
    schema = schemathesis.openapi.from_dict(document, config=config)
    # Every request, the checks' own included, goes in-process to the WSGI application.
    schema.app = WSGIHandler()
    return schema


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[dict[str, User]]:
    """The permission matrix's cast and places, built once for the module; each test rolls
    back to it."""
    with (
        django_db_blocker.unblock(),
        time_machine.travel(FROZEN_AT),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        cast = _cast()
        _places(cast)
        yield cast
        transaction.set_rollback(True)


def _try(operation: object, headers: dict[str, str]) -> None:
    strategy = hypothesis.strategies.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.parametrize("role", ROLES)
@override_settings(SKAM_API_WRITE_RATE="1000000/minute")
def test_the_api_answers_as_its_schema_says(role: str, world: dict[str, User], db: None) -> None:
    username = ROLES[role]
    headers = {}
    if username is not None:
        _token, key = AuthToken.objects.create(user=world[username])
        headers["Authorization"] = f"Token {key}"
    failures = []
    # As Django's test client does: a request must not close the connection that holds the
    # test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    with time_machine.travel(FROZEN_AT):
        for result in api_schema().get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) in NOT_TRIED:
                continue
            try:
                _try(operation, headers)
            except (Exception, FailureGroup) as exc:  # every operation's failures are reported
                failures.append(f"{operation.label}: {exc}")
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    assert not failures, "\n\n".join(failures)
