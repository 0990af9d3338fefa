"""A committee member proposes in the browser, in English and in Russian: the question first,
then the client found by a part of its name as it is typed, with its coverage; the proposal
opens under the suggested title and is there after a reload; kept as suggested, the title is
read in the other language by whoever reads in it."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from criteria.evaluation import run_all_chunks, run_start
from criteria.models import RulerStatus, RulerVersion
from governance.models import Proposal, ProposalState
from tests.browser.conftest import TIMEOUT_MS, VIEWPORT
from tests.factories import PASSWORD, ClientFactory, CommitteeMemberFactory, meets_the_ruler

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLES = {"en": "Grant key status: Volga Steel", "ru": "Присвоить статус ключевого: Volga Steel"}
OTHER = {"en": "ru", "ru": "en"}


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_member_finds_a_client_as_they_type_sees_its_coverage_and_proposes_it(
    browser: Browser, live_server, member, language: str
) -> None:
    CommitteeMemberFactory(user=member)
    RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    volga = ClientFactory(name="Volga Steel")
    meets_the_ruler(volga)
    ClientFactory(name="Ural Pipes")
    run_all_chunks(run=run_start(as_of=timezone.localdate()))
    context = browser.new_context(
        base_url=live_server.url, locale=language, viewport=VIEWPORT, timezone_id="Europe/Moscow"
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill(member.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("button.primary[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/committee/proposals/new/")
    page.get_by_test_id("question-grant_key").click()
    page.locator("#id_q").fill("olga")  # no button pressed: the results come as it is typed
    row = page.get_by_test_id("picker-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Volga Steel")
    expect(row.get_by_test_id("picker-coverage")).to_have_text(re.compile(r"100[.,]0 %"))
    row.get_by_test_id("choose-client").click()

    expect(page.get_by_test_id("route-ok")).to_be_visible()
    form = page.get_by_test_id("proposal-form")
    expect(form.locator("#id_title")).to_have_value(TITLES[language])
    form.locator("#id_rationale").fill("Meets the ruler; grows fast.")
    form.locator("button.primary[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/committee/proposals/\d+/$"))
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLES[language])
    proposal = Proposal.objects.get()
    assert (proposal.client, proposal.state) == (volga, ProposalState.OPEN)

    # The suggestion was kept: whoever reads in the other language reads it in theirs.
    other = OTHER[language]
    context.add_cookies([{"name": "django_language", "value": other, "url": live_server.url}])
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLES[other])
    page.goto(f"{live_server.url}/committee/proposals/?state=all")
    expect(page.get_by_role("link", name=TITLES[other])).to_be_visible()
    context.close()
