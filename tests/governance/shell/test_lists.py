"""The shell's lists: exception requests and incidents on their pages and over the API, and the
API's lists of budgets, spending, mandates and department requests — what each filter does,
what a value it cannot read gets, where each page opens, and what each page costs."""

from __future__ import annotations

import datetime
import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Client, User
from accounts.periods import quarter_start
from governance.models import (
    Budget,
    CommitteeMember,
    DepartmentObligation,
    EscalationTier,
    ExceptionRequest,
    Incident,
    IncidentState,
    Mandate,
    MandateAccount,
    SituationType,
)
from governance.shell.budgets import budget_spend
from governance.shell.departments import department_request
from governance.shell.exception_requests import exception_file
from governance.shell.incidents import incident_declare
from governance.shell.mandates import mandate_adopt
from tests.factories import UserFactory
from tests.queries import SIGN_IN_QUERIES

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
NEXT_PAGE = re.compile(r'<a href="(\?[^"]*)" rel="next"')
CURRENT_TAB = re.compile(r'<a href="\?state=(\w+)" aria-current="page">')


@pytest.fixture
def shell(kam: User, member: User, account_of_kam: Client) -> Mandate:
    """The member is head of KAM, who decides every exception; kam's mandate covers one
    account."""
    EscalationTier.objects.create(order=1, up_to_deal_value=None, approver="head_of_kam")
    CommitteeMember.objects.create(user=member, committee_role="head_of_kam", active_from=TODAY)
    mandate = Mandate.objects.create(
        kam=kam,
        title="Mandate",
        valid_from=TODAY - datetime.timedelta(days=30),
        max_discount_percent=Decimal(5),
        budget_spend_without_approval=Decimal(10_000),
    )
    MandateAccount.objects.create(mandate=mandate, client=account_of_kam)
    return mandate_adopt(mandate=mandate)


@pytest.fixture
def situation(db: None) -> SituationType:
    return SituationType.objects.create(
        name="Quality failure",
        procedure="Call the client",
        owner=UserFactory(username="quality.head"),
        response_hours=4,
    )


def requests_in(states: dict[str, int], kam: User, client: Client) -> dict[str, set[int]]:
    """Exception requests of kam's in each state: their ids by state."""
    made: dict[str, set[int]] = {}
    for state, count in states.items():
        for _ in range(count):
            request = exception_file(
                kam=kam,
                client_id=client.pk,
                asked={"discount_percent": Decimal(9)},
                justification="Tender",
            )
            made.setdefault(state, set()).add(request.pk)
        ExceptionRequest.objects.filter(pk__in=made[state]).update(state=state)
    return made


def incidents_in(states: dict[str, int], kam: User, client: Client, situation: SituationType):
    made: dict[str, set[int]] = {}
    for state, count in states.items():
        for _ in range(count):
            incident = incident_declare(
                kam=kam, client_id=client.pk, situation=situation, description="Defects"
            )
            made.setdefault(state, set()).add(incident.pk)
        resolution = "Replaced the batch" if state == IncidentState.CLOSED else ""
        Incident.objects.filter(pk__in=made[state]).update(state=state, resolution=resolution)
    return made


def api_as(user: User) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def listed(api: APIClient, url: str, params: dict | None = None) -> set[int]:
    response = api.get(url, params or {})
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def ids_on(page: str, pattern: str) -> set[int]:
    return {int(pk) for pk in re.findall(pattern, page)}


# Exception requests: the page -----------------------------------------------------------------


def exception_rows(page: str) -> int:
    table = page.split('data-testid="exceptions"')
    return table[1].split("</table>")[0].count("<tr>") - 1 if len(table) > 1 else 0


def test_the_exceptions_page_opens_on_the_requests_waiting_and_filters_by_state(
    client_as, kam: User, member: User, account_of_kam: Client, shell: Mandate
) -> None:
    requests_in({"pending": 2, "approved": 3, "withdrawn": 1}, kam, account_of_kam)
    http = client_as(member)
    url = reverse("governance:exception-list")

    opened = http.get(url).text
    approved = http.get(url, {"state": "approved"}).text

    assert exception_rows(opened) == 2
    assert CURRENT_TAB.findall(opened) == ["pending"]
    assert exception_rows(approved) == 3
    assert CURRENT_TAB.findall(approved) == ["approved"]


def test_the_exceptions_page_lists_every_request_for_a_state_it_does_not_know(
    client_as, kam: User, member: User, account_of_kam: Client, shell: Mandate
) -> None:
    requests_in({"pending": 2, "approved": 3}, kam, account_of_kam)
    http = client_as(member)
    url = reverse("governance:exception-list")

    unknown = http.get(url, {"state": "nonsense"})
    empty = http.get(url, {"state": ""})

    assert unknown.status_code == empty.status_code == 200
    assert exception_rows(unknown.text) == exception_rows(empty.text) == 5
    assert CURRENT_TAB.findall(unknown.text) == []


