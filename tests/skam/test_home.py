"""Each role's home page shows what needs them: the director the quarter's KPI states (as the
portfolio's KAM table counts them) and the drift panel's own counts; a KAM their KPIs off
target. Their cost does not grow with the number of KAMs, KPIs or drifting clients."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import User
from governance.drift import drift_counts
from governance.kpis.snapshots import snapshot_quarter
from governance.models import ExceptionRequest, KpiTarget
from tests.factories import ClientFactory, ExceptionRequestFactory, UserFactory
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


def test_a_kams_home_names_the_requests_they_wait_for(world: World, client_as) -> None:
    ExceptionRequestFactory(mandate=world.mandate, client=world.b)  # pending, due in two days
    page = client_as(world.kam).get(HOME).text
    waiting = section(page, "home-my-requests")
    # The world's request left unanswered since July, then the new one: soonest due first.
    assert "2 of your exception requests wait for an answer" in waiting
    assert "B</a> — Head of the KAM department, answer due 09/18/2026" in waiting
    # Each opens the request's own page, where the KAM sees who decides and may withdraw it.
    pending = ExceptionRequest.objects.filter(mandate=world.mandate, state="pending")
    assert pending.count() == 2
    for asked in pending:
        assert f'href="{reverse("governance:exception-detail", args=[asked.pk])}">' in waiting
    assert waiting.index("answer due 07/01/2026") < waiting.index("answer due 09/18/2026")
    page = client_as(world.kam2).get(HOME).text
    assert "Nothing you asked for is waiting." in section(page, "home-my-requests")


HOME_DIRECTOR_QUERIES = SIGN_IN_QUERIES + 16


def _grow(world: World) -> None:
    """More KAMs with mandates, targets and snapshots, more drifting clients."""
    for n in range(3):
        other = UserFactory(username=f"kam-extra-{n}", role="kam")
        mandate = make_mandate(other, [ClientFactory(owner_kam=other, is_key=True)])
        KpiTarget.objects.create(kpi=world.kpis["revenue"], mandate=mandate, period=Q, target=5)
    for _ in range(5):
        ClientFactory(is_key=True)
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


KAM_HOME_QUERIES = SIGN_IN_QUERIES + 11
