"""Each screen as its user meets it, in English and in Russian, and after a reload: the
director's home (the quarter's KPI states, the drift panel's counts), a KAM's dashboard naming
the KPIs without a target once, the mandate draft's account picker and budgets, and revisiting
a decision through the question-based form."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from accounts.models import Client, User
from accounts.periods import next_quarter, quarter_start
from governance.committee.proposals import proposal_close, proposal_create, proposal_open, vote_cast
from governance.kpis.figures import kpi_entry_record
from governance.kpis.snapshots import snapshot_quarter
from governance.models import (
    Budget,
    CommitteeMember,
    KpiTarget,
    Mandate,
    MandateAccount,
    Proposal,
    ProposalState,
)
from governance.shell.mandates import mandate_adopt
from tests.browser.conftest import TIMEOUT_MS, VIEWPORT, login
from tests.factories import BudgetFactory, BudgetSpendFactory, ClientFactory
from tests.kpi_world import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def in_russian(page: Page) -> None:
    page.get_by_role("button", name="Русский").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")


def figure(page: Page, testid: str) -> int:
    return int(page.get_by_test_id(testid).locator(".tile-figure").inner_text())


@pytest.fixture
def world(kam: User, kam2: User, director: User) -> World:
    """The KPI world, with targets and a snapshot for today's quarter."""
    world = build_world(kam, kam2)
    today = quarter_start(timezone.localdate())
    for code, target in (("nps", 80), ("exceptions", 5)):
        KpiTarget.objects.create(
            kpi=world.kpis[code], mandate=world.mandate, period=today, target=target
        )
    snapshot_quarter(today, now=timezone.now())
    # Client satisfaction, surveyed at 40 against 80: off target.
    kpi_entry_record(
        kpi=world.kpis["nps"],
        period=today,
        kam=kam,
        client=None,
        value=Decimal(40),
        note="Survey",
        by=director,
    )
    ClientFactory(name="Orphan Key", is_key=True)  # key, no mandate covers it: drift
    return world


def russian_key_clients(count: int) -> str:
    """ "Key clients" after a figure, as Russian agrees it with the figure."""
    if count % 10 == 1 and count % 100 != 11:
        return "ключевой клиент"
    if count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14):
        return "ключевых клиента"
    return "ключевых клиентов"


def test_the_directors_home_shows_kpi_states_and_the_drift_panels_counts(
    page: Page, live_server, world
) -> None:
    login(page, live_server, "director")
    states = page.get_by_test_id("home-kpi-states")
    expect(states).to_contain_text("KAMs' KPIs in")
    off = figure(page, "kpis-off-target")
    assert off >= 1  # client satisfaction
    expect(page.get_by_test_id("kams-off-target")).to_contain_text(str(world.kam))
    drift = page.get_by_test_id("home-drift")
    outside = int(drift.get_by_test_id("home-count-outside-mandates").inner_text())
    assert outside >= 1

    # The drift block's figures are the panel's.
    drift.get_by_role("link", name="Drift: what decides itself").click()
    expect(page.get_by_test_id("count-outside-mandates")).to_have_text(str(outside))
    page.go_back()

    # The KPI tiles open the portfolio, whose KAM table counts the same.
    page.get_by_test_id("kpis-off-target").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Portfolio dashboard")
    bad = page.get_by_test_id("table-kams").locator("tbody tr td:nth-child(5)")
    assert sum(int(text.split()[0]) for text in bad.all_inner_texts()) == off

    page.goto(f"{live_server.url}/")
    page.reload()
    assert figure(page, "kpis-off-target") == off
    in_russian(page)
    expect(page.get_by_test_id("home-kpi-states")).to_contain_text("KPI менеджеров в")
    expect(page.get_by_test_id("kpis-off-target")).to_contain_text("не достига")
    expect(page.get_by_test_id("home-drift")).to_contain_text("Стихийные решения")
    page.reload()
    assert figure(page, "kpis-off-target") == off
    expect(page.get_by_test_id("home-drift")).to_contain_text(
        f"{outside} {russian_key_clients(outside)} вне действующих мандатов"
    )


