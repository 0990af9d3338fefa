"""The ruler in the browser: the committee edits a coverage cell and sees the client's coverage
and verdict change at once and after a reload; the scorecard explains the verdict."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from criteria.models import CriterionKind, NeedCoverage, RulerCriterion, RulerStatus, RulerVersion
from tests.browser.conftest import login
from tests.factories import FigureFactory, NeedFactory, USPFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scored_account(account_of_kam):
    ruler = RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    RulerCriterion.objects.create(
        ruler=ruler, kind=CriterionKind.POTENTIAL_REVENUE, threshold=Decimal(1000), is_gate=True
    )
    delivery = USPFactory(name="24-hour delivery")
    USPFactory(name="On-site service engineer")
    met = NeedFactory(client=account_of_kam, name="Fast delivery", weight=6)
    NeedFactory(client=account_of_kam, name="On-site engineer", weight=4)
    NeedCoverage.objects.create(need=met, usp=delivery, degree=Decimal(1))
    FigureFactory(client=account_of_kam, period=datetime.date(2026, 7, 1))
    return account_of_kam


def test_editing_a_coverage_cell_changes_coverage_and_verdict(
    page: Page, live_server, chair, scored_account
) -> None:
    login(page, live_server, "chair")
    page.goto(f"{live_server.url}/ruler/clients/{scored_account.pk}/coverage/")
    summary = page.locator("#coverage-summary")
    expect(summary.get_by_test_id("coverage")).to_have_text("60.0 %")
    expect(summary.get_by_test_id("verdict-text")).to_contain_text("Does not meet the ruler")

    cell = page.get_by_label("On-site engineer — On-site service engineer")
    cell.focus()
    cell.select_option("1")

    expect(summary.get_by_test_id("coverage")).to_have_text("100.0 %")
    expect(summary.get_by_test_id("verdict-text")).to_contain_text("Meets the ruler")
    page.reload()
    expect(page.get_by_label("On-site engineer — On-site service engineer")).to_have_value("1")
    page.goto(f"{live_server.url}/ruler/clients/{scored_account.pk}/")
    expect(page.get_by_test_id("coverage").first).to_have_text("100.0 %")
    expect(page.get_by_test_id("verdict-text").first).to_contain_text("Meets the ruler")


def test_a_kam_reads_the_scorecard_of_own_client(page: Page, live_server, kam, scored_account):
    login(page, live_server, "kam")
    page.goto(f"{live_server.url}/clients/{scored_account.pk}/")
    page.get_by_role("link", name="Scorecard").click()

    expect(page.get_by_test_id("verdict-text").first).to_contain_text(
        "covered 60.0 % of 75.0 %; unmet: On-site engineer (weight 4)"
    )
    expect(page.get_by_test_id("mismatch")).to_contain_text("Cost of the mismatch")
    page.get_by_role("link", name="Coverage of needs").click()
    expect(
        page.get_by_text("Only the committee and administrators change coverage.")
    ).to_be_visible()
    expect(page.locator("select")).to_have_count(0)


def test_what_if_shows_the_clients_a_draft_would_flip(
    page: Page, live_server, chair, scored_account, account_of_kam2
) -> None:
    """kam's client is covered 60 %; kam2's 100 %. Lowering the bar to 60 % flips kam's client
    to eligible; the page says so, and after saving a stricter bar the flip is gone."""
    quality = USPFactory(name="Certified quality")
    need = NeedFactory(client=account_of_kam2, name="Quality", weight=5)
    NeedCoverage.objects.create(need=need, usp=quality, degree=Decimal(1))
    FigureFactory(client=account_of_kam2, period=datetime.date(2026, 7, 1))
    RulerCriterion.objects.all().delete()
    login(page, live_server, "chair")
    page.goto(f"{live_server.url}/ruler/")
    page.get_by_role("button", name="Draft a new version").click()

    page.get_by_label("Coverage threshold, %").fill("60")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    what_if = page.get_by_test_id("what-if")
    expect(what_if).to_contain_text("Clients meeting the ruler: 1 now, 2 with this draft")
    expect(page.get_by_test_id("gains")).to_contain_text(scored_account.name)

    page.get_by_label("Coverage threshold, %").fill("90")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the draft").click()
    page.reload()
    expect(page.get_by_test_id("what-if")).to_contain_text("0 clients would become eligible")
    expect(page.get_by_test_id("gains")).to_have_count(0)
