"""The new-proposal flow: the question first, then only what it needs; a client is found by a
part of its name, with its coverage, and the ruler's route is told before anything is typed
and enforced when the form is sent."""

from __future__ import annotations

import datetime
import html
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Client, User
from criteria.evaluation import run_all_chunks, run_start
from criteria.models import NeedCoverage, RulerStatus, RulerVersion
from governance.committee.proposing import QUESTION_FIELDS, QUESTIONS
from governance.models import (
    CommitteeMember,
    CommitteeRole,
    Mandate,
    Proposal,
    ProposalState,
    ProposalType,
)
from governance.picker import PICKER_LIMIT
from tests.factories import (
    ClientFactory,
    NeedFactory,
    PolicyFactory,
    USPFactory,
    meets_the_ruler,
)
from tests.queries import SIGN_IN_QUERIES

pytestmark = pytest.mark.django_db

DEADLINE = (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")


def question_url(question: str) -> str:
    return reverse("governance:proposal-new-question", args=[question])


def fails_the_ruler(client: Client) -> None:
    """A need covered half: 50 % against the 75 % threshold."""
    need = NeedFactory(client=client, name="24-hour delivery", weight=5)
    NeedCoverage.objects.create(need=need, usp=USPFactory(name="Next-day"), degree=Decimal("0.5"))


@pytest.fixture
def world(chair: User, member: User) -> dict[str, Client]:
    """A committee, a ruler in force, and clients measured by a finished run: one that meets
    the ruler, one that fails it, and a key client."""
    for user, is_chair in ((chair, True), (member, False)):
        CommitteeMember.objects.create(
            user=user,
            committee_role=CommitteeRole.SALES_DIRECTOR,
            is_chair=is_chair,
            active_from=datetime.date(2025, 1, 1),
        )
    RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    volga = ClientFactory(name="Volga Steel")
    meets_the_ruler(volga)
    ural = ClientFactory(name="Ural Pipes")
    fails_the_ruler(ural)
    kama = ClientFactory(name="Kama Trucks", is_key=True)
    meets_the_ruler(kama)
    run_all_chunks(run=run_start(as_of=timezone.localdate()))
    return {"meets": volga, "fails": ural, "key": kama}


# The first step ------------------------------------------------------------------------------


def test_the_first_step_offers_every_question_with_a_line_of_explanation(client_as, chair) -> None:
    page = client_as(chair).get(reverse("governance:proposal-new")).content.decode()

    for question in QUESTIONS.values():
        assert html.escape(str(question.label)) in page
        assert html.escape(str(question.explanation)) in page
    for question in set(QUESTION_FIELDS) - {ProposalType.GRANT_MANDATE}:
        assert question_url(question) in page
    # A mandate is drafted, compared and proposed from the mandates' own page.
    drafts = reverse("governance:mandate-drafts")
    assert f'href="{drafts}" data-testid="question-grant_mandate"' in page


def test_only_the_committee_proposes(client_as, director, kam, administrator) -> None:
    for user in (director, kam, administrator):
        assert client_as(user).get(question_url("grant_key")).status_code == 403
        assert client_as(user).get(question_url("grant_key"), {"q": "Vol"}).status_code == 403


def test_a_form_sent_without_its_question_is_a_400(client_as, chair) -> None:
    answer = client_as(chair).post(reverse("governance:proposal-new"), {"title": "Something"})
    assert answer.status_code == 400
    assert not Proposal.objects.exists()


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({}, 404),  # no such question (below)
        ({"client": "abc"}, 400),
        ({"client": "٣"}, 400),  # a digit, not an ASCII one
        ({"client": "9" * 30}, 400),
        ({"client": "999999"}, 404),
        ({"q": "x" * 201}, 400),
    ],
)
def test_bad_input_is_a_clear_4xx(client_as, chair, query, status) -> None:
    url = question_url("grant_key") if query else question_url("make_everyone_key")
    answer = client_as(chair).get(url, query)
    assert answer.status_code == status


# Each question asks only for what it needs ---------------------------------------------------


@pytest.mark.parametrize("question", sorted(QUESTION_FIELDS))
def test_each_question_asks_only_for_its_own_fields(client_as, chair, world, question) -> None:
    query = {"client": world["meets"].pk} if QUESTIONS[question].is_about_a_client else {}
    if question == ProposalType.REVOKE_KEY:
        query = {"client": world["key"].pk}
    answer = client_as(chair).get(question_url(question), query)

    assert answer.status_code == 200
    assert set(answer.context["form"].fields) == {
        *QUESTION_FIELDS[question],
        "title",
        "rationale",
        "deadline",
    }
    page = answer.content.decode()
    for absent, label in (("ruler", "Ruler version to adopt"), ("policy", "Policy version")):
        if absent not in QUESTION_FIELDS[question]:
            assert label not in page