def test_a_kams_dashboard_names_the_kpis_without_a_target_once(
    page: Page, live_server, world, member
) -> None:
    login(page, live_server, "member")
    page.goto(f"{live_server.url}/committee/dashboards/kam/{world.kam.pk}/")
    unaimed = page.get_by_test_id("unaimed-kpis")
    expect(unaimed).to_contain_text("No target set for: ")
    # This quarter's targets are set for client satisfaction and exceptions only.
    expect(unaimed).to_contain_text("Revenue")
    expect(unaimed).not_to_contain_text("Client satisfaction")
    expect(page.get_by_test_id("table-kpis")).not_to_contain_text("No target")
    page.reload()
    in_russian(page)
    expect(page.get_by_test_id("unaimed-kpis")).to_contain_text("Цель не задана для: ")
    page.get_by_test_id("unaimed-kpis").get_by_role("link", name="Задать цели").click()
    expect(page).to_have_url(f"{live_server.url}/committee/mandates/{world.mandate.pk}/targets/")


@pytest.fixture
def in_force(kam, chair, member, account_of_kam) -> Mandate:
    for user, is_chair in ((chair, True), (member, False)):
        CommitteeMember.objects.create(
            user=user,
            committee_role="executive_director" if is_chair else "sales_director",
            is_chair=is_chair,
            active_from=datetime.date(2025, 1, 1),
        )
    Client.objects.filter(pk=account_of_kam.pk).update(is_key=True)
    mandate = Mandate.objects.create(
        kam=kam, title="Key accounts", valid_from=datetime.date(2025, 1, 1)
    )
    MandateAccount.objects.create(mandate=mandate, client=account_of_kam)
    return mandate_adopt(mandate=mandate)


def _context_page(browser: Browser, live_server) -> Page:
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def test_the_draft_picks_accounts_by_search_and_holds_budgets_the_vote_allocates(
    browser: Browser, page: Page, live_server, in_force, kam, account_of_kam
) -> None:
    this_quarter = quarter_start(timezone.localdate())
    spent_from = BudgetFactory(client=account_of_kam, period=this_quarter, allocated=1000)
    BudgetSpendFactory(budget=spent_from, amount=Decimal(300), recorded_by=kam)
    for n in range(12):
        ClientFactory(name=f"Amur Timber {n:02d}")
    ClientFactory(name="Baltic Grain Terminal", is_key=True)
    login(page, live_server, "member")
    page.goto(f"{live_server.url}/committee/mandates/drafting/")
    page.get_by_test_id("kam-mandates").filter(has_text=str(kam)).get_by_role(
        "button", name="Draft a change"
    ).click()
    draft_url = page.url

    # The picker: a search, a page at a time, what was ticked kept across searches.
    page.get_by_label("Find the client").fill("amur")
    # The list before the search also starts with ten Amur Timbers: wait for the search's
    # own pages, or its answer may come after "Next" and put page 1 back.
    expect(
        page.get_by_test_id("account-picker-pages").get_by_role("link", name="Next")
    ).to_have_attribute("href", re.compile(r"q=amur&"))
    expect(page.get_by_test_id("account-picker-row")).to_have_count(10)
    page.get_by_role("checkbox", name="Amur Timber 03").check()
    page.get_by_test_id("account-picker-pages").get_by_role("link", name="Next").click()
    # Twelve hold "amur"; the one ticked is listed among the chosen, not again: eleven, ten
    # and one.
    expect(page.get_by_test_id("account-picker-row")).to_have_count(1)
    expect(page.get_by_test_id("account-picker-row")).to_contain_text("Amur Timber 11")
    expect(page.get_by_test_id("chosen-accounts")).to_contain_text("Amur Timber 03")
    page.get_by_label("Find the client").fill("baltic")
    row = page.get_by_test_id("account-picker-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Key client")
    page.get_by_role("checkbox", name="Baltic Grain Terminal").check()

    # A budget below what is spent is refused, with its reason.
    page.locator("#id_budgets-0-allocated").fill("200")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("300.00\u00a0RUB is spent already")).to_be_visible()
    expect(page.get_by_test_id("chosen-accounts")).to_contain_text("Baltic Grain Terminal")
    page.locator("#id_budgets-0-allocated").fill("1500")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    accounts = page.get_by_test_id("draft-accounts")
    expect(accounts).to_contain_text("Amur Timber 03")
    expect(accounts).to_contain_text("Baltic Grain Terminal")

    # After a reload, in Russian: the next quarter's budget for the new key account.
    page.reload()
    in_russian(page)
    expect(page.get_by_role("heading", name="Бюджеты в мандате")).to_be_visible()
    expect(page.locator("#id_budgets-0-allocated")).to_have_value("1500.00")
    baltic = Client.objects.get(name="Baltic Grain Terminal")
    page.locator("#id_budgets-1-client").select_option(str(baltic.pk))
    page.locator("#id_budgets-1-period").select_option(next_quarter(this_quarter).isoformat())
    page.locator("#id_budgets-1-allocated").fill("800")
    page.get_by_role("button", name="Сохранить черновик").click()
    expect(page.get_by_text("Черновик сохранён.")).to_be_visible()

    page.get_by_test_id("compare").click()
    budgets = page.get_by_test_id("compare-budgets")
    expect(budgets.locator("tr", has_text="Baltic Grain Terminal")).to_contain_text("добавлено")
    expect(budgets.locator("tr", has_text=account_of_kam.name)).to_contain_text("изменено")

    page.goto(draft_url)
    page.get_by_test_id("propose").click()
    page.locator("#id_rationale").fill("Budgets with the mandate.")
    page.locator("form button.primary").click()
    proposal = Proposal.objects.get(state=ProposalState.OPEN)
    for voter in CommitteeMember.objects.select_related("user"):
        vote_cast(proposal=proposal, member=voter.user, choice="for")
    proposal_close(proposal=proposal, early=True)
    assert Budget.objects.get(client=account_of_kam, period=this_quarter).allocated == 1500
    assert Budget.objects.get(client=baltic, period=next_quarter(this_quarter)).allocated == 800


