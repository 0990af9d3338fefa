"""Each role's home page shows what needs them: the director the quarter's KPI states (as the
portfolio's KAM table counts them) and the drift panel's own counts; a KAM their KPIs off
target. Their cost does not grow with the number of KAMs, KPIs or drifting clients."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import User
from governance.committee.meetings import agenda_build, meeting_create
from governance.committee.proposals import proposal_create, proposal_open
from governance.drift import drift_counts
from governance.kpis.snapshots import snapshot_quarter
from governance.models import ExceptionRequest, KpiTarget
from tests.factories import (
    AbsenceFactory,
    ClientFactory,
    CommitteeMemberFactory,
    ExceptionRequestFactory,
    UserFactory,
)
from tests.kpi_world import NOW, Q, World, build_world, make_mandate
from tests.queries import SIGN_IN_QUERIES

# Today is in the world's quarter (2026 Q3), a day after its snapshot.
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-09-16T12:00+03:00")]

HOME = reverse("home")


@pytest.fixture
def world(kam: User, kam2: User) -> World:
    world = build_world(kam, kam2)
    for code, target in (("revenue", 1400), ("margin", 400), ("exceptions", 0)):
        KpiTarget.objects.create(
            kpi=world.kpis[code], mandate=world.mandate, period=Q, target=target
        )
    snapshot_quarter(Q, now=NOW)
    return world


def section(page: str, testid: str) -> str:
    return re.search(rf'data-testid="{testid}".*?</section>', page, re.S)[0]


def figure(page: str, testid: str) -> int:
    return int(re.search(rf'data-testid="{testid}"><span class="tile-figure">(\d+)<', page)[1])


def test_the_directors_home_shows_the_quarters_kpi_states_and_links_the_dashboards(
    world: World, director: User, client_as
) -> None:
    page = client_as(director).get(HOME).text
    states = section(page, "home-kpi-states")
    assert "KAMs' KPIs in 2026 Q3, so far" in states
    # kam: revenue on target, margin to watch, exceptions off; six and kam2's nine untargeted.
    assert figure(states, "kpis-off-target") == 1
    assert figure(states, "kpis-watch") == 1
    assert figure(states, "kpis-on-target") == 1
    assert figure(states, "kpis-no-actual") == 0
    assert figure(states, "kpis-no-target") == 15
    kam_dashboard = reverse("governance:dashboard-kam", args=[world.kam.pk])
    off = section(page, "home-kpi-states").split('data-testid="kams-off-target"')[1]
    assert f'href="{kam_dashboard}?period=2026-07-01"' in off and "1 KPI off target" in off
    assert str(world.kam2) not in off

    http = client_as(director)
    http.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    page = http.get(HOME).text
    assert "KPI менеджеров в III кв. 2026, пока" in section(page, "home-kpi-states")


def test_the_directors_drift_block_is_the_drift_panels_counts(
    world: World, director: User, client_as
) -> None:
    """Never "Clear" while the panel lists something: the same function counts both."""
    page = client_as(director).get(HOME).text
    drift = section(page, "home-drift")
    counted = {indicator.code: indicator.count for indicator in drift_counts()}
    assert any(counted.values())
    for code, count in counted.items():
        shown = re.search(rf'data-testid="home-count-{code}">(\d+)<', drift)
        assert (int(shown[1]) if shown else 0) == count
        if count:
            assert f'href="{reverse("governance:drift")}#{code}"' in drift
    assert "is clear" not in drift


def test_a_kams_home_names_their_kpis_off_target(world: World, client_as) -> None:
    page = client_as(world.kam).get(HOME).text
    mine = section(page, "home-my-kpis")
    assert "Your KPIs in 2026 Q3" in mine
    assert "Off target</span> Exceptions: 1 — at most 0" in mine
    assert "Watch</span> Gross margin" in mine
    assert "Revenue" not in mine  # on target
    assert "home-kpi-states" not in page and "home-drift" not in page  # the director's
    page = client_as(world.kam2).get(HOME).text
    assert "None of your KPIs is off target so far." in section(page, "home-my-kpis")


def test_a_kams_home_names_the_requests_they_wait_for(
    world: World, client_as, chair: User, member: User
) -> None:
    CommitteeMemberFactory(user=chair, committee_role="executive_director", is_chair=True)
    CommitteeMemberFactory(user=member, committee_role="head_of_kam")
    ExceptionRequestFactory(mandate=world.mandate, client=world.b)  # pending, due in two days
    page = client_as(world.kam).get(HOME).text
    waiting = section(page, "home-my-requests")
    # The world's request left unanswered since July, then the new one: soonest due first.
    # Each names who must answer it now, as My mandate's ladder does, and by when.
    assert "2 of your exception requests wait for an answer" in waiting
    assert (
        f'B</a> — Head of the KAM department: <span data-testid="answering-now">{member}</span>, '
        "answer due 09/18/2026"
    ) in waiting
    # Each opens the request's own page, where the KAM sees who decides and may withdraw it.
    pending = ExceptionRequest.objects.filter(mandate=world.mandate, state="pending")
    assert pending.count() == 2
    for asked in pending:
        assert f'href="{reverse("governance:exception-detail", args=[asked.pk])}">' in waiting
    assert waiting.index("answer due 07/01/2026") < waiting.index("answer due 09/18/2026")
    page = client_as(world.kam2).get(HOME).text
    assert "Nothing you asked for is waiting." in section(page, "home-my-requests")

    # The head of KAM away today: their deputy answers, on the home page and the request's.
    AbsenceFactory(
        user=member,
        deputy=chair,
        starts_on=datetime.date(2026, 9, 14),
        ends_on=datetime.date(2026, 9, 20),
    )
    page = client_as(world.kam).get(HOME).text
    deputy = f'<span data-testid="answering-now">{chair} (deputy for {member} today)</span>'
    assert deputy in section(page, "home-my-requests")
    asked = pending.order_by("respond_by").last()
    request_page = client_as(world.kam).get(reverse("governance:exception-detail", args=[asked.pk]))
    assert deputy in request_page.text
    assert f"Head of the KAM department — {deputy}" in request_page.text.replace(
        '<span data-testid="who-answers">', ""
    )


# The committee's upcoming meetings (a page and its count), the KPI states, and one count per
# indicator of drift.
HOME_DIRECTOR_QUERIES = SIGN_IN_QUERIES + 19


def _grow(world: World) -> None:
    """More KAMs with mandates, targets and snapshots, more drifting clients."""
    for n in range(3):
        other = UserFactory(username=f"kam-extra-{n}", role="kam")
        mandate = make_mandate(other, [ClientFactory(owner_kam=other, is_key=True)])
        KpiTarget.objects.create(kpi=world.kpis["revenue"], mandate=mandate, period=Q, target=5)
    for _ in range(5):
        ClientFactory(is_key=True)
    for _ in range(2):  # more requests waiting on the KAM's home
        ExceptionRequestFactory(mandate=world.mandate, client=world.b)
    snapshot_quarter(Q, now=NOW)


def test_the_home_pages_cost_does_not_grow_with_the_company(
    world: World, director: User, client_as, django_assert_num_queries
) -> None:
    http = client_as(director)
    http.get(HOME)  # the session
    with django_assert_num_queries(HOME_DIRECTOR_QUERIES):
        assert http.get(HOME).status_code == 200
    kam_http = client_as(world.kam)
    kam_http.get(HOME)
    with django_assert_num_queries(KAM_HOME_QUERIES) as kam_queries:
        kam_http.get(HOME)
    _grow(world)
    with django_assert_num_queries(HOME_DIRECTOR_QUERIES):
        page = http.get(HOME).text
    # The new KAMs have a revenue target and no figures yet.
    assert figure(section(page, "home-kpi-states"), "kpis-no-actual") == 3
    with django_assert_num_queries(len(kam_queries)):
        kam_http.get(HOME)


# With a request waiting: the escalation ladder that names who must answer it (the tiers, the
# absences, and each step's people), however many requests wait.
KAM_HOME_QUERIES = SIGN_IN_QUERIES + 18


def test_a_committee_members_home_shows_the_meetings_ahead_and_what_needs_their_vote(
    world: World, client_as, chair: User, member: User, kam: User, account_of_kam
) -> None:
    for user, is_chair in ((chair, True), (member, False)):
        CommitteeMemberFactory(user=user, committee_role="sales_director", is_chair=is_chair)
    proposal = proposal_open(
        proposal=proposal_create(
            type="strategic_bet",
            title="Key for Volga",
            rationale="Why",
            by=chair,
            client=account_of_kam,
            review_date=datetime.date(2027, 6, 30),
        ),
        deadline=datetime.datetime(2026, 9, 18, 18, 0, tzinfo=datetime.UTC),
    )
    meeting_create(held_on=datetime.date(2026, 9, 1), title="Held already", by=chair)
    ahead = meeting_create(
        held_on=datetime.date(2026, 12, 13),
        starts_at=datetime.time(10, 0),
        title="Q4 committee",
        location="Board room",
        by=chair,
    )
    agenda_build(meeting=ahead)

    for user in (chair, member):
        page = client_as(user).get(HOME).text
        meetings = section(page, "home-meetings")
        assert "1 upcoming meeting of the committee" in meetings
        assert "Held already" not in meetings
        assert f'<a href="{ahead.get_absolute_url()}">Q4 committee</a>' in meetings
        assert '<span data-testid="meeting-when">12/13/2026, 10 a.m.</span>, Board room' in meetings
        assert f'href="{ahead.get_absolute_url()}#h-agenda">1 point on the agenda</a>' in meetings
        votes = section(page, "needs-my-vote")
        assert "1 proposal needs your vote" in votes
        assert f'href="{proposal.get_absolute_url()}">Key for Volga</a>' in votes
        assert "votes close 09/18/2026 9 p.m." in votes  # Moscow time
        assert "home-drift" in page  # the drift to decide, as the panel counts it

    http = client_as(member)
    http.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    meetings = section(http.get(HOME).text, "home-meetings")
    assert "1 предстоящее заседание комитета" in meetings
    assert "13.12.2026, 10:00" in meetings
    assert "1 пункт повестки" in meetings
    # A KAM follows no committee: no meetings, no drift on their home.
    page = client_as(kam).get(HOME).text
    assert "home-meetings" not in page and "home-drift" not in page


def test_an_approvers_home_shows_the_requests_waiting_for_their_answer(
    world: World, client_as, chair: User, member: User
) -> None:
    CommitteeMemberFactory(user=chair, committee_role="executive_director", is_chair=True)
    CommitteeMemberFactory(user=member, committee_role="head_of_kam")
    sales = UserFactory(username="sales", role="committee_member")
    CommitteeMemberFactory(user=sales, committee_role="sales_director")
    ExceptionRequestFactory(mandate=world.mandate, client=world.b)  # pending, due in two days
    pending = ExceptionRequest.objects.filter(state="pending").order_by("respond_by")
    assert {asked.approver for asked in pending} == {"head_of_kam"}

    # The head of KAM answers both, the soonest due first, each opening its page; the chair
    # decides every tier; the sales director none of these.
    for user in (member, chair):
        waiting = section(client_as(user).get(HOME).text, "home-to-decide")
        assert "2 exception requests wait for your answer" in waiting
        kam = world.kam.get_full_name()
        assert f"asked by {kam} · tier: Head of the KAM department · answer due 07/01/2026" in (
            waiting
        )
        assert waiting.index("07/01/2026") < waiting.index("09/18/2026")
        for asked in pending:
            assert f'href="{reverse("governance:exception-detail", args=[asked.pk])}">' in waiting
    assert "home-to-decide" not in client_as(sales).get(HOME).text
    assert "home-to-decide" not in client_as(world.kam).get(HOME).text

    # Away today, the head of KAM's requests wait on the deputy, the sales director.
    AbsenceFactory(
        user=member,
        deputy=sales,
        starts_on=datetime.date(2026, 9, 14),
        ends_on=datetime.date(2026, 9, 20),
    )
    http = client_as(sales)
    http.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    waiting = section(http.get(HOME).text, "home-to-decide")
    assert "2 запроса на исключение ждут вашего ответа" in waiting
    assert "ответ до 01.07.2026" in waiting

    # Answered, it leaves the home.
    pending.update(state="approved")
    assert "home-to-decide" not in client_as(member).get(HOME).text
