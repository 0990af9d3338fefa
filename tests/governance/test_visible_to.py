"""Who sees which rows of governance: one ``<things>_visible_to(user)`` per model, asked as every
role, and the API's lists showing exactly what the selector gives (or refusing whoever it gives
nothing to)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import QuerySet
from django.test import override_settings
from django.utils import timezone
from pytest_django import DjangoDbBlocker
from rest_framework.test import APIClient

from accounts.models import Client, User
from accounts.periods import quarter_start
from governance.committee.meetings import meeting_create, meetings_visible_to
from governance.committee.proposals import (
    decisions_visible_to,
    proposal_close,
    proposal_create,
    proposal_open,
    proposals_visible_to,
    vote_cast,
)
from governance.models import (
    Budget,
    CommitteeMember,
    DepartmentObligation,
    EscalationTier,
    Mandate,
    MandateAccount,
    SituationType,
)
from governance.shell.budgets import budget_spend, budgets_visible_to, spending_visible_to
from governance.shell.departments import department_request, department_requests_visible_to
from governance.shell.exception_requests import exception_file, exception_requests_visible_to
from governance.shell.incidents import incident_declare, incidents_visible_to
from governance.shell.mandates import mandate_adopt, mandates_visible_to
from tests.factories import ClientFactory, UserFactory
from tests.test_permissions import _cast

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
FOLLOWERS = ("chair", "member", "director", "administrator")
# Besides the cast: the owner of a department obligation and of a situation of the playbook.
ROLES = (*FOLLOWERS, "kam", "kam2", "outsider", "owner")


def _mandate(kam: User, client: Client) -> Mandate:
    mandate = Mandate.objects.create(
        kam=kam,
        title=f"Mandate of {kam}",
        valid_from=TODAY - datetime.timedelta(days=30),
        max_discount_percent=Decimal(5),
        budget_spend_without_approval=Decimal(10_000),
    )
    MandateAccount.objects.create(mandate=mandate, client=client)
    return mandate_adopt(mandate=mandate)


def _decided(chair: User, member: User, client: Client) -> None:
    proposal = proposal_open(
        proposal=proposal_create(
            type="grant_key", title="Key", rationale="Why", by=chair, client=client
        ),
        deadline=timezone.now() + datetime.timedelta(days=3),
    )
    for voter in (chair, member):
        vote_cast(proposal=proposal, member=voter, choice="for")
    proposal_close(proposal=proposal, early=True)


@pytest.fixture(scope="module")
def built(
    django_db_setup: None, django_db_blocker: DjangoDbBlocker
) -> Iterator[tuple[dict[str, User], dict]]:
    """The people and their world, built once for the module rather than for each of its 145
    cells. Each test runs in a transaction of its own inside the module's and rolls back to the
    world as built; the world itself is rolled back after the module's last test."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        people = {**_cast(), "owner": UserFactory(username="logistics.head")}
        account_of_kam = ClientFactory(name="Volga Steel Works JSC", owner_kam=people["kam"])
        account_of_kam2 = ClientFactory(name="Ural Chemical Plant LLC", owner_kam=people["kam2"])
        yield people, _world(people, account_of_kam, account_of_kam2)
        transaction.set_rollback(True)


@pytest.fixture
def people(built: tuple[dict[str, User], dict], db: None) -> dict[str, User]:
    return built[0]


@pytest.fixture
def world(built: tuple[dict[str, User], dict], db: None) -> dict:
    return built[1]


