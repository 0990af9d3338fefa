"""The committee drafts a change to a KAM's mandate in the product — adds an account, changes a
limit —, sees the comparison with the mandate in force, proposes it and votes it through (the
chair in Russian); the KAM reloads My mandate and finds the change in force."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from governance.models import CommitteeMember, Mandate, MandateAccount, MandateStatus
from governance.shell.mandates import mandate_adopt
from tests.browser.conftest import TIMEOUT_MS, VIEWPORT, login
from tests.factories import ClientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def in_force(kam, chair, member, account_of_kam) -> Mandate:
    for user, is_chair in ((chair, True), (member, False)):
        CommitteeMember.objects.create(
            user=user,
            committee_role="executive_director" if is_chair else "sales_director",
            is_chair=is_chair,
            active_from=datetime.date(2025, 1, 1),
        )
    ClientFactory(name="Baltic Grain Terminal", owner_kam=kam)
    mandate = Mandate.objects.create(
        kam=kam,
        title="Key accounts",
        valid_from=datetime.date(2025, 1, 1),
        max_discount_percent=Decimal(7),
    )
    MandateAccount.objects.create(mandate=mandate, client=account_of_kam)
    return mandate_adopt(mandate=mandate)


def _context_page(browser: Browser, live_server) -> Page:
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def test_a_drafted_change_is_compared_proposed_voted_and_in_force(
    browser: Browser, page: Page, live_server, in_force, kam
) -> None:
    login(page, live_server, "member")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Mandates").click()
    page.get_by_test_id("drafting").click()
    page.get_by_test_id("kam-mandates").filter(has_text=str(kam)).get_by_role(
        "button", name="Draft a change"
    ).click()
    expect(page.get_by_text("A new draft, copied from Key accounts")).to_be_visible()
    page.get_by_label("Find the client").fill("baltic")
    expect(page.get_by_test_id("account-picker-row")).to_have_count(1)
    page.get_by_role("checkbox", name="Baltic Grain Terminal").check()
    page.get_by_label("Maximum discount, %").fill("9")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    expect(page.get_by_test_id("draft-accounts")).to_contain_text("Baltic Grain Terminal")

    page.get_by_test_id("compare").click()
    accounts = page.get_by_test_id("compare-accounts")
    expect(accounts.locator("tr", has_text="Baltic Grain Terminal")).to_contain_text("added")
    limits = page.get_by_test_id("compare-limits")
    expect(limits.locator("tr", has_text="Discount, %")).to_contain_text("changed")
    expect(page.get_by_test_id("change-count")).to_contain_text("changes")

    page.get_by_test_id("propose").click()
    page.get_by_label("Rationale").fill("A second account, a wider discount.")
    page.get_by_role("button", name="Open the vote").click()
    expect(page.get_by_text("The proposal is open for votes.")).to_be_visible()
    page.get_by_role("radio", name="For").check()
    page.get_by_role("button", name="Cast the vote").click()
    expect(page.get_by_text("Your vote is recorded.")).to_be_visible()
    proposal_url = page.url

    chair = _context_page(browser, live_server)
    login(chair, live_server, "chair")
    chair.get_by_role("button", name="Русский").click()
    chair.goto(proposal_url)
    chair.get_by_role("radio", name="За").check()
    chair.get_by_role("button", name="Проголосовать").click()
    expect(chair.get_by_text("Ваш голос учтён.")).to_be_visible()
    chair.get_by_role("button", name="Закрыть голосование: исход предрешён").click()
    chair.goto(f"{live_server.url}/committee/mandates/drafting/")
    expect(chair.get_by_test_id("in-force")).to_contain_text("Действует:")
    chair.context.close()

    draft = Mandate.objects.exclude(pk=in_force.pk).get()
    assert draft.status == MandateStatus.IN_FORCE

    kam_page = _context_page(browser, live_server)
    login(kam_page, live_server, "kam")
    kam_page.get_by_role("link", name="My mandate").click()
    expect(kam_page.get_by_role("heading", name="My mandate")).to_be_visible()
    kam_page.reload()
    expect(kam_page.get_by_test_id("mandate-accounts")).to_contain_text("Baltic Grain Terminal")
    expect(kam_page.get_by_test_id("limits")).to_contain_text("9 %")
    kam_page.get_by_role("button", name="Русский").click()
    expect(kam_page.get_by_role("heading", name="Мой мандат")).to_be_visible()
    expect(kam_page.get_by_test_id("mandate-accounts")).to_contain_text("Baltic Grain Terminal")
    kam_page.context.close()