def test_a_client_question_shows_the_form_only_once_a_client_is_chosen(
    client_as, chair, world
) -> None:
    http = client_as(chair)
    assert 'data-testid="proposal-form"' not in http.get(question_url("grant_key")).text
    chosen = http.get(question_url("grant_key"), {"client": world["meets"].pk}).text
    assert 'data-testid="proposal-form"' in chosen
    assert f'name="client" value="{world["meets"].pk}"' in chosen


# The picker -----------------------------------------------------------------------------------


def test_the_picker_finds_a_client_by_part_of_its_name_with_its_coverage(
    client_as, chair, world
) -> None:
    answer = client_as(chair).get(question_url("grant_key"), {"q": "olga"})

    rows = answer.context["picker"].rows
    assert [row.client for row in rows] == [world["meets"]]
    assert rows[0].coverage_percent == Decimal("100.0")
    assert rows[0].meets_ruler is True
    page = answer.content.decode()
    assert "Coverage (threshold 75.0 %)" in page
    assert "100.0 %" in page
    assert f"?client={world['meets'].pk}" in page


def test_the_picker_tells_the_route_for_a_client_that_fails_the_ruler(
    client_as, chair, world
) -> None:
    page = client_as(chair).get(question_url("grant_key"), {"q": "Ural"}).content.decode()

    assert "50.0 %" in page
    assert "does not meet the ruler" in page
    bet = f"{question_url('strategic_bet')}?client={world['fails'].pk}"
    assert f'<a href="{bet}">only as a strategic bet</a>' in page
    assert f"{question_url('grant_key')}?client={world['fails'].pk}" not in page


def test_the_picker_lists_the_clients_the_question_can_be_about(client_as, chair, world) -> None:
    http = client_as(chair)

    def listed(question: str) -> set[Client]:
        return {row.client for row in http.get(question_url(question)).context["picker"].rows}

    assert listed("grant_key") == {world["meets"], world["fails"]}
    assert listed("revoke_key") == {world["key"]}
    assert listed("strategic_bet") == {world["meets"], world["fails"], world["key"]}


def test_the_picker_answers_htmx_with_its_results_alone(client_as, chair, world) -> None:
    answer = client_as(chair).get(question_url("grant_key"), {"q": "Volga"}, HTTP_HX_REQUEST="true")

    text = answer.content.decode()
    assert text.lstrip().startswith('<div id="picker-results"')
    assert "Volga Steel" in text
    assert f'href="{question_url("grant_key")}?client={world["meets"].pk}"' in text
    assert "<html" not in text
    assert "HX-Request" in answer["Vary"]


def test_the_picker_shows_a_proposal_already_before_the_committee(client_as, chair, world) -> None:
    open_one = Proposal.objects.create(
        type=ProposalType.GRANT_KEY,
        title="Key for Volga",
        rationale="Why",
        client=world["meets"],
        state=ProposalState.OPEN,
        proposed_by=chair,
    )
    http = client_as(chair)
    page = http.get(question_url("grant_key"), {"q": "Volga"}).text
    assert f'<a href="{open_one.get_absolute_url()}">already before the committee</a>' in page
    chosen = http.get(question_url("grant_key"), {"client": world["meets"].pk}).text
    assert "is already before the committee" in chosen
    assert 'data-testid="proposal-form"' not in chosen


def test_the_picker_search_costs_the_same_few_queries_for_many_clients(
    client_as, chair, world, django_assert_num_queries
) -> None:
    http = client_as(chair)
    # Warm: the session and the content types the permission check caches.
    http.get(question_url("grant_key"), {"q": "Client"})
    # The ruler in force; whether a name holds the text; the clients with their verdicts.
    expected = SIGN_IN_QUERIES + 3
    with django_assert_num_queries(expected):
        assert http.get(question_url("grant_key"), {"q": "Client"}).status_code == 200
    for _number in range(3 * PICKER_LIMIT):
        meets_the_ruler(ClientFactory())
    run_all_chunks(run=run_start(as_of=timezone.localdate()))
    with django_assert_num_queries(expected):
        answer = http.get(question_url("grant_key"), {"q": "Client"}, HTTP_HX_REQUEST="true")
    results = answer.content.decode()
    assert results.count('data-testid="picker-row"') == PICKER_LIMIT
    assert "type more of the name" in results


def test_the_picker_reads_a_nul_in_its_search_as_nothing(client_as, chair, world) -> None:
    answer = client_as(chair).get(question_url("grant_key"), {"q": "Cli\x00ent"})
    assert answer.status_code == 200


# The route, told and enforced -----------------------------------------------------------------


def test_a_failing_client_chosen_for_key_status_is_sent_to_a_strategic_bet(
    client_as, chair, world
) -> None:
    ural = world["fails"]
    http = client_as(chair)
    page = http.get(question_url("grant_key"), {"client": ural.pk}).text

    assert "It can be proposed only as a strategic bet" in page
    assert f"{question_url('strategic_bet')}?client={ural.pk}" in page
    assert 'data-testid="proposal-form"' not in page

    # Sent anyway, the service refuses it: nothing is kept.
    answer = http.post(
        question_url("grant_key"),
        {"client": ural.pk, "title": "Key", "rationale": "Why", "deadline": DEADLINE},
    )
    assert answer.status_code == 200
    assert "It can be proposed only as a strategic bet" in answer.text
    assert not Proposal.objects.exists()


