"""What each home page says, as its user meets it in Chromium, in English and Russian, and after
a reload: the committee's meetings ahead and what needs a member's vote; who must answer each
request a KAM waits on, and by when; amounts with the company's currency; strategic bets
apart from the drift they are not."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Client, User
from accounts.periods import quarter_start
from criteria.evaluation import run_all_chunks, run_start
from criteria.models import NeedCoverage, RulerStatus, RulerVersion
from governance.committee.meetings import agenda_build, meeting_create
from governance.committee.proposals import proposal_close, proposal_create, proposal_open, vote_cast
from governance.models import (
    CommitteeMember,
    Decision,
    ExceptionRequest,
    KpiTarget,
    Mandate,
    MandateAccount,
)
from governance.shell.mandates import mandate_adopt
from tests.browser.conftest import login
from tests.factories import (
    AbsenceFactory,
    ClientFactory,
    ExceptionRequestFactory,
    KpiFactory,
    NeedFactory,
    USPFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def in_russian(page: Page) -> None:
    page.get_by_role("button", name="Русский").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")


@pytest.fixture
def seats(chair: User, member: User) -> None:
    CommitteeMember.objects.create(
        user=chair,
        committee_role="executive_director",
        is_chair=True,
        active_from=datetime.date(2025, 1, 1),
    )
    CommitteeMember.objects.create(
        user=member, committee_role="sales_director", active_from=datetime.date(2025, 1, 1)
    )


def _covered(client: Client, degree: str) -> None:
    need = NeedFactory(client=client, name="Quality", weight=5)
    NeedCoverage.objects.create(need=need, usp=USPFactory(), degree=Decimal(degree))


def test_a_members_home_shows_the_meetings_ahead_and_what_needs_their_vote(
    page: Page, live_server, seats, chair: User, member: User, account_of_kam: Client
) -> None:
    today = timezone.localdate()
    held = today + datetime.timedelta(days=7)
    deadline = timezone.now() + datetime.timedelta(days=3)
    proposal_open(
        proposal=proposal_create(
            type="strategic_bet",
            title="Bet on Volga",
            rationale="Why",
            by=chair,
            client=account_of_kam,
            review_date=today + datetime.timedelta(days=200),
        ),
        deadline=deadline,
    )
    meeting_create(held_on=today - datetime.timedelta(days=30), title="Held already", by=chair)
    meeting = meeting_create(
        held_on=held,
        starts_at=datetime.time(10, 0),
        title="Quarterly committee",
        location="Board room",
        by=chair,
    )
    agenda_build(meeting=meeting)

    for username in ("member", "chair"):
        page.context.clear_cookies()
        login(page, live_server, username)
        meetings = page.get_by_test_id("home-meetings")
        expect(meetings).to_contain_text("1 upcoming meeting of the committee")
        expect(meetings).not_to_contain_text("Held already")
        line = meetings.get_by_test_id("home-meeting")
        expect(line).to_contain_text("Quarterly committee")
        expect(line.get_by_test_id("meeting-when")).to_have_text(f"{held:%m/%d/%Y}, 10 a.m.")
        expect(line).to_contain_text("Board room")
        votes = page.get_by_test_id("needs-my-vote")
        expect(votes).to_contain_text("1 proposal needs your vote")
        expect(votes).to_contain_text("Bet on Volga — votes close")

    page.reload()
    in_russian(page)
    meetings = page.get_by_test_id("home-meetings")
    expect(meetings).to_contain_text("1 предстоящее заседание комитета")
    expect(meetings.get_by_test_id("meeting-when")).to_have_text(f"{held:%d.%m.%Y}, 10:00")
    expect(page.get_by_test_id("needs-my-vote")).to_contain_text("Bet on Volga — голосование до")
    # The agenda link opens the meeting, with its time.
    meetings.get_by_role("link", name="1 пункт повестки").click()
    expect(page).to_have_url(f"{live_server.url}{meeting.get_absolute_url()}#h-agenda")
    expect(page.locator("dl.facts")).to_contain_text("10:00")
    page.go_back()
    page.reload()
    expect(page.get_by_test_id("home-meetings")).to_contain_text("Quarterly committee")


@pytest.fixture
def mandate(kam: User, account_of_kam: Client) -> Mandate:
    Client.objects.filter(pk=account_of_kam.pk).update(is_key=True)
    mandate = Mandate.objects.create(
        kam=kam,
        title="Key accounts",
        valid_from=datetime.date(2025, 1, 1),
        max_deal_value=Decimal(100_000),
    )
    MandateAccount.objects.create(mandate=mandate, client=account_of_kam)
    return mandate_adopt(mandate=mandate)


@pytest.fixture
def asked(mandate: Mandate, account_of_kam: Client) -> ExceptionRequest:
    """The KAM's request for a deal of 500,000 where the mandate allows 100,000: the sales
    director's to answer."""
    return ExceptionRequestFactory(
        mandate=mandate,
        client=account_of_kam,
        asked={"deal_value": "500000"},
        breaches=[{"limit": "deal_value", "allowed": "100000", "asked": "500000"}],
        approver="sales_director",
    )


