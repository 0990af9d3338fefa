"""The committee's lists: the proposals and the decision register, on their pages and over the
API — what each filter does, what a value it cannot read gets, and where each page opens."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Client, User
from governance.models import Decision, Proposal, ProposalState
from tests.queries import SIGN_IN_QUERIES

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
NEXT_PAGE = re.compile(r'<a href="(\?[^"]*)" rel="next"')
CURRENT_TAB = re.compile(r'<a href="\?(?:state|type)=(\w*)[^"]*" aria-current="page">')
PROPOSAL_LINK = re.compile(r'href="/committee/proposals/(\d+)/"')


def proposals_in(
    states: dict[str, int], by: User, client: Client | None = None, *, type: str = "grant_key"
) -> dict[str, set[int]]:
    """Proposals in each state: their ids by state."""
    return {
        state: {
            Proposal.objects.create(
                type=type,
                title=f"{state} {number}",
                rationale="Why",
                client=client,
                state=state,
                proposed_by=by,
            ).pk
            for number in range(count)
        }
        for state, count in states.items()
    }


def decided(client: Client | None, by: User, count: int = 1, *, type: str = "grant_key") -> None:
    """``count`` decisions on ``client``, as adopted proposals leave them."""
    for number in range(count):
        proposal = Proposal.objects.create(
            type=type,
            title=f"{type} {number}",
            rationale="Why",
            client=client,
            state=ProposalState.ADOPTED,
            proposed_by=by,
        )
        Decision.objects.create(
            proposal=proposal,
            client=client,
            kind=type,
            subject=proposal.subject(),
            effective_date=TODAY,
        )


def rows(page: str, testid: str) -> str:
    if f'data-testid="{testid}"' not in page:
        return ""
    return page.split(f'data-testid="{testid}"')[1].split("</table>")[0]


def proposals_on(page: str) -> set[int]:
    return {int(pk) for pk in PROPOSAL_LINK.findall(rows(page, "proposals"))}


def api_as(user: User) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def listed(api: APIClient, url: str, params: dict | None = None) -> set[int]:
    response = api.get(url, params or {})
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# Proposals: the page --------------------------------------------------------------------------


@pytest.fixture
def proposals(chair: User, account_of_kam: Client) -> dict[str, set[int]]:
    return proposals_in({"open": 1, "adopted": 1, "withdrawn": 1}, chair, account_of_kam)


def test_the_proposals_page_opens_on_those_open_for_votes_and_filters_by_state(
    client_as, director: User, proposals: dict[str, set[int]]
) -> None:
    http = client_as(director)
    url = reverse("governance:proposal-list")

    opened = http.get(url).text
    adopted = http.get(url, {"state": "adopted"}).text
    every = http.get(url, {"state": "all"}).text

    assert proposals_on(opened) == proposals["open"]
    assert CURRENT_TAB.findall(opened) == ["open"]
    assert proposals_on(adopted) == proposals["adopted"]
    assert CURRENT_TAB.findall(adopted) == ["adopted"]
    assert proposals_on(every) == set().union(*proposals.values())
    assert CURRENT_TAB.findall(every) == ["all"]


@pytest.mark.parametrize("state", ["nonsense", ""])
def test_the_proposals_page_lists_every_proposal_for_a_state_it_does_not_know(
    state: str, client_as, director: User, proposals: dict[str, set[int]]
) -> None:
    page = client_as(director).get(reverse("governance:proposal-list"), {"state": state})

    assert page.status_code == 200
    assert proposals_on(page.text) == set().union(*proposals.values())
    assert CURRENT_TAB.findall(page.text) == []


def test_the_proposals_page_filters_by_client_and_an_unknown_client_has_none(
    client_as, director: User, chair: User, proposals: dict[str, set[int]], account_of_kam2
) -> None:
    other = proposals_in({"open": 1}, chair, account_of_kam2)
    http = client_as(director)
    url = reverse("governance:proposal-list")

    assert proposals_on(http.get(url, {"client": account_of_kam2.pk}).text) == other["open"]
    for unknown in ("0", "abc"):
        page = http.get(url, {"client": unknown})
        assert page.status_code == 200
        assert proposals_on(page.text) == set()


def test_the_proposals_pages_links_keep_the_state_it_opened_on(
    client_as, director: User, chair: User
) -> None:
    made = proposals_in({"open": 26, "adopted": 1}, chair)
    http = client_as(director)
    url = reverse("governance:proposal-list")

    first = http.get(url).text
    link = html.unescape(NEXT_PAGE.search(first)[1])
    following = http.get(url + link).text

    assert link == "?state=open&page=2"
    assert len(proposals_on(first)) == 25
    assert proposals_on(first) | proposals_on(following) == made["open"]


def test_the_proposals_page_costs_the_same_few_queries_however_many_proposals(
    client_as, director: User, chair: User, django_assert_num_queries
) -> None:
    http = client_as(director)
    for count in (2, 20):
        proposals_in({"open": count}, chair)
        # The count and the page of proposals with their clients and tallies, and whether
        # the reader sits on the committee today (a director does not: nothing needs their
        # vote, and nothing more is asked).
        with django_assert_num_queries(SIGN_IN_QUERIES + 3):
            assert http.get(reverse("governance:proposal-list")).status_code == 200


# Proposals: the API ---------------------------------------------------------------------------


def test_the_api_lists_every_proposal_and_filters_by_state_type_and_client(
    director: User, chair: User, proposals: dict[str, set[int]], account_of_kam: Client
) -> None:
    policy = proposals_in({"open": 1}, chair, type="adopt_policy")
    api = api_as(director)
    url = "/api/proposals/"
    everything = set().union(*proposals.values(), *policy.values())

    assert listed(api, url) == everything
    assert listed(api, url, {"state": "open"}) == proposals["open"] | policy["open"]
    assert listed(api, url, {"state": "all"}) == everything
    assert listed(api, url, {"type": "adopt_policy"}) == policy["open"]
    assert listed(api, url, {"client": account_of_kam.pk}) == set().union(*proposals.values())


@pytest.mark.parametrize(
    "params", [{"state": "nonsense"}, {"type": "nonsense"}, {"client": "abc"}, {"client": "0"}]
)
def test_the_api_answers_a_proposal_filter_it_cannot_read_with_400(
    params: dict[str, str], director: User
) -> None:
    response = api_as(director).get("/api/proposals/", params)

    assert response.status_code == 400
    assert set(response.json()) == set(params)


# The decision register: the page --------------------------------------------------------------


def test_the_registers_next_page_keeps_the_client_it_is_filtered_by(
    client_as, chair: User, account_of_kam: Client, account_of_kam2: Client
) -> None:
    decided(account_of_kam2, chair)  # the oldest: last of the unfiltered register
    decided(account_of_kam, chair, count=51)
    http = client_as(chair)
    url = reverse("governance:decision-list")

    first = http.get(url, {"client": account_of_kam.pk}).text
    following = http.get(url + html.unescape(NEXT_PAGE.search(first)[1])).text

    assert account_of_kam.name in rows(following, "decisions")
    assert account_of_kam2.name not in rows(following, "decisions")


def test_the_register_lists_every_decision_and_filters_by_type(
    client_as, director: User, chair: User, account_of_kam: Client
) -> None:
    decided(account_of_kam, chair, 2)
    decided(None, chair, 1, type="adopt_policy")
    http = client_as(director)
    url = reverse("governance:decision-list")

    every = http.get(url).text
    policies = http.get(url, {"type": "adopt_policy"}).text

    assert rows(every, "decisions").count("<tr>") == 4  # with the head's
    assert CURRENT_TAB.findall(every) == []  # "All", the first tab, has no parameter
    assert rows(policies, "decisions").count("<tr>") == 2
    assert CURRENT_TAB.findall(policies) == ["adopt_policy"]


def test_the_register_lists_every_decision_for_a_type_it_does_not_know(
    client_as, director: User, chair: User, account_of_kam: Client
) -> None:
    decided(account_of_kam, chair, 2)

    page = client_as(director).get(reverse("governance:decision-list"), {"type": "nonsense"})

    assert page.status_code == 200
    assert rows(page.text, "decisions").count("<tr>") == 3


@pytest.mark.parametrize("client", ["0", "abc"])
def test_the_register_lists_nothing_for_a_client_that_does_not_exist(
    client: str, client_as, director: User, chair: User, account_of_kam: Client
) -> None:
    decided(account_of_kam, chair, 2)

    page = client_as(director).get(reverse("governance:decision-list"), {"client": client})

    assert page.status_code == 200
    assert 'data-testid="decisions"' not in page.text


def test_the_register_costs_the_same_few_queries_however_many_decisions(
    client_as, director: User, chair: User, account_of_kam: Client, django_assert_num_queries
) -> None:
    http = client_as(director)
    for count in (2, 20):
        decided(account_of_kam, chair, count)
        # The count and the page of decisions with their clients and proposals.
        with django_assert_num_queries(SIGN_IN_QUERIES + 2):
            assert http.get(reverse("governance:decision-list")).status_code == 200


# The decision register: the API ---------------------------------------------------------------


def test_the_api_lists_every_decision_and_filters_by_client_and_type(
    director: User, chair: User, account_of_kam: Client, account_of_kam2: Client
) -> None:
    decided(account_of_kam, chair, 2)
    decided(account_of_kam2, chair, 1, type="revoke_key")
    api = api_as(director)
    url = "/api/decisions/"
    of_kam = set(Decision.objects.filter(client=account_of_kam).values_list("pk", flat=True))

    assert len(listed(api, url)) == 3
    assert listed(api, url, {"client": account_of_kam.pk}) == of_kam
    assert listed(api, url, {"type": "grant_key"}) == of_kam


@pytest.mark.parametrize("params", [{"client": "abc"}, {"client": "0"}, {"type": "nonsense"}])
def test_the_api_answers_a_decision_filter_it_cannot_read_with_400(
    params: dict[str, str], director: User
) -> None:
    response = api_as(director).get("/api/decisions/", params)

    assert response.status_code == 400
    assert set(response.json()) == set(params)