def test_a_client_that_meets_the_ruler_is_not_proposed_as_a_bet(client_as, chair, world) -> None:
    page = client_as(chair).get(question_url("strategic_bet"), {"client": world["meets"].pk}).text
    assert "meets the ruler: propose key status rather than a strategic bet" in page
    assert f"{question_url('grant_key')}?client={world['meets'].pk}" in page


def test_revoking_names_a_key_client(client_as, chair, world) -> None:
    http = client_as(chair)
    assert "This client is not a key client." in (
        http.get(question_url("revoke_key"), {"client": world["meets"].pk}).text
    )
    answer = http.post(
        question_url("revoke_key"),
        {"client": world["key"].pk, "title": "End it", "rationale": "Why", "deadline": DEADLINE},
    )
    assert answer.status_code == 302
    assert Proposal.objects.get().type == ProposalType.REVOKE_KEY


def test_a_strategic_bet_needs_its_review_date_and_then_opens(client_as, chair, world) -> None:
    http = client_as(chair)
    data = {"client": world["fails"].pk, "title": "Bet", "rationale": "Why", "deadline": DEADLINE}
    refused = http.post(question_url("strategic_bet"), data)
    assert refused.status_code == 200
    assert "review_date" in refused.context["form"].errors
    assert not Proposal.objects.exists()

    review = (timezone.localdate() + datetime.timedelta(days=180)).isoformat()
    answer = http.post(question_url("strategic_bet"), {**data, "review_date": review})

    proposal = Proposal.objects.get()
    assert answer.url == proposal.get_absolute_url()
    assert (proposal.type, proposal.client, proposal.state) == (
        ProposalType.STRATEGIC_BET,
        world["fails"],
        ProposalState.OPEN,
    )


def test_a_client_question_sent_without_a_client_says_to_choose_one(client_as, chair) -> None:
    answer = client_as(chair).post(
        question_url("grant_key"), {"title": "Key", "rationale": "Why", "deadline": DEADLINE}
    )
    assert answer.status_code == 200
    assert "Choose the client the proposal is about." in answer.text


def test_a_policy_question_names_a_draft_and_ignores_a_client(client_as, chair, world) -> None:
    draft = PolicyFactory()
    answer = client_as(chair).post(
        question_url("adopt_policy"),
        {
            "policy": draft.pk,
            "client": world["meets"].pk,  # not this question's: dropped
            "title": "New policy",
            "rationale": "Why",
            "deadline": DEADLINE,
        },
    )
    assert answer.status_code == 302
    proposal = Proposal.objects.get()
    assert (proposal.policy, proposal.client) == (draft, None)


# The suggested title --------------------------------------------------------------------------


def test_the_title_is_suggested_from_the_question_and_the_client(client_as, chair, world) -> None:
    http = client_as(chair)
    form = http.get(question_url("strategic_bet"), {"client": world["fails"].pk}).context["form"]
    assert form["title"].value() == "Strategic bet: Ural Pipes"

    http.cookies["django_language"] = "ru"
    form = http.get(question_url("strategic_bet"), {"client": world["fails"].pk}).context["form"]
    assert form["title"].value() == "Стратегическая ставка: Ural Pipes"


def test_the_title_is_suggested_for_a_pre_chosen_mandate(client_as, chair, kam) -> None:
    draft = Mandate.objects.create(
        kam=kam, title="Key accounts 2027", valid_from=datetime.date(2027, 1, 1)
    )
    form = client_as(chair).get(question_url("grant_mandate"), {"mandate": draft.pk})
    assert form.context["form"]["title"].value() == f"Grant or change a mandate: {draft}"
    # A mandate link with a value the field cannot read suggests nothing, and does not fail.
    form = client_as(chair).get(question_url("grant_mandate"), {"mandate": "x"})
    assert form.status_code == 200
    assert form.context["form"]["title"].value() == ""


# The scorecard's entry points -----------------------------------------------------------------


def test_the_scorecard_proposes_the_route_the_ruler_leaves_open(client_as, chair, world) -> None:
    http = client_as(chair)

    def page(client: Client) -> str:
        return http.get(reverse("criteria:scorecard", args=[client.pk])).text

    assert f"{question_url('grant_key')}?client={world['meets'].pk}" in page(world["meets"])
    failing = page(world["fails"])
    assert f"{question_url('strategic_bet')}?client={world['fails'].pk}" in failing
    assert question_url("grant_key") not in failing
    assert f"{question_url('revoke_key')}?client={world['key'].pk}" in page(world["key"])


def test_with_no_ruler_in_force_nothing_steers_the_route(client_as, chair) -> None:
    volga = ClientFactory(name="Volga Steel")
    page = client_as(chair).get(question_url("grant_key"), {"client": volga.pk}).text
    assert "No ruler is in force: nothing steers the route." in page
    assert 'data-testid="proposal-form"' in page
    assert 'data-testid="route-ok"' not in page
