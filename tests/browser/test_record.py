"""The change record in the browser: a member votes, then reads in the record who voted what,
through which path, and takes the record away as a file; a KAM is refused it."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from governance.committee.proposals import proposal_create, proposal_open
from governance.models import CommitteeMember, CommitteeRole
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_bet(chair, member, account_of_kam):
    for user, role, is_chair in (
        (chair, CommitteeRole.EXECUTIVE_DIRECTOR, True),
        (member, CommitteeRole.SALES_DIRECTOR, False),
    ):
        CommitteeMember.objects.create(
            user=user, committee_role=role, is_chair=is_chair, active_from=datetime.date(2025, 1, 1)
        )
    proposal = proposal_create(
        type="strategic_bet",
        title="A bet on Volga",
        rationale="The future.",
        by=chair,
        client=account_of_kam,
        review_date=timezone.localdate() + datetime.timedelta(days=180),
    )
    return proposal_open(proposal=proposal, deadline=timezone.now() + datetime.timedelta(days=3))


def test_a_member_finds_their_vote_in_the_record_and_exports_it(
    page: Page, live_server, member, open_bet
) -> None:
    login(page, live_server, "member")
    page.goto(f"{live_server.url}{open_bet.get_absolute_url()}")
    page.get_by_label("For").check()
    page.get_by_role("button", name="Cast the vote").click()
    expect(page.get_by_text("Your vote is recorded.")).to_be_visible()

    page.get_by_role("link", name="Change record", exact=True).click()
    page.get_by_label("Table").select_option("governance_vote")
    page.get_by_label("Person").select_option(str(member.pk))
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("result-count")).to_have_text("1 entry")
    record = page.get_by_test_id("record")
    expect(record).to_contain_text(str(member))
    expect(record).to_contain_text("Page")
    expect(record).to_contain_text(f"POST /committee/proposals/{open_bet.pk}/")
    expect(record.locator("ins").first).to_be_visible()

    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.startswith("Entry,")
    assert len(text.strip().splitlines()) == 2
    assert "governance_vote" in text


def test_a_kam_is_refused_the_record(page: Page, live_server, kam) -> None:
    login(page, live_server, "kam")
    expect(page.get_by_role("link", name="Change record")).to_have_count(0)
    response = page.goto(f"{live_server.url}/committee/record/")
    assert response.status == 403
