"""The API answers as its OpenAPI schema says, for every role: schemathesis generates requests
from the schema for every operation, as many schema-valid as schema-violating ones, sends them
in-process through the WSGI application, and checks each answer: never a server error; only
documented statuses, media types and headers; bodies that match their schemas; every request the
schema allows accepted (or refused as not this person's, 401/403/404/409) and every request it
forbids refused.

Run as a role (or signed out) against the permission matrix's world, with a fixed number of
examples per operation and Hypothesis derandomized, so that every run sends the same requests.
The suite tries every role with a few examples; `make contract` every role with 100 or more.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import json
import os
import time
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
from schemathesis.core.failures import AcceptedNegativeData, Failure, FailureGroup, ServerError
from schemathesis.generation import GenerationMode
from schemathesis.openapi.checks import (
    JsonSchemaError,
    MissingHeaders,
    RejectedPositiveData,
    UndefinedContentType,
    UndefinedStatusCode,
)
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
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
# The suite tries every role, and signed out, lightly; `make contract` in depth, or the roles
# asked (SKAM_CONTRACT_ROLES, comma-separated). What each role may do, endpoint by endpoint, is
# the permission matrix's (tests/test_permissions.py).
_ASKED = os.environ.get("SKAM_CONTRACT_ROLES") or "all"
TRIED = list(ROLES) if _ASKED == "all" else _ASKED.split(",")
# Requests per operation and mode (schema-valid, schema-violating): a few in the suite, to try
# every operation within its budget; `make contract` sends at least 100
# (SKAM_CONTRACT_EXAMPLES).
EXAMPLES = int(os.environ.get("SKAM_CONTRACT_EXAMPLES", "2"))
# Only the operations under these paths (comma-separated prefixes, SKAM_CONTRACT_PATHS), to try
# a few operations in depth; every operation when unset.
PATHS = tuple(filter(None, os.environ.get("SKAM_CONTRACT_PATHS", "").split(",")))
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
# Every check that one request and its answer can decide: a server error; a status, media type
# or header the schema does not document; a body that does not match its schema; a request the
# schema allows refused (400, 413, 415), or one it forbids accepted. A reference to a row this
# person may not see is answered 404 (or 403), which a schema-valid request may get.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    positive_data_acceptance,
    negative_data_rejection,
    missing_required_header,
]
# The kinds of failure counted, by the failure schemathesis raises.
KIND_OF: dict[type[Failure], str] = {
    ServerError: "server_error",
    UndefinedStatusCode: "undocumented_status",
    UndefinedContentType: "undocumented_media_type",
    MissingHeaders: "missing_header",
    JsonSchemaError: "body_not_in_schema",
    RejectedPositiveData: "valid_rejected",
    AcceptedNegativeData: "invalid_accepted",
}
KINDS = [*KIND_OF.values(), "null", "other"]
# Failing requests shown per kind when the test fails.
REPORTED = 5
# Operations not tried, each with why.
NOT_TRIED = {
    # Revoke the token the run signs in with: every later request would be a 401.
    ("POST", "/api/auth/logout/"),
    ("POST", "/api/auth/logout-all/"),
}


def _dates_in_order(body: dict) -> bool:
    since, retired_on = body.get("since"), body.get("retired_on")
    return not (isinstance(since, str) and isinstance(retired_on, str) and retired_on < since)


def _kinds_once(body: dict) -> bool:
    criteria = body.get("criteria")
    if not isinstance(criteria, list):
        return True
    kinds = [item["kind"] for item in criteria if isinstance(item, dict) and "kind" in item]
    return len(kinds) == len(set(map(str, kinds)))


# Rules of a body that a JSON Schema cannot state: one compares two of its fields, the other
# asks that items of a list differ by one key. The server refuses a body that breaks them, with
# a 400 on the field (tests/criteria/test_api.py holds both); here
# the generator is told them, as it is told every rule the schema states, so that a request it
# calls schema-valid is one the API must accept. ISO dates compare as strings.
BODY_RULES = {
    ("POST", "/api/usps/"): _dates_in_order,
    ("PUT", "/api/usps/{id}/"): _dates_in_order,
    ("PATCH", "/api/usps/{id}/"): _dates_in_order,
    ("POST", "/api/rulers/"): _kinds_once,
    ("PUT", "/api/rulers/{id}/"): _kinds_once,
    ("PATCH", "/api/rulers/{id}/"): _kinds_once,
}


def filter_body(context: schemathesis.HookContext, body: object) -> bool:
    """schemathesis' hook: whether a drawn body keeps the rules of ``BODY_RULES``."""
    operation = context.operation
    rule = operation and BODY_RULES.get((operation.method.upper(), operation.path))
    return not (rule and isinstance(body, dict)) or rule(body)


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
    schema.hook(filter_body)
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