def test_a_kam_sees_who_must_answer_each_request_and_every_amount_in_currency(
    page: Page,
    live_server,
    seats,
    chair: User,
    member: User,
    mandate: Mandate,
    account_of_kam,
    asked: ExceptionRequest,
) -> None:
    revenue = KpiFactory(code="revenue", name="Revenue")
    KpiTarget.objects.create(
        kpi=revenue, mandate=mandate, period=quarter_start(timezone.localdate()), target=1400
    )
    login(page, live_server, "kam")
    waiting = page.get_by_test_id("home-my-requests").get_by_test_id("home-request")
    expect(waiting).to_contain_text(f"Sales director: {member}, answer due")
    expect(waiting.get_by_test_id("answering-now")).to_have_text(str(member))

    # The sales director is away today: their deputy answers, on the home and the request.
    AbsenceFactory(
        user=member,
        deputy=chair,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + datetime.timedelta(days=3),
    )
    page.reload()
    answering = f"{chair} (deputy for {member} today)"
    expect(waiting.get_by_test_id("answering-now")).to_have_text(answering)
    waiting.get_by_role("link", name=str(account_of_kam)).click()
    expect(page).to_have_url(f"{live_server.url}{asked.get_absolute_url()}")
    expect(page.get_by_test_id("who-answers")).to_have_text(answering)
    expect(page.get_by_test_id("answer-due")).to_be_visible()
    expect(page.get_by_test_id("limits-passed")).to_have_text(
        "Deal value without approval: asked 500,000\u00a0RUB, allowed 100,000\u00a0RUB"
    )
    page.reload()
    in_russian(page)
    expect(page.get_by_test_id("who-answers")).to_have_text(f"{chair} (сегодня замещает: {member})")
    expect(page.get_by_test_id("limits-passed")).to_contain_text(
        "запрошено 500\u00a0000\u00a0₽, разрешено 100\u00a0000\u00a0₽"
    )

    # My mandate: the revenue target says its currency, and so does the home page's exception.
    page.goto(f"{live_server.url}/committee/my-mandate/")
    kpis = page.get_by_test_id("mandate-kpis")
    expect(kpis.locator("tr", has_text="Revenue")).to_contain_text("не менее 1\u00a0400\u00a0₽")
    requests = page.get_by_test_id("exception-requests")
    expect(requests).to_contain_text("500\u00a0000\u00a0₽")
    # My mandate names who must answer, off the same ladder as the home and the request.
    expect(requests.get_by_test_id("answering-now")).to_have_text(
        f"{chair} (сегодня замещает: {member})"
    )
    page.reload()
    expect(page.get_by_test_id("mandate-kpis")).to_contain_text("не менее 1\u00a0400\u00a0₽")