def test_the_exceptions_page_filters_by_client_and_an_unknown_client_has_none(
    client_as, kam: User, member: User, account_of_kam: Client, shell: Mandate
) -> None:
    requests_in({"pending": 2}, kam, account_of_kam)
    http = client_as(member)
    url = reverse("governance:exception-list")

    assert exception_rows(http.get(url, {"client": account_of_kam.pk}).text) == 2
    for unknown in ("0", "abc"):
        page = http.get(url, {"client": unknown})
        assert page.status_code == 200
        assert exception_rows(page.text) == 0


def test_the_exceptions_pages_links_keep_the_state(
    client_as, kam: User, member: User, account_of_kam: Client, shell: Mandate
) -> None:
    requests_in({"approved": 51, "pending": 1}, kam, account_of_kam)
    http = client_as(member)
    url = reverse("governance:exception-list")

    first = http.get(url, {"state": "approved"}).text
    following = http.get(url + html.unescape(NEXT_PAGE.search(first)[1])).text

    assert html.unescape(NEXT_PAGE.search(first)[1]) == "?state=approved&page=2"
    assert exception_rows(first) == 50
    assert exception_rows(following) == 1
    assert CURRENT_TAB.findall(following) == ["approved"]


def test_the_exceptions_page_costs_the_same_few_queries_however_many_requests(
    client_as,
    kam: User,
    member: User,
    account_of_kam: Client,
    shell: Mandate,
    django_assert_num_queries,
) -> None:
    http = client_as(member)
    url = reverse("governance:exception-list")
    for count in (2, 20):
        requests_in({"pending": count}, kam, account_of_kam)
        # The count and the page of requests; the tiers the user decides; the ruler in force
        # (none here), which prices the mismatch on each deal (criteria.mismatch_shares).
        with django_assert_num_queries(SIGN_IN_QUERIES + 4):
            assert http.get(url).status_code == 200


# Exception requests: the API ------------------------------------------------------------------


def test_the_api_lists_every_request_and_filters_by_state_approver_and_client(
    kam: User, member: User, account_of_kam: Client, account_of_kam2: Client, shell: Mandate
) -> None:
    made = requests_in({"pending": 2, "approved": 1}, kam, account_of_kam)
    api = api_as(member)
    url = "/api/exception-requests/"
    everything = made["pending"] | made["approved"]

    assert listed(api, url) == everything
    assert listed(api, url, {"state": "approved"}) == made["approved"]
    assert listed(api, url, {"approver": "head_of_kam"}) == everything
    assert listed(api, url, {"approver": "committee"}) == set()
    assert listed(api, url, {"client": account_of_kam.pk}) == everything
    assert listed(api, url, {"client": account_of_kam2.pk}) == set()


@pytest.mark.parametrize(
    "params",
    [{"state": "nonsense"}, {"approver": "nobody"}, {"client": "abc"}, {"client": "0"}],
)
def test_the_api_answers_a_request_filter_it_cannot_read_with_400(
    params: dict[str, str], member: User, shell: Mandate
) -> None:
    response = api_as(member).get("/api/exception-requests/", params)

    assert response.status_code == 400
    assert set(response.json()) == set(params)


# Incidents: the page --------------------------------------------------------------------------


def incident_ids(page: str) -> set[int]:
    if 'data-testid="incidents"' not in page:
        return set()
    return ids_on(page.split('data-testid="incidents"')[1], r'href="/committee/incidents/(\d+)/"')


@pytest.fixture
def incidents(kam: User, account_of_kam: Client, shell: Mandate, situation: SituationType):
    return incidents_in({"open": 2, "in_hand": 1, "closed": 2}, kam, account_of_kam, situation)


def test_the_incidents_page_opens_on_those_not_closed_and_has_tabs_for_closed_and_all(
    client_as, director: User, incidents: dict[str, set[int]]
) -> None:
    http = client_as(director)
    url = reverse("governance:incident-list")
    everything = incidents["open"] | incidents["in_hand"] | incidents["closed"]

    opened = http.get(url).text
    closed = http.get(url, {"state": "closed"}).text
    every = http.get(url, {"state": "all"}).text

    assert incident_ids(opened) == incidents["open"] | incidents["in_hand"]
    assert CURRENT_TAB.findall(opened) == ["active"]
    assert incident_ids(closed) == incidents["closed"]
    assert CURRENT_TAB.findall(closed) == ["closed"]
    assert incident_ids(every) == everything
    assert CURRENT_TAB.findall(every) == ["all"]


def test_the_incidents_page_shows_all_under_its_tab_for_a_state_it_does_not_know(
    client_as, director: User, incidents: dict[str, set[int]]
) -> None:
    http = client_as(director)
    url = reverse("governance:incident-list")

    page = http.get(url, {"state": "nonsense"})

    assert page.status_code == 200
    assert incident_ids(page.text) == set().union(*incidents.values())
    assert CURRENT_TAB.findall(page.text) == ["all"]


def test_the_incidents_page_filters_by_one_state_as_the_api_does(
    client_as, director: User, incidents: dict[str, set[int]]
) -> None:
    page = client_as(director).get(reverse("governance:incident-list"), {"state": "in_hand"})

    assert incident_ids(page.text) == incidents["in_hand"]
    assert CURRENT_TAB.findall(page.text) == []