def _world(people: dict[str, User], account_of_kam: Client, account_of_kam2: Client) -> dict:
    """Each KAM with a mandate in force on their account, an exception request, a budget with
    spending, a department request and an incident; two proposals of the committee, one
    decided, and a meeting."""
    chair, member = people["chair"], people["member"]
    for seat in (chair, member):
        CommitteeMember.objects.create(
            user=seat, committee_role="sales_director", active_from=TODAY, is_chair=seat == chair
        )
    EscalationTier.objects.create(order=1, up_to_deal_value=None, approver="head_of_kam")
    obligation = DepartmentObligation.objects.create(
        department="logistics", title="Urgent shipment", owner=people["owner"], response_hours=24
    )
    situation = SituationType.objects.create(
        name="Quality failure", procedure="Call", owner=people["owner"], response_hours=4
    )
    made: dict[str, dict] = {}
    for name, client in (("kam", account_of_kam), ("kam2", account_of_kam2)):
        kam = people[name]
        budget = Budget.objects.create(
            client=client, period=quarter_start(TODAY), allocated=Decimal(5000)
        )
        made[name] = {
            "mandate": _mandate(kam, client).pk,
            "exception": exception_file(
                kam=kam,
                client_id=client.pk,
                asked={"discount_percent": Decimal(9)},
                justification="Tender",
            ).pk,
            "budget": budget.pk,
            "spend": budget_spend(
                kam=kam,
                budget=budget,
                amount=Decimal(100),
                category="travel",
                spent_on=TODAY,
                description="Train",
            ).pk,
            "deprequest": department_request(
                kam=kam, obligation=obligation, client_id=client.pk, text="Ship"
            ).pk,
            "incident": incident_declare(
                kam=kam, client_id=client.pk, situation=situation, description="Defects"
            ).pk,
        }
    proposal_open(
        proposal=proposal_create(
            type="grant_key", title="Open", rationale="Why", by=chair, client=account_of_kam
        ),
        deadline=timezone.now() + datetime.timedelta(days=3),
    )
    _decided(chair, member, account_of_kam2)
    meeting_create(held_on=TODAY, title="Session", by=chair)
    return made


def _all(queryset: QuerySet) -> set[int]:
    return set(queryset.model.objects.values_list("pk", flat=True))


def _own(world: dict, role: str, key: str) -> set[int]:
    return {world[role][key]} if role in world else set()


def expected(role: str, key: str, world: dict) -> set[int] | str:
    """What ``role`` sees of ``key``: "all", or the ids of their own rows."""
    followers_see_all = {
        "proposal": ("all", set()),
        "decision": ("all", set()),
        "meeting": ("all", set()),
        # A KAM sees their own (filed, recorded, of their mandate); nobody else any.
        "exception": ("all", _own(world, role, "exception")),
        "budget": ("all", _own(world, role, "budget")),
        "spend": ("all", _own(world, role, "spend")),
        "mandate": ("all", _own(world, role, "mandate")),
        # The requests they made, or owed by an obligation they own.
        "deprequest": (
            "all",
            {world["kam"]["deprequest"], world["kam2"]["deprequest"]}
            if role == "owner"
            else _own(world, role, "deprequest"),
        ),
        # The incidents they declared or own.
        "incident": (
            "all",
            {world["kam"]["incident"], world["kam2"]["incident"]}
            if role == "owner"
            else _own(world, role, "incident"),
        ),
    }
    everyone, others = followers_see_all[key]
    return everyone if role in FOLLOWERS else others


SELECTORS: dict[str, Callable[[User], QuerySet]] = {
    "proposal": proposals_visible_to,
    "decision": decisions_visible_to,
    "meeting": meetings_visible_to,
    "exception": exception_requests_visible_to,
    "budget": budgets_visible_to,
    "spend": spending_visible_to,
    "mandate": mandates_visible_to,
    "deprequest": department_requests_visible_to,
    "incident": incidents_visible_to,
}
API_LISTS = {
    "proposal": "/api/proposals/",
    "decision": "/api/decisions/",
    "exception": "/api/exception-requests/",
    "budget": "/api/budgets/",
    "spend": "/api/spending/",
    "mandate": "/api/mandates/",
    "deprequest": "/api/department-requests/",
    "incident": "/api/incidents/",
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", SELECTORS)
def test_each_role_sees_the_rows_its_selector_gives(
    key: str, role: str, people: dict[str, User], world: dict
) -> None:
    visible = SELECTORS[key](people[role])
    wanted = expected(role, key, world)

    seen = set(visible.values_list("pk", flat=True))

    assert seen == (_all(visible) if wanted == "all" else wanted)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", API_LISTS)
def test_the_api_lists_what_the_selector_gives(
    key: str, role: str, people: dict[str, User], world: dict
) -> None:
    api = APIClient()
    api.force_authenticate(people[role])

    response = api.get(API_LISTS[key])

    visible = set(SELECTORS[key](people[role]).values_list("pk", flat=True))
    if response.status_code == 403:
        assert visible == set()
    else:
        assert response.status_code == 200
        assert {row["id"] for row in response.json()["results"]} == visible


@pytest.mark.parametrize("key", SELECTORS)
def test_someone_not_signed_in_sees_nothing(key: str, world: dict) -> None:
    # The API schema is generated for such a visitor: a selector must answer, not fail.
    assert not SELECTORS[key](AnonymousUser()).exists()