def test_a_decision_is_revisited_through_the_question_form(
    page: Page, live_server, in_force, chair, member, account_of_kam
) -> None:
    grant = proposal_open(
        proposal=proposal_create(
            type="strategic_bet",
            title="Bet on Volga",
            rationale="Why",
            by=member,
            client=account_of_kam,
            review_date=datetime.date(2027, 6, 30),
        ),
        deadline=timezone.now() + datetime.timedelta(days=2),
    )
    for user in (chair, member):
        vote_cast(proposal=grant, member=user, choice="for")
    decision = proposal_close(proposal=grant, early=True).decision

    login(page, live_server, "chair")
    page.goto(f"{live_server.url}/committee/decisions/")
    page.get_by_role("link", name="revisit").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Revisit:")
    expect(page.get_by_test_id("revisit-questions")).to_contain_text("Strategic bet")
    expect(page.get_by_test_id("chosen-client")).to_contain_text(account_of_kam.name)
    expect(page.get_by_label("Title")).to_have_value(f"Revisit: {decision.summary}")
    expect(page.get_by_label("Review date")).to_have_count(0)  # revoking needs none

    page.get_by_test_id("revisit-questions").get_by_role("link", name="Strategic bet").click()
    expect(page.get_by_label("Review date")).to_be_visible()
    page.reload()
    in_russian(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Пересмотр:")
    page.locator("#id_rationale").fill("Renew the bet for a year.")
    page.locator("#id_review_date").fill("2027-12-31")
    page.get_by_test_id("proposal-form").locator("button.primary").click()
    expect(page.get_by_text("Голосование по предложению открыто.")).to_be_visible()
    revisit = Proposal.objects.get(supersedes=decision)
    assert revisit.type == "strategic_bet" and revisit.review_date == datetime.date(2027, 12, 31)
