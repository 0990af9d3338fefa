"""The calendar: each person's subscription holds what that person may see, and nothing once
stopped; the letters announcing a meeting or a vote carry the same events, by the same UIDs."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accounts.models import User
from governance.committee.calendar_feed import calendar_feed_issue, calendar_feed_revoke
from governance.committee.ical import event_uid
from governance.committee.meetings import meeting_create
from governance.committee.proposals import proposal_create, proposal_open
from governance.mail import mail_deliver_due
from governance.models import CalendarFeed, MandateStatus, Meeting, Proposal, ProposalState
from tests.factories import (
    CommitteeMemberFactory,
    DecisionFactory,
    MandateFactory,
    ProposalFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-11-18T12:00+03:00")]


@pytest.fixture
def dates(chair: User, member: User, kam: User, kam2: User) -> dict[str, str]:
    """One of each kind of date, and a draft that no calendar shows; the UIDs of each."""
    for user in (chair, member):
        CommitteeMemberFactory(user=user)
    meeting = Meeting.objects.create(
        held_on=datetime.date(2026, 12, 3), title="Year-end review", created_by=chair
    )
    vote = ProposalFactory(
        state=ProposalState.OPEN,
        title="Key for Volga",
        deadline=timezone.now() + datetime.timedelta(days=3),
    )
    ProposalFactory(title="Still a draft")
    decision = DecisionFactory(review_date=datetime.date(2027, 3, 1), subject={"client": "Kama"})
    own = MandateFactory(
        kam=kam, status=MandateStatus.IN_FORCE, valid_to=datetime.date(2027, 6, 30)
    )
    other = MandateFactory(
        kam=kam2, status=MandateStatus.IN_FORCE, valid_to=datetime.date(2027, 9, 30)
    )
    return {
        "meeting": event_uid("meeting", meeting.pk),
        "vote": event_uid("vote-deadline", vote.pk),
        "review": event_uid("decision-review", decision.pk),
        "kam's mandate": event_uid("mandate-end", own.pk),
        "kam2's mandate": event_uid("mandate-end", other.pk),
    }


def _read(token: str, status: int = 200) -> Calendar | None:
    """The calendar behind an address, as a calendar application reads it: not signed in."""
    response = HttpClient().get(reverse("governance:calendar-feed", args=[token]))
    assert response.status_code == status
    if status != 200:
        return None
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def _uids(calendar: Calendar) -> set[str]:
    return {str(event["uid"]) for event in calendar.walk("VEVENT")}


FOLLOWS_COMMITTEE = {"meeting", "vote", "review", "kam's mandate", "kam2's mandate"}


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("chair", FOLLOWS_COMMITTEE),
        ("member", FOLLOWS_COMMITTEE),
        ("director", FOLLOWS_COMMITTEE),
        ("administrator", FOLLOWS_COMMITTEE),
        ("kam", {"kam's mandate"}),
        ("kam2", {"kam2's mandate"}),
        ("outsider", set()),
    ],
)
def test_each_calendar_holds_what_its_owner_may_see(cast, dates, role, sees):
    calendar = _read(calendar_feed_issue(user=cast[role], language="en"))
    assert _uids(calendar) == {dates[name] for name in sees}


def test_the_events_say_what_and_when(cast, dates):
    calendar = _read(calendar_feed_issue(user=cast["director"], language="en"))
    events = {str(event["uid"]): event for event in calendar.walk("VEVENT")}
    meeting = events[dates["meeting"]]
    assert str(meeting["summary"]) == "Committee meeting: Year-end review"
    assert meeting.decoded("dtstart") == datetime.date(2026, 12, 3)
    vote = events[dates["vote"]]
    assert str(vote["summary"]) == "Vote closes: Key for Volga"
    vote_deadline = Proposal.objects.get(typed_title="Key for Volga").deadline
    assert vote.decoded("dtstart") == vote_deadline.replace(microsecond=0)
    assert events[dates["review"]].decoded("dtstart") == datetime.date(2027, 3, 1)
    assert "Still a draft" not in str(calendar.to_ical())


def test_a_calendar_made_in_russian_speaks_russian(cast, dates):
    calendar = _read(calendar_feed_issue(user=cast["director"], language="ru"))
    summaries = {str(event["summary"]) for event in calendar.walk("VEVENT")}
    assert "Заседание комитета: Year-end review" in summaries


def test_the_same_events_keep_their_uids(cast, dates):
    token = calendar_feed_issue(user=cast["chair"], language="en")
    assert _uids(_read(token)) == _uids(_read(token))


def test_only_the_digest_of_the_address_is_kept(chair):
    token = calendar_feed_issue(user=chair, language="en")
    feed = CalendarFeed.objects.get(user=chair)
    assert token not in feed.token_digest
    assert feed.token_digest == CalendarFeed.digest_of(token)


def test_a_stopped_or_replaced_address_is_404(chair, dates):
    first = calendar_feed_issue(user=chair, language="en")
    second = calendar_feed_issue(user=chair, language="en")
    _read(first, status=404)
    _read(second)
    assert calendar_feed_revoke(user=chair)
    _read(second, status=404)
    _read("never-made", status=404)


def test_an_inactive_person_s_address_is_404(chair, dates):
    token = calendar_feed_issue(user=chair, language="en")
    chair.is_active = False
    chair.save()
    _read(token, status=404)


def test_the_page_shows_a_new_address_once_and_stops_it(client_as, kam, dates):
    http = client_as(kam)
    page = reverse("governance:calendar")
    assert "No address is in use." in http.get(page).content.decode()
    http.post(page, {"action": "make"})
    shown = http.get(page).context["address"]
    assert shown.startswith("http://testserver/committee/calendar/")
    assert HttpClient().get(shown).status_code == 200
    assert http.get(page).context["address"] is None
    http.post(page, {"action": "stop"})
    assert HttpClient().get(shown).status_code == 404


def test_the_page_is_for_signed_in_people(client):
    response = client.get(reverse("governance:calendar"))
    assert response.status_code == 302


def _invite(message) -> Calendar:
    (name, content, mimetype), *_ = message.attachments
    assert name.endswith(".ics")
    assert mimetype == "text/calendar"
    return Calendar.from_ical(content)


def test_a_scheduled_meeting_is_announced_with_its_invitation(
    chair, member, kam, dates, mailoutbox
):
    meeting = meeting_create(
        held_on=datetime.date(2026, 12, 10), title="Ad hoc", location="Room 5", by=chair
    )
    mail_deliver_due()  # the worker sends the outbox's letters, invitation attached
    assert sorted(m.to[0] for m in mailoutbox) == sorted([chair.email, member.email])
    (event,) = _invite(mailoutbox[0]).walk("VEVENT")
    assert str(event["uid"]) == event_uid("meeting", meeting.pk)
    assert str(event["location"]) == "Room 5"
    # The subscription holds the same event: a calendar updates it rather than doubling it.
    feed = _read(calendar_feed_issue(user=member, language="en"))
    assert event_uid("meeting", meeting.pk) in _uids(feed)


def test_a_meeting_with_its_hour_is_invited_at_that_hour(chair, member, dates, mailoutbox):
    meeting_create(
        held_on=datetime.date(2026, 12, 10),
        starts_at=datetime.time(10, 0),
        title="Q4",
        by=chair,
    )
    mail_deliver_due()
    (event,) = _invite(mailoutbox[0]).walk("VEVENT")
    start = event.decoded("dtstart")
    assert start == timezone.make_aware(datetime.datetime(2026, 12, 10, 10, 0))
    assert "10.12.2026 10:00" in mailoutbox[0].body


def test_an_opened_vote_is_announced_with_its_deadline(
    chair, member, dates, account_of_kam, mailoutbox
):
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
    mail_deliver_due()
    assert len(mailoutbox) == 2
    (event,) = _invite(mailoutbox[0]).walk("VEVENT")
    assert str(event["uid"]) == event_uid("vote-deadline", proposal.pk)
    assert event.decoded("dtstart") == proposal.deadline.replace(microsecond=0)


def test_a_withdrawn_vote_is_cancelled_in_the_calendar(cast, dates):
    Proposal.objects.filter(typed_title="Key for Volga").update(state=ProposalState.WITHDRAWN)
    calendar = _read(calendar_feed_issue(user=cast["chair"], language="en"))
    (event,) = [e for e in calendar.walk("VEVENT") if str(e["uid"]) == dates["vote"]]
    assert str(event["status"]) == "CANCELLED"


@pytest.mark.parametrize("more", [0, 5])
def test_the_feed_costs_the_same_however_many_events(
    cast, dates, chair, django_assert_num_queries, more
):
    for day in range(more):
        Meeting.objects.create(
            held_on=datetime.date(2027, 1, 1 + day), title=f"Session {day}", created_by=chair
        )
    token = calendar_feed_issue(user=cast["director"], language="en")
    # The address, the owner's permissions (groups, own), then meetings, deadlines, reviews
    # and mandates: one query each.
    with django_assert_num_queries(7):
        calendar = _read(token)
    assert len(list(calendar.walk("VEVENT"))) == 5 + more
