"""A KAM checks a deal past the mandate, asks for an exception, the chair approves it, and the
KAM sees it approved after a reload; a KAM declares an incident, its owner closes it, and the
KAM sees the resolution after a reload."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.models import Client
from accounts.roles import Role
from criteria.evaluation import run_all_chunks, run_start
from criteria.models import RulerStatus, RulerVersion
from governance.models import (
    Approver,
    CommitteeMember,
    EscalationTier,
    Mandate,
    MandateAccount,
    SituationType,
)
from governance.shell.exception_requests import exception_file
from governance.shell.mandates import mandate_adopt
from tests.browser.conftest import TIMEOUT_MS, VIEWPORT, login
from tests.factories import UserFactory, meets_the_ruler

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mandate(kam, chair, account_of_kam):
    EscalationTier.objects.create(order=1, up_to_deal_value=None, approver=Approver.HEAD_OF_KAM)
    CommitteeMember.objects.create(
        user=chair,
        committee_role="executive_director",
        is_chair=True,
        active_from=datetime.date(2025, 1, 1),
    )
    mandate = Mandate.objects.create(
        kam=kam,
        title="Key accounts",
        valid_from=datetime.date(2025, 1, 1),
        max_discount_percent=Decimal(7),
    )
    MandateAccount.objects.create(mandate=mandate, client=account_of_kam)
    return mandate_adopt(mandate=mandate)


def test_kam_files_an_exception_and_sees_it_approved(
    browser: Browser, page: Page, live_server, mandate, account_of_kam
) -> None:
    login(page, live_server, "kam")
    page.get_by_role("link", name="My mandate").click()
    page.get_by_label("Discount, %").fill("9")
    page.get_by_role("button", name="Check", exact=True).click()
    result = page.get_by_test_id("check-result")
    expect(result).to_contain_text("Past your mandate")
    expect(result).to_contain_text("Discount, %: asked 9, allowed 7")
    page.get_by_label("Why the deal is worth an exception").fill("Three-year contract")
    page.get_by_role("button", name="Ask for an exception").click()
    expect(page.get_by_test_id("exception-state")).to_have_text("Waiting for a decision")

    other = browser.new_context(base_url=live_server.url, locale="en-US", viewport=VIEWPORT)
    other.set_default_timeout(TIMEOUT_MS)
    chair_page = other.new_page()
    login(chair_page, live_server, "chair")
    chair_page.get_by_role("link", name="Exceptions").click()
    expect(chair_page.get_by_test_id("exceptions")).to_contain_text(account_of_kam.name)
    chair_page.get_by_label("Comment").fill("Worth it for three years")
    chair_page.get_by_role("button", name="Approve").click()
    expect(chair_page.get_by_text("Decided.")).to_be_visible()
    other.close()

    page.reload()
    expect(page.get_by_test_id("exception-state")).to_have_text(
        "Approved: Worth it for three years"
    )


def test_kam_declares_an_incident_the_owner_closes_it_and_the_kam_sees_it_closed(
    browser: Browser, page: Page, live_server, mandate, account_of_kam
) -> None:
    owner = UserFactory(username="quality.head")
    SituationType.objects.create(
        name="Quality failure",
        procedure="Call the client's quality lead within the hour.",
        owner=owner,
        response_hours=4,
    )
    login(page, live_server, "kam")
    page.get_by_role("link", name="My mandate").click()
    page.get_by_role("link", name="Declare an incident").click()
    expect(page.get_by_text("Call the client's quality lead within the hour.")).to_be_visible()
    page.get_by_label("Situation").select_option(label="Quality failure")
    page.get_by_label("What happened").fill("Leaking seals in Tuesday's delivery")
    page.get_by_role("button", name="Declare", exact=True).click()
    expect(page.get_by_text("Incident declared")).to_be_visible()
    expect(page.get_by_test_id("incident-state")).to_have_text("Declared")

    other = browser.new_context(base_url=live_server.url, locale="en-US", viewport=VIEWPORT)
    other.set_default_timeout(TIMEOUT_MS)
    owner_page = other.new_page()
    login(owner_page, live_server, "quality.head")
    owner_page.goto(f"{live_server.url}/committee/incidents/")
    owner_page.get_by_test_id("incidents").get_by_role("link").first.click()
    owner_page.get_by_role("button", name="Take in hand").click()
    expect(owner_page.get_by_test_id("incident-state")).to_have_text("In hand")
    owner_page.get_by_label("How it was resolved").fill("Batch replaced on Wednesday")
    owner_page.get_by_role("button", name="Close the incident").click()
    expect(owner_page.get_by_test_id("resolution")).to_have_text("Batch replaced on Wednesday")
    other.close()

    page.reload()
    expect(page.get_by_test_id("incident-state")).to_have_text("Closed")
    expect(page.get_by_test_id("resolution")).to_have_text("Batch replaced on Wednesday")


def test_a_member_away_names_a_deputy_who_decides_and_the_kam_sees_it_after_reload(
    browser: Browser, page: Page, live_server, mandate, account_of_kam, member
) -> None:

    CommitteeMember.objects.create(
        user=member, committee_role="head_of_kam", active_from=datetime.date(2025, 1, 1)
    )
    # The deputy is one the tier's rule could name: another member with a seat.
    commercial = UserFactory(username="commercial", role=Role.COMMITTEE_MEMBER)
    CommitteeMember.objects.create(
        user=commercial, committee_role="commercial_director", active_from=datetime.date(2025, 1, 1)
    )
    exception_file(
        kam=mandate.kam,
        client_id=account_of_kam.pk,
        asked={"discount_percent": Decimal(9)},
        justification="Tender",
    )
    login(page, live_server, "member")
    page.goto(f"{live_server.url}/committee/absences/")
    today = datetime.date.today().isoformat()
    page.get_by_label("Away from").fill(today)
    page.get_by_label("Away until").fill(today)
    page.get_by_label("Deputy").select_option(label=str(commercial))
    page.get_by_role("button", name="Record", exact=True).click()
    expect(page.get_by_text("Absence recorded")).to_be_visible()
    expect(page.get_by_test_id("absences")).to_contain_text(str(commercial))

    other = browser.new_context(base_url=live_server.url, locale="en-US", viewport=VIEWPORT)
    other.set_default_timeout(TIMEOUT_MS)
    deputy = other.new_page()
    login(deputy, live_server, "commercial")
    deputy.get_by_role("link", name="Exceptions").click()
    deputy.get_by_label("Comment").fill("Deciding for the head of KAM")
    deputy.get_by_role("button", name="Approve").click()
    expect(deputy.get_by_text("Decided.")).to_be_visible()
    other.close()

    kam_context = browser.new_context(base_url=live_server.url, locale="en-US", viewport=VIEWPORT)
    kam_context.set_default_timeout(TIMEOUT_MS)
    kam_page = kam_context.new_page()
    login(kam_page, live_server, "kam")
    kam_page.get_by_role("link", name="My mandate").click()
    kam_page.wait_for_url("**/committee/my-mandate/")  # loaded, so the reload cannot race it
    kam_page.reload()
    expect(kam_page.get_by_test_id("exception-state")).to_have_text(
        "Approved: Deciding for the head of KAM"
    )
    kam_context.close()


def test_the_committee_allocates_a_budget_and_the_kam_sees_it_on_my_mandate(
    browser: Browser, page: Page, live_server, mandate, account_of_kam
) -> None:

    Client.objects.filter(pk=account_of_kam.pk).update(is_key=True)
    Mandate.objects.filter(pk=mandate.pk).update(budget_spend_without_approval=5000)
    login(page, live_server, "chair")
    page.goto(f"{live_server.url}/committee/budgets/")
    page.get_by_label("Key client").select_option(label=account_of_kam.name)
    page.get_by_label("Allocated").fill("250000")
    page.get_by_role("button", name="Allocate", exact=True).click()
    expect(page.get_by_text("allocated for the quarter")).to_be_visible()
    expect(page.get_by_test_id("budget-lines")).to_contain_text(account_of_kam.name)

    other = browser.new_context(base_url=live_server.url, locale="en-US", viewport=VIEWPORT)
    other.set_default_timeout(TIMEOUT_MS)
    kam_page = other.new_page()
    login(kam_page, live_server, "kam")
    kam_page.get_by_role("link", name="My mandate").click()
    expect(kam_page.get_by_test_id("budget-used")).to_have_text("0 / 250,000")
    kam_page.get_by_label("Budget", exact=True).select_option(index=1)
    kam_page.get_by_label("Amount").fill("1000")
    kam_page.get_by_label("Spent on").fill(datetime.date.today().isoformat())
    kam_page.get_by_label("What for").fill("Lunch with the buyer")
    kam_page.get_by_role("button", name="Record spending").click()
    # The form posts and comes back: reload only once it has, or the reload races the post.
    expect(kam_page.get_by_text("The spending is recorded.")).to_be_visible()
    kam_page.reload()
    expect(kam_page.get_by_test_id("budget-used")).to_have_text("1,000 / 250,000")
    other.close()


def test_the_kam_sees_who_decides_by_name_and_when_and_the_home_agrees_with_the_mandate(
    page: Page, live_server, mandate, account_of_kam, kam, chair
) -> None:
    Client.objects.filter(pk=account_of_kam.pk).update(is_key=True)
    Client.objects.create(name="Orphan Key LLC", owner_kam=kam, is_key=True)
    login(page, live_server, "kam")
    expect(page.get_by_test_id("tile-mandate-accounts")).to_contain_text("1")
    expect(page.get_by_test_id("tile-mandate-key")).to_contain_text("1")
    page.get_by_test_id("tile-key-outside").click()
    expect(page.get_by_test_id("key-outside-mandate")).to_contain_text("Orphan Key LLC")
    expect(page.get_by_test_id("seven-questions").locator("li")).to_have_count(7)
    expect(page.get_by_test_id("ladder")).to_contain_text(str(chair))

    page.get_by_label("Discount, %").fill("9")
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.get_by_test_id("escalate-people")).to_have_text(str(chair))
    expect(page.get_by_test_id("check-result").get_by_test_id("answer-due")).to_contain_text(
        "Asked now, the answer is due by"
    )
    page.get_by_label("Why the deal is worth an exception").fill("Three-year contract")
    page.get_by_role("button", name="Ask for an exception").click()
    # The post and its redirect finish before the reload, or the reload meets a page in flight.
    expect(page.get_by_text("Your exception request is filed with its approver.")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("exception-requests")).to_contain_text("Answer due")
    due = page.get_by_test_id("exception-requests").get_by_test_id("answer-due")
    expect(due).not_to_have_text("—")

    page.get_by_role("button", name="Русский").click()
    expect(page.get_by_test_id("question-6")).to_contain_text("Вопрос 6 из 7")
    expect(page.get_by_test_id("exception-requests")).to_contain_text("Ответить до")


def test_the_kam_and_the_approver_see_the_cost_of_mismatch_on_the_deal(
    browser: Browser, page: Page, live_server, mandate, account_of_kam, kam
) -> None:
    RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    meets_the_ruler(account_of_kam, degree="0.5")
    run_all_chunks(run=run_start(as_of=datetime.date.today()))
    kam_context = browser.new_context(base_url=live_server.url, locale="en-US", viewport=VIEWPORT)
    kam_context.set_default_timeout(TIMEOUT_MS)
    kam_page = kam_context.new_page()
    login(kam_page, live_server, "kam")
    kam_page.get_by_role("link", name="My mandate").click()
    kam_page.get_by_label("Discount, %").fill("9")
    kam_page.get_by_label("Deal value").fill("2000000")
    kam_page.get_by_role("button", name="Check", exact=True).click()
    expect(kam_page.get_by_test_id("check-mismatch")).to_contain_text(
        "about 100,000\N{NO-BREAK SPACE}RUB on this deal"
    )
    kam_context.close()
    exception_file(
        kam=kam,
        client_id=account_of_kam.pk,
        asked={"discount_percent": Decimal(9), "deal_value": Decimal(2_000_000)},
        justification="Three-year contract",
    )
    login(page, live_server, "chair")
    page.get_by_role("link", name="Exceptions").click()
    expect(page.get_by_test_id("deal-value")).to_have_text("2,000,000\N{NO-BREAK SPACE}RUB")
    expect(page.get_by_test_id("deal-mismatch")).to_have_text(
        "about 5.0 % of the deal — 100,000\N{NO-BREAK SPACE}RUB"
    )
    page.get_by_role("button", name="Русский").click()
    expect(page.get_by_test_id("deal-mismatch")).to_contain_text("около 5,0 % сделки")