def test_the_incidents_pages_links_keep_the_tab(
    client_as,
    director: User,
    kam: User,
    account_of_kam: Client,
    shell: Mandate,
    situation: SituationType,
) -> None:
    made = incidents_in({"closed": 26, "open": 1}, kam, account_of_kam, situation)
    http = client_as(director)
    url = reverse("governance:incident-list")

    first = http.get(url, {"state": "closed"}).text
    following = http.get(url + html.unescape(NEXT_PAGE.search(first)[1])).text

    assert html.unescape(NEXT_PAGE.search(first)[1]) == "?state=closed&page=2"
    assert incident_ids(first) | incident_ids(following) == made["closed"]
    assert len(incident_ids(following)) == 1


def test_the_incidents_page_costs_the_same_few_queries_however_many_incidents(
    client_as,
    director: User,
    kam: User,
    account_of_kam: Client,
    shell: Mandate,
    situation: SituationType,
    django_assert_num_queries,
) -> None:
    http = client_as(director)
    url = reverse("governance:incident-list")
    for count in (2, 20):
        incidents_in({"open": count}, kam, account_of_kam, situation)
        # The count and the page of incidents.
        with django_assert_num_queries(SIGN_IN_QUERIES + 2):
            assert http.get(url).status_code == 200


# Incidents: the API ---------------------------------------------------------------------------


def test_the_api_lists_every_incident_and_filters_by_state_and_tab(
    director: User, incidents: dict[str, set[int]], situation: SituationType
) -> None:
    api = api_as(director)
    url = "/api/incidents/"
    everything = set().union(*incidents.values())

    assert listed(api, url) == everything
    assert listed(api, url, {"state": "closed"}) == incidents["closed"]
    assert listed(api, url, {"state": "open"}) == incidents["open"]
    assert listed(api, url, {"state": "active"}) == incidents["open"] | incidents["in_hand"]
    assert listed(api, url, {"state": "all"}) == everything
    assert listed(api, url, {"situation": situation.pk}) == everything


@pytest.mark.parametrize("params", [{"state": "nonsense"}, {"situation": "0"}, {"client": "abc"}])
def test_the_api_answers_an_incident_filter_it_cannot_read_with_400(
    params: dict[str, str], director: User, incidents: dict[str, set[int]]
) -> None:
    response = api_as(director).get("/api/incidents/", params)

    assert response.status_code == 400
    assert set(response.json()) == set(params)


# The API's other lists of the shell -----------------------------------------------------------


@pytest.fixture
def spent(kam: User, account_of_kam: Client, shell: Mandate) -> dict[str, int]:
    budget = Budget.objects.create(
        client=account_of_kam, period=quarter_start(TODAY), allocated=Decimal(5000)
    )
    Budget.objects.create(
        client=account_of_kam,
        period=quarter_start(TODAY - datetime.timedelta(days=100)),
        allocated=Decimal(1000),
    )
    obligation = DepartmentObligation.objects.create(
        department="logistics", title="Shipment", owner=UserFactory(), response_hours=24
    )
    return {
        "budget": budget.pk,
        "spend": budget_spend(
            kam=kam,
            budget=budget,
            amount=Decimal(100),
            category="travel",
            spent_on=TODAY,
            description="Train",
        ).pk,
        "obligation": obligation.pk,
        "deprequest": department_request(
            kam=kam, obligation=obligation, client_id=account_of_kam.pk, text="Ship"
        ).pk,
    }


def test_the_apis_other_lists_filter_by_what_they_always_have(
    director: User, kam: User, account_of_kam: Client, shell: Mandate, spent: dict[str, int]
) -> None:
    api = api_as(director)

    assert listed(api, "/api/budgets/", {"period": quarter_start(TODAY)}) == {spent["budget"]}
    assert len(listed(api, "/api/budgets/", {"client": account_of_kam.pk})) == 2
    assert listed(api, "/api/spending/", {"budget": spent["budget"]}) == {spent["spend"]}
    assert listed(api, "/api/spending/", {"category": "events"}) == set()
    assert listed(api, "/api/mandates/", {"kam": kam.pk, "status": "in_force"}) == {shell.pk}
    assert listed(api, "/api/mandates/", {"status": "draft"}) == set()
    assert listed(api, "/api/department-requests/", {"obligation": spent["obligation"]}) == {
        spent["deprequest"]
    }


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/budgets/", {"period": "not-a-date"}),
        ("/api/budgets/", {"client": "abc"}),
        ("/api/spending/", {"category": "nonsense"}),
        ("/api/mandates/", {"status": "nonsense"}),
        ("/api/mandates/", {"kam": "0"}),
        ("/api/department-requests/", {"obligation": "abc"}),
    ],
)
def test_the_apis_other_lists_answer_a_filter_they_cannot_read_with_400(
    url: str, params: dict[str, str], director: User, spent: dict[str, int]
) -> None:
    response = api_as(director).get(url, params)

    assert response.status_code == 400
    assert set(response.json()) == set(params)
