"""The drift panel shows what was decided by drift; members are reminded before a deadline."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Client
from criteria.evaluation import run_all_chunks, run_start
from criteria.models import NeedCoverage, RulerStatus, RulerVersion
from governance.committee.notifications import remind_non_voters
from governance.committee.proposals import proposal_close, proposal_create, proposal_open, vote_cast
from governance.drift import drift, drift_counts
from governance.mail import mail_deliver_due
from governance.models import CommitteeMember, Decision, Proposal
from tests.factories import ClientFactory, NeedFactory, USPFactory

# Deadlines and review dates count from now: the clock is set to noon in Moscow on a fixed
# day (time-machine), so that no test meets midnight halfway through.
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-11-18T12:00+03:00")]


@pytest.fixture
def seats(chair, member):
    for user in (chair, member):
        CommitteeMember.objects.create(
            user=user, committee_role="sales_director", active_from=datetime.date(2025, 1, 1)
        )
    return [chair, member]


def _covered(client: Client, degree: str) -> None:
    need = NeedFactory(client=client, name="Quality", weight=5)
    NeedCoverage.objects.create(need=need, usp=USPFactory(), degree=Decimal(degree))


def _granted(client: Client, seats: list, review: datetime.date | None = None) -> Decision:
    proposal = proposal_open(
        proposal=proposal_create(
            type="strategic_bet" if review else "grant_key",
            title="Key",
            rationale="Why",
            by=seats[0],
            client=client,
            review_date=review,
        ),
        deadline=timezone.now() + datetime.timedelta(days=1),
    )
    for member in seats:
        vote_cast(proposal=proposal, member=member, choice="for")
    return proposal_close(proposal=proposal, early=True).decision


def test_drift_finds_each_kind_of_undecided_state(seats):
    RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    legacy = ClientFactory(name="Legacy key client")
    Client.objects.filter(pk=legacy.pk).update(is_key=True)  # key "historically", no decision
    _covered(legacy, "1")
    failing_key = ClientFactory(name="Key, failing")
    _covered(failing_key, "1")
    _granted(failing_key, seats)  # met the ruler when granted; our USPs cover less today
    NeedCoverage.objects.filter(need__client=failing_key).update(degree=Decimal("0.5"))
    overdue_bet = ClientFactory(name="Bet overdue")
    _covered(overdue_bet, "0.5")
    decision = _granted(overdue_bet, seats, review=timezone.localdate() + datetime.timedelta(1))
    Decision.objects.filter(pk=decision.pk).update(review_date=datetime.date(2026, 1, 1))
    never = ClientFactory(name="Meets, never considered")
    _covered(never, "1")
    considered = ClientFactory(name="Meets, proposal rejected")
    _covered(considered, "1")
    proposal_create(type="grant_key", title="Key", rationale="Why", by=seats[0], client=considered)
    run_all_chunks(run=run_start(as_of=datetime.date(2026, 10, 1)))

    found = drift(today=datetime.date(2026, 11, 27))

    assert list(found.key_without_decision) == [legacy]
    # A bet is below the ruler by decision: listed apart, never a key client failing it, and
    # its overdue review is drift of its own kind, not counted twice.
    assert [c.name for c in found.key_failing_ruler] == ["Key, failing"]
    assert [d.client for d in found.bets] == [overdue_bet]
    assert [d.client for d in found.bets_past_review] == [overdue_bet]
    assert list(found.review_overdue) == []
    assert list(found.meeting_never_considered) == [never]


def test_a_bet_is_listed_apart_and_counted_only_once_its_review_is_past(seats, client_as, chair):
    RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    on_time = ClientFactory(name="Bet on time")
    _covered(on_time, "0.5")
    _granted(on_time, seats, review=datetime.date(2027, 6, 30))
    late = ClientFactory(name="Bet late")
    _covered(late, "0.5")
    decision = _granted(late, seats, review=datetime.date(2027, 6, 30))
    Decision.objects.filter(pk=decision.pk).update(review_date=datetime.date(2026, 9, 30))
    run_all_chunks(run=run_start(as_of=datetime.date(2026, 10, 1)))

    counts = {indicator.code: indicator.count for indicator in drift_counts()}
    assert counts["key-failing"] == 0  # both fail the ruler, as bets do
    assert counts["bets-overdue"] == 1
    assert counts["review-overdue"] == 0

    page = client_as(chair).get(reverse("governance:drift")).text
    bets = page.split('<section class="card" id="bets">')[1].split("</section>")[0]
    assert "Bet on time" in bets and "review due 06/30/2027" in bets
    assert "Bet late" in bets and "review was due 09/30/2026" in bets
    failing = page.split('<section class="card" id="key-failing">')[1].split("</section>")[0]
    assert "Bet" not in failing


def test_the_drift_panel_says_when_no_kam_owns_a_client(seats, client_as, chair, kam):
    RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    for name, owner in (("Owned", kam), ("Unowned", None)):
        _covered(ClientFactory(name=name, owner_kam=owner), "1")
    run_all_chunks(run=run_start(as_of=datetime.date(2026, 10, 1)))

    page = client_as(chair).get(reverse("governance:drift")).text
    never = page.split('<section class="card" id="never-considered">')[1].split("</section>")[0]
    assert f"Owned</a> — {kam}</li>" in never
    assert "Unowned</a> — no KAM owns it</li>" in never
    assert "— —" not in page


def test_drift_page_for_the_committee_and_directors_only(client_as, chair, director, kam, seats):
    assert client_as(chair).get(reverse("governance:drift")).status_code == 200
    assert client_as(director).get(reverse("governance:drift")).status_code == 200
    assert client_as(kam).get(reverse("governance:drift")).status_code == 403


def test_members_who_have_not_voted_are_reminded_once(
    seats, chair, member, account_of_kam, mailoutbox
):
    proposal = proposal_open(
        proposal=proposal_create(
            type="grant_key",
            title="Key for Volga",
            rationale="Why",
            by=chair,
            client=account_of_kam,
        ),
        deadline=timezone.now() + datetime.timedelta(hours=5),
    )
    vote_cast(proposal=proposal, member=chair, choice="for")
    mail_deliver_due()  # what was told so far
    mailoutbox.clear()

    assert remind_non_voters() == 1
    assert remind_non_voters() == 0
    mail_deliver_due()  # the worker, after the commit
    assert [m.to for m in mailoutbox] == [[member.email]]
    assert "Key for Volga" in mailoutbox[0].body
    assert proposal.get_absolute_url() in mailoutbox[0].body


def test_no_reminder_while_the_deadline_is_far(seats, chair, account_of_kam, mailoutbox):
    proposal_open(
        proposal=proposal_create(
            type="grant_key", title="Key", rationale="Why", by=chair, client=account_of_kam
        ),
        deadline=timezone.now() + datetime.timedelta(days=5),
    )
    mail_deliver_due()  # what was told so far
    mailoutbox.clear()
    assert remind_non_voters() == 0
    mail_deliver_due()
    assert mailoutbox == []


def test_members_hear_of_an_opened_proposal_and_of_its_outcome(
    seats, chair, member, account_of_kam, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        proposal = proposal_open(
            proposal=proposal_create(
                type="grant_key",
                title="Key for Volga",
                rationale="Why",
                by=chair,
                client=account_of_kam,
            ),
            deadline=timezone.now() + datetime.timedelta(days=2),
        )
    mail_deliver_due()  # the worker, after the commit
    opened = sorted(m.to[0] for m in mailoutbox)
    assert opened == sorted([chair.email, member.email])
    assert mailoutbox[0].subject == "New proposal to vote on: Key for Volga"
    mail_deliver_due()  # what was told so far
    mailoutbox.clear()

    for user in seats:
        vote_cast(proposal=proposal, member=user, choice="for")
    with django_capture_on_commit_callbacks(execute=True):
        proposal_close(proposal=proposal, early=True)
    mail_deliver_due()

    assert sorted(m.to[0] for m in mailoutbox) == sorted([chair.email, member.email])
    assert "The vote has closed: Adopted." in mailoutbox[0].body


def test_nothing_is_sent_when_opening_fails(seats, chair, account_of_kam, mailoutbox):

    draft = proposal_create(
        type="grant_key", title="Key", rationale="Why", by=chair, client=account_of_kam
    )
    with pytest.raises(ValidationError):
        proposal_open(proposal=draft, deadline=timezone.now() - datetime.timedelta(hours=1))
    mail_deliver_due()
    assert mailoutbox == []


def test_a_title_with_a_line_break_is_announced_on_one_line(
    seats, chair, member, account_of_kam, mailoutbox, django_capture_on_commit_callbacks
):
    """A subject may not hold a line break (mail headers would split): a title stored before
    proposal_create refused line breaks is sent on one line rather than the announcement
    failing after the proposal opened."""
    proposal = proposal_create(
        type="grant_key", title="Key for Volga", rationale="Why", by=chair, client=account_of_kam
    )
    Proposal.objects.filter(pk=proposal.pk).update(typed_title="Key for Volga\r\nand its plants")
    proposal.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        proposal_open(proposal=proposal, deadline=timezone.now() + datetime.timedelta(days=2))
    mail_deliver_due()
    assert sorted(m.to[0] for m in mailoutbox) == sorted([chair.email, member.email])
    assert mailoutbox[0].subject == "New proposal to vote on: Key for Volga and its plants"
    assert all(m.message()["Subject"] for m in mailoutbox)


@pytest.mark.parametrize(
    ("language", "clients", "tile"),
    [
        ("en", 1, "key client no mandate in force covers"),
        ("en", 2, "key clients no mandate in force covers"),
        ("ru", 1, "ключевой клиент вне действующих мандатов"),
        ("ru", 3, "ключевых клиента вне действующих мандатов"),
        ("ru", 5, "ключевых клиентов вне действующих мандатов"),
    ],
)
def test_each_drift_tile_agrees_with_its_figure(language: str, clients: int, tile: str) -> None:
    """The panel and the home page write the figure, then the tile: in the number it asks for."""
    ClientFactory.create_batch(clients, is_key=True)
    with translation.override(language):
        outside = next(count for count in drift_counts() if count.code == "outside-mandates")
    assert (outside.count, outside.tile) == (clients, tile)
