"""The committee in the browser: a member votes on a grant proposal with the evidence in front
of them, another member's open page shows the new tally without a reload, the chair closes
the settled vote, the decision enters the register and the client is key."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from accounts.periods import quarter_start
from accounts.roles import Role
from criteria.evaluation import run_all_chunks, run_start
from criteria.models import NeedCoverage, RulerStatus, RulerVersion
from governance.committee.proposals import proposal_create, proposal_open, vote_cast
from governance.kpis.snapshots import snapshot_quarter
from governance.models import CommitteeMember, CommitteeRole, Mandate, PolicyStatus, Proposal
from tests.browser.conftest import TIMEOUT_MS, VIEWPORT, login
from tests.factories import (
    ClientFactory,
    NeedFactory,
    PolicyFactory,
    UserFactory,
    USPFactory,
    meets_the_ruler,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def committee(chair, member):

    third = UserFactory(username="headkam", role=Role.COMMITTEE_MEMBER)
    seats = [
        (chair, CommitteeRole.EXECUTIVE_DIRECTOR, True),
        (member, CommitteeRole.SALES_DIRECTOR, False),
        (third, CommitteeRole.HEAD_OF_KAM, False),
    ]
    for user, role, is_chair in seats:
        CommitteeMember.objects.create(
            user=user,
            committee_role=role,
            is_chair=is_chair,
            active_from=datetime.date(2025, 1, 1),
        )
    return [chair, member, third]


@pytest.fixture
def grant_proposal(committee, account_of_kam):
    RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    need = NeedFactory(client=account_of_kam, name="24-hour delivery", weight=5)
    NeedCoverage.objects.create(need=need, usp=USPFactory(name="Next-day"), degree=Decimal(1))
    proposal = proposal_create(
        type="grant_key",
        title=f"Key status for {account_of_kam.name}",
        rationale="Meets the ruler and grows fast.",
        by=committee[2],
        client=account_of_kam,
    )
    return proposal_open(proposal=proposal, deadline=timezone.now() + datetime.timedelta(days=3))


def test_a_vote_shows_in_another_members_browser_and_the_chair_closes_it(
    browser: Browser, page: Page, live_server, grant_proposal, account_of_kam
) -> None:
    other = browser.new_context(base_url=live_server.url, locale="en-US", viewport=VIEWPORT)
    other.set_default_timeout(TIMEOUT_MS)
    chair_page = other.new_page()
    login(chair_page, live_server, "chair")
    chair_page.goto(f"{live_server.url}{grant_proposal.get_absolute_url()}")
    expect(chair_page.get_by_test_id("tally-for")).to_have_text("0")
    chair_page.evaluate("window.__marker = 1")

    login(page, live_server, "member")
    page.get_by_role("link", name="Committee", exact=True).click()
    page.get_by_role("link", name=grant_proposal.title).click()
    evidence = page.get_by_test_id("evidence")
    expect(evidence).to_contain_text("Meets the ruler")
    expect(evidence).to_contain_text("24-hour delivery")
    page.get_by_label("For").check()
    page.get_by_role("button", name="Cast the vote").click()
    expect(page.get_by_text("Your vote is recorded.")).to_be_visible()
    expect(page.get_by_test_id("tally-for")).to_have_text("1")

    # The chair's page was not reloaded: the tally came by polling.
    expect(chair_page.get_by_test_id("tally-for")).to_have_text("1", timeout=8000)
    assert chair_page.evaluate("window.__marker") == 1
    expect(chair_page.get_by_test_id("still-needed")).to_contain_text(
        "1 more vote in favour adopts it"
    )

    chair_page.get_by_label("For").check()
    chair_page.get_by_role("button", name="Cast the vote").click()
    chair_page.get_by_role("button", name="Close the vote: the outcome is settled").click()
    expect(chair_page.get_by_test_id("state")).to_have_text("Adopted")

    chair_page.goto(f"{live_server.url}/committee/decisions/")
    expect(chair_page.get_by_test_id("decisions")).to_contain_text(account_of_kam.name)
    chair_page.goto(f"{live_server.url}{account_of_kam.get_absolute_url()}")
    chair_page.reload()
    expect(chair_page.get_by_role("heading", level=1)).to_contain_text("Key client")

    # Switched to Russian, the chair reads the decision and the frozen verdict in Russian.
    chair_page.goto(f"{live_server.url}/committee/decisions/")
    chair_page.locator(".lang-switch button[lang=ru]").click()
    expect(chair_page.locator("html")).to_have_attribute("lang", "ru")
    expect(chair_page.get_by_test_id("decisions")).to_contain_text(
        f"Присвоить статус ключевого: {account_of_kam.name}"
    )
    chair_page.goto(f"{live_server.url}{grant_proposal.get_absolute_url()}")
    expect(chair_page.get_by_test_id("evidence-verdict")).to_have_text(
        "Соответствует линейке: наши УТП покрывают 100,0 % взвешенных потребностей клиента "
        "(порог 75,0 %), все обязательные критерии пройдены."
    )
    other.close()


def test_the_ruler_steers_what_may_be_proposed_for_a_failing_client(
    page: Page, live_server, committee, account_of_kam
) -> None:
    RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    need = NeedFactory(client=account_of_kam, name="24-hour delivery", weight=5)
    NeedCoverage.objects.create(need=need, usp=USPFactory(name="Next-day"), degree=Decimal("0.5"))
    login(page, live_server, "member")

    page.goto(f"{live_server.url}/ruler/clients/{account_of_kam.pk}/")
    expect(page.get_by_test_id("propose-key")).to_have_count(0)
    page.get_by_test_id("propose-bet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Strategic bet")
    expect(page.get_by_test_id("chosen-client")).to_contain_text("50.0 %")

    # Asked for plain key status instead, the page says why not and leads to the bet.
    page.goto(f"{live_server.url}/committee/proposals/new/grant_key/?client={account_of_kam.pk}")
    expect(page.get_by_test_id("route-refusal")).to_contain_text(
        "It can be proposed only as a strategic bet"
    )
    expect(page.get_by_test_id("proposal-form")).to_have_count(0)
    page.get_by_test_id("route-instead").click()
    expect(page.get_by_label("Title")).to_have_value(f"Strategic bet: {account_of_kam.name}")

    page.get_by_label("Title").fill("Key status, please")
    page.get_by_label("Rationale").fill("They grow fast.")
    review = timezone.localdate() + datetime.timedelta(days=180)
    page.get_by_label("Review date").fill(review.isoformat())
    page.get_by_role("button", name="Open for votes").click()
    expect(page.get_by_text("The proposal is open for votes.")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Key status, please")).to_be_visible()
    assert Proposal.objects.get().type == "strategic_bet"


def test_after_a_grant_every_page_tells_the_new_status(
    page: Page, live_server, committee, grant_proposal, account_of_kam
) -> None:
    """The ruler flagged the client (meets, not key); the quarter in progress has its figures.
    Once the chair closes the adopted grant, no page shows the old status, in either language."""
    PolicyFactory(status=PolicyStatus.IN_FORCE, key_clients_min=1, key_clients_max=5)
    meets_the_ruler(ClientFactory(name="Already key", is_key=True))
    run_all_chunks(run=run_start(as_of=timezone.localdate()))
    quarter = quarter_start(timezone.localdate())
    snapshot_quarter(quarter)
    vote_cast(proposal=grant_proposal, member=committee[1], choice="for")
    vote_cast(proposal=grant_proposal, member=committee[2], choice="for")
    login(page, live_server, "chair")
    page.goto(f"{live_server.url}/ruler/")
    expect(page.get_by_test_id("review-items")).to_contain_text(account_of_kam.name)
    page.goto(f"{live_server.url}{grant_proposal.get_absolute_url()}")
    page.get_by_role("button", name="Close the vote: the outcome is settled").click()
    expect(page.get_by_test_id("state")).to_have_text("Adopted")

    page.goto(f"{live_server.url}/ruler/clients/{account_of_kam.pk}/")
    expect(page.get_by_text("Key client", exact=True)).to_be_visible()
    expect(page.get_by_text("Meets the ruler but is not a key client")).to_have_count(0)
    page.goto(f"{live_server.url}/ruler/")
    expect(page.get_by_test_id("review-items")).to_have_count(0)
    page.goto(f"{live_server.url}/ruler/portfolio/")
    expect(page.get_by_test_id("quadrants").locator("tr").nth(1)).to_contain_text("2")
    expect(page.get_by_test_id("disagreements")).to_have_count(0)
    page.goto(f"{live_server.url}/committee/dashboards/?period={quarter.isoformat()}")
    expect(page.get_by_test_id("headline-value").first).to_contain_text("2 ")
    page.goto(f"{live_server.url}/committee/policy/")
    expect(page.get_by_text("(now 2)")).to_be_visible()
    page.goto(f"{live_server.url}/")
    expect(page.locator(".tile", has_text="key clients")).to_contain_text("2")

    page.get_by_role("button", name="Русский").click()
    expect(page.locator(".tile", has_text="ключевых клиентов")).to_contain_text("2")
    page.goto(f"{live_server.url}/ruler/clients/{account_of_kam.pk}/")
    expect(page.get_by_text("Ключевой клиент", exact=True)).to_be_visible()
    expect(page.get_by_text("Соответствует линейке, но не ключевой клиент")).to_have_count(0)


def test_a_member_finds_what_needs_their_vote_and_votes_top_down(
    browser: Browser, page: Page, live_server, committee, grant_proposal
) -> None:
    login(page, live_server, "member")
    waiting = page.get_by_test_id("needs-my-vote")
    expect(waiting).to_contain_text("1 proposal needs your vote")
    waiting.get_by_role("link", name=grant_proposal.title).click()

    evidence = page.get_by_test_id("evidence").bounding_box()
    tally = page.locator("#tally").bounding_box()
    vote = page.locator("#h-vote").bounding_box()
    assert evidence["y"] < tally["y"] < vote["y"]
    page.get_by_label("Against").check()
    page.get_by_label("Comment").fill("Too early")
    page.get_by_role("button", name="Cast the vote").click()
    expect(page.get_by_text("Your vote is recorded.")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="You voted: Against. Change your vote")).to_be_visible()
    expect(page.get_by_role("radio", name="Against")).to_be_checked()
    expect(page.get_by_label("Comment")).to_have_value("Too early")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Committee").click()
    row = page.get_by_test_id("proposal-row").filter(has_text=grant_proposal.title)
    expect(row.get_by_test_id("my-vote")).to_have_text("Against")
    expect(row.get_by_test_id("tally")).to_have_text("0 · 1 · 0 of 3 members")
    expect(row.get_by_test_id("coverage")).to_have_text("100.0 %")
    expect(page.get_by_test_id("tab-needs-my-vote")).to_contain_text("0")

    other = browser.new_context(base_url=live_server.url, locale="en-US", viewport=VIEWPORT)
    other.set_default_timeout(TIMEOUT_MS)
    chair_page = other.new_page()
    login(chair_page, live_server, "chair")
    chair_page.goto(f"{live_server.url}{grant_proposal.get_absolute_url()}")
    expect(chair_page.get_by_test_id("close-waits")).to_contain_text(
        "2 members still to vote can change it"
    )
    chair_page.get_by_role("button", name="Русский").click()
    expect(chair_page.get_by_test_id("close-waits")).to_contain_text("Закрыть голосование можно")
    chair_page.goto(f"{live_server.url}/committee/proposals/")
    expect(chair_page.get_by_test_id("tab-needs-my-vote")).to_contain_text("Ждут моего голоса")
    other.close()


def test_a_member_proposes_a_draft_mandate_from_its_page(
    page: Page, live_server, committee, kam
) -> None:
    draft = Mandate.objects.create(
        kam=kam, title="Key accounts 2027", valid_from=datetime.date(2027, 1, 1)
    )
    login(page, live_server, "member")
    page.goto(f"{live_server.url}/committee/mandates/{draft.pk}/")
    page.get_by_test_id("propose-mandate").click()
    # The question-first flow asks only for what a mandate's question needs.
    expect(page.get_by_label("Proposal")).to_have_count(0)
    expect(page.get_by_label("Draft mandate to put in force")).to_have_value(str(draft.pk))
    page.get_by_label("Title").fill("Mandate for 2027")
    page.get_by_label("Rationale").fill("Same accounts, wider discount.")
    page.get_by_role("button", name="Open for votes").click()
    expect(page.get_by_text("The proposal is open for votes.")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Mandate for 2027")).to_be_visible()
    assert Proposal.objects.get().mandate == draft
