"""A KAM checks a deal past the mandate, asks for an exception, the chair approves it, and the
KAM sees it approved after a reload; a KAM declares an incident, its owner closes it, and the
KAM sees the resolution after a reload."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from governance.mandates import mandate_adopt
from governance.models import (
    Approver,
    CommitteeMember,
    EscalationTier,
    Mandate,
    MandateAccount,
    SituationType,
)
from tests.browser.conftest import TIMEOUT_MS, VIEWPORT, login
from tests.factories import UserFactory

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