@dataclasses.dataclass
class Figures:
    """One role's run: what was sent, and each failing request by the kind of failure."""

    operations: int = 0
    examples: int = 0
    failures: dict[str, list[str]] = dataclasses.field(
        default_factory=lambda: collections.defaultdict(list)
    )

    def line(self, role: str, seconds: float) -> str:
        counts = " ".join(f"{kind}={len(self.failures.get(kind, []))}" for kind in KINDS)
        return (
            f"contract {role}: {self.operations} operations, {self.examples} examples, "
            f"{counts}, {seconds:.1f} s"
        )


def _kind(failure: BaseException) -> str:
    if isinstance(failure, JsonSchemaError) and "None is not of type" in str(failure):
        return "null"
    return next((kind for cls, kind in KIND_OF.items() if isinstance(failure, cls)), "other")


def _try(operation: schemathesis.APIOperation, headers: dict[str, str], figures: Figures) -> None:
    """Send EXAMPLES requests of each mode, a schema-valid one and a schema-violating one
    drawn together, and note every failure (Hypothesis then goes on: a run counts them all)."""
    strategy = hypothesis.strategies.tuples(
        *(operation.as_strategy(generation_mode=mode) for mode in MODES)
    )

    @hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(cases=strategy)
    def run(cases: tuple[schemathesis.Case, ...]) -> None:
        for case in cases:
            figures.examples += 1
            response = None
            try:
                # The token stands in for the Authorization header the case drew; a case that
                # leaves it out (security negated) goes without, and must be refused.
                sent = headers if "Authorization" in (case.headers or {}) else {}
                response = case.call(headers=sent)
                case.validate_response(response, checks=CHECKS, headers=sent)
            except FailureGroup as group:
                failures = group.exceptions
            except Failure as failure:
                failures = (failure,)
            else:
                continue
            for failure in failures:
                figures.failures[_kind(failure)].append(
                    f"{operation.label} ({case.meta.generation.mode.value}): "
                    f"{failure.title}\n{failure.message}\n{case.as_curl_command()}\n"
                    f"{response and response.status_code} {response and response.text[:300]}"
                )

    run()


@pytest.mark.parametrize("role", TRIED)
@override_settings(SKAM_API_WRITE_RATE="1000000/minute")
def test_the_api_answers_as_its_schema_says(role: str, world: dict[str, User], db: None) -> None:
    username = ROLES[role]
    headers = {}
    if username is not None:
        _token, key = AuthToken.objects.create(user=world[username])
        headers["Authorization"] = f"Token {key}"
    figures = Figures()
    started = time.monotonic()
    # As Django's test client does: a request must not close the connection that holds the
    # test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with time_machine.travel(FROZEN_AT):
            for result in api_schema().get_all_operations():
                operation = result.ok()
                if (operation.method.upper(), operation.path) in NOT_TRIED:
                    continue
                if PATHS and not operation.path.startswith(PATHS):
                    continue
                figures.operations += 1
                _try(operation, headers, figures)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    print(figures.line(role, time.monotonic() - started))
    reported = [
        f"[{kind}] {text}" for kind, texts in figures.failures.items() for text in texts[:REPORTED]
    ]
    assert not figures.failures, "\n\n".join(reported)