def test_the_approver_finds_the_request_waiting_on_their_home_and_answers_it(
    page: Page, live_server, seats, kam: User, account_of_kam, asked: ExceptionRequest
) -> None:
    login(page, live_server, "member")  # the sales director
    waiting = page.get_by_test_id("home-to-decide")
    expect(waiting).to_contain_text("1 exception request waits for your answer")
    expect(waiting.get_by_test_id("home-to-decide-request")).to_contain_text(
        f"asked by {kam.get_full_name()} · tier: Sales director · answer due"
    )
    page.reload()
    in_russian(page)
    expect(waiting).to_contain_text("1 запрос на исключение ждёт вашего ответа")
    expect(waiting).to_contain_text("уровень: Директор по продажам")

    waiting.get_by_role("link", name=str(account_of_kam)).click()
    expect(page).to_have_url(f"{live_server.url}{asked.get_absolute_url()}")
    page.get_by_role("button", name="Одобрить").click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/")
    expect(page.get_by_test_id("needs-my-vote")).to_be_visible()
    expect(page.get_by_test_id("home-to-decide")).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("home-to-decide")).to_have_count(0)


def test_a_strategic_bet_is_listed_apart_from_the_drift_on_every_page(
    page: Page, live_server, seats, chair: User, member: User, director: User
) -> None:
    RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    bet_client = ClientFactory(name="Bet Client")
    _covered(bet_client, "0.5")  # below the ruler, as a bet is
    proposal = proposal_open(
        proposal=proposal_create(
            type="strategic_bet",
            title="Bet",
            rationale="Why",
            by=chair,
            client=bet_client,
            review_date=timezone.localdate() + datetime.timedelta(days=90),
        ),
        deadline=timezone.now() + datetime.timedelta(days=1),
    )
    for user in (chair, member):
        vote_cast(proposal=proposal, member=user, choice="for")
    decision = proposal_close(proposal=proposal, early=True).decision
    run_all_chunks(run=run_start(as_of=timezone.localdate()))
    # Its review date has passed: drift of its own kind.
    past = timezone.localdate() - datetime.timedelta(days=10)
    Decision.objects.filter(pk=decision.pk).update(review_date=past)

    login(page, live_server, "director")
    drift = page.get_by_test_id("home-drift")
    expect(drift.get_by_test_id("home-count-bets-overdue")).to_have_text("1")
    expect(drift.get_by_test_id("home-count-key-failing")).to_have_count(0)
    expect(drift.get_by_test_id("home-count-review-overdue")).to_have_count(0)
    drift.get_by_role("link", name="Drift: what decides itself").click()
    expect(page.get_by_test_id("count-bets-overdue")).to_have_text("1")
    expect(page.get_by_test_id("count-key-failing")).to_have_text("0")
    expect(page.get_by_test_id("count-review-overdue")).to_have_text("0")
    expect(page.get_by_test_id("bets")).to_contain_text("Bet Client")
    expect(page.get_by_test_id("bets-overdue")).to_contain_text(f"review was due {past:%m/%d/%Y}")
    expect(page.locator("#key-failing")).not_to_contain_text("Bet Client")

    # The directors' dashboard's drift block: the same counts.
    page.goto(f"{live_server.url}/committee/dashboards/")
    block = page.get_by_test_id("table-drift")
    expect(block.locator("tr", has_text="Strategic bets past their review date")).to_contain_text(
        "1"
    )
    expect(
        block.locator("tr", has_text="Key clients that no longer meet the ruler")
    ).to_contain_text("0")
    page.goto(f"{live_server.url}/committee/drift/")
    page.reload()
    in_russian(page)
    expect(page.locator("#bets-overdue h2")).to_have_text(
        "Стратегические ставки с просроченным пересмотром"
    )
    expect(page.get_by_test_id("count-bets-overdue")).to_have_text("1")
    page.goto(f"{live_server.url}/")
    expect(page.get_by_test_id("home-drift")).to_contain_text(
        "1 решение о стратегической ставке с просроченным пересмотром"
    )
