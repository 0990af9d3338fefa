"""The board pack in the browser: a director asks for a meeting's pack, watches it being drawn
up by the worker, and downloads a PDF that holds the meeting's agenda."""

from __future__ import annotations

import datetime
import io
import threading

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from governance.committee.meetings import agenda_build, meeting_create
from governance.committee.proposals import proposal_create, proposal_open
from governance.committee.tasks import draw_up_board_pack
from governance.models import CommitteeMember, CommitteeRole
from tests.browser.conftest import login
from tests.factories import meets_the_ruler

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(monkeypatch):
    """A worker beside the live server: each pack asked for is drawn up in a thread of its own,
    a moment later, as Celery's worker would."""
    threads = []

    def deliver(pack_id: int) -> None:
        def work() -> None:
            try:
                draw_up_board_pack(pack_id)
            finally:
                connection.close()

        thread = threading.Timer(0.5, work)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr("governance.committee.views.meetings.draw_up_board_pack.delay", deliver)
    yield
    for thread in threads:
        thread.join(timeout=60)


def test_a_director_asks_for_the_pack_and_downloads_it(
    page: Page, live_server, chair, member, director, account_of_kam, worker, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    for user, is_chair in ((chair, True), (member, False)):
        CommitteeMember.objects.create(
            user=user,
            committee_role=CommitteeRole.SALES_DIRECTOR,
            is_chair=is_chair,
            active_from=datetime.date(2025, 1, 1),
        )
    meets_the_ruler(account_of_kam)
    proposal_open(
        proposal=proposal_create(
            type="grant_key",
            title="Key status for Volga Steel",
            rationale="Meets the ruler.",
            by=chair,
            client=account_of_kam,
        ),
        deadline=timezone.now() + datetime.timedelta(days=3),
    )
    meeting = meeting_create(held_on=timezone.localdate(), title="Winter session", by=chair)
    agenda_build(meeting=meeting)

    login(page, live_server, director.username)
    page.goto(f"{live_server.url}{meeting.get_absolute_url()}")
    packs = page.get_by_test_id("packs")
    packs.get_by_label("Language").select_option("en")
    packs.get_by_role("button", name="Draw up: Board pack").click()

    row = page.get_by_test_id("pack-pack-en")
    expect(row).to_be_visible()
    download_link = row.get_by_test_id("pack-download")
    expect(download_link).to_be_visible(timeout=60_000)
    expect(row.get_by_test_id("pack-state")).to_have_text("Ready")

    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename == f"skam-{meeting.held_on:%Y-%m-%d}-pack-en.pdf"
    with open(download.path(), "rb") as file:
        reader = PdfReader(io.BytesIO(file.read()))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Board pack: Winter session" in text
    assert "Key status for Volga Steel" in text
