"""An exception at the committee's tier in the browser, in English and in Russian: a member
proposes it from the request (no approve or reject offered to one person), votes; another
member votes; the chair closes the settled vote; the KAM's request page, open all along,
shows the committee's decision after a reload."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.roles import Role
from governance.committee.proposals import vote_cast
from governance.models import (
    Approver,
    CommitteeMember,
    CommitteeRole,
    EscalationTier,
    ExceptionState,
    Mandate,
    MandateAccount,
    Proposal,
    ProposalState,
)
from governance.shell.exception_requests import exception_file
from governance.shell.mandates import mandate_adopt
from tests.browser.conftest import TIMEOUT_MS, VIEWPORT
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

APPROVED = {"en": "Approved", "ru": "Одобрено"}
WAITING = {"en": "Waiting for a decision", "ru": "Ждёт решения"}


def signed_in(browser: Browser, live_server, username: str, language: str) -> Page:
    context = browser.new_context(
        base_url=live_server.url, locale=language, viewport=VIEWPORT, timezone_id="Europe/Moscow"
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("button.primary[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


@pytest.fixture
def request_for_the_committee(chair, member, kam, account_of_kam):
    third = UserFactory(username="headkam", role=Role.COMMITTEE_MEMBER)
    for user, role, is_chair in (
        (chair, CommitteeRole.EXECUTIVE_DIRECTOR, True),
        (member, CommitteeRole.SALES_DIRECTOR, False),
        (third, CommitteeRole.HEAD_OF_KAM, False),
    ):
        CommitteeMember.objects.create(
            user=user, committee_role=role, is_chair=is_chair, active_from=datetime.date(2025, 1, 1)
        )
    EscalationTier.objects.create(order=1, up_to_deal_value=None, approver=Approver.COMMITTEE)
    mandate = Mandate.objects.create(
        kam=kam, title="Mandate", valid_from=datetime.date(2025, 1, 1), max_discount_percent=7
    )
    MandateAccount.objects.create(mandate=mandate, client=account_of_kam)
    mandate_adopt(mandate=mandate)
    request = exception_file(
        kam=kam,
        client_id=account_of_kam.pk,
        asked={"discount_percent": Decimal(12)},
        justification="Three-year rail contract",
        deal="Rails 2027",
    )
    assert request.approver == Approver.COMMITTEE
    return request, third


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_committee_decides_an_exception_and_the_kam_sees_it_after_reload(
    browser: Browser, live_server, request_for_the_committee, language: str
) -> None:
    request, third = request_for_the_committee
    kam_page = signed_in(browser, live_server, "kam", language)
    kam_page.goto(f"{live_server.url}{request.get_absolute_url()}")
    expect(kam_page.get_by_test_id("exception-state")).to_have_text(WAITING[language])

    # The member is offered to propose it, not to approve or reject it alone.
    page = signed_in(browser, live_server, "member", language)
    page.goto(f"{live_server.url}/committee/exceptions/")
    row = page.get_by_test_id("exceptions").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("button[value=approve]")).to_have_count(0)
    row.get_by_test_id("propose-exception").click()

    expect(page.get_by_test_id("chosen-exception")).to_contain_text("Rails 2027")
    form = page.get_by_test_id("proposal-form")
    expect(form.locator("#id_title")).to_have_value(re.compile("Volga Steel Works JSC"))
    form.locator("#id_rationale").fill("The contract pays for the discount.")
    form.locator("button.primary[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/committee/proposals/\d+/$"))
    expect(page.get_by_test_id("exception-terms")).to_contain_text("Rails 2027")
    page.locator("input[name=choice][value=for]").check()
    page.locator("form:has(input[name=choice]) button.primary").click()
    expect(page.get_by_test_id("tally-for")).to_have_text("1")

    proposal = Proposal.objects.get(exception_request=request)
    vote_cast(proposal=proposal, member=third, choice="for")
    chair_page = signed_in(browser, live_server, "chair", language)
    chair_page.goto(f"{live_server.url}{proposal.get_absolute_url()}")
    chair_page.locator("form[action$='/close/'] button").click()
    expect(chair_page.get_by_test_id("state")).to_have_text(
        re.compile({"en": "Adopted", "ru": "Принято"}[language])
    )

    # The KAM's page was open all along: a reload shows the committee's decision.
    expect(kam_page.get_by_test_id("exception-state")).to_have_text(WAITING[language])
    kam_page.reload()
    expect(kam_page.get_by_test_id("exception-state")).to_have_text(APPROVED[language])
    expect(kam_page.get_by_test_id("decided-by")).to_be_visible()
    request.refresh_from_db()
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.ADOPTED
    assert (request.state, request.decided_in_id, request.decided_by) == (
        ExceptionState.APPROVED,
        proposal.pk,
        None,
    )
    for open_page in (kam_page, page, chair_page):
        open_page.context.close()
