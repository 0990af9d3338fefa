"""The committee's dates as iCalendar events: a meeting, a vote's deadline, a decision's review
date, a mandate's end. Each event's UID is made of what it is and its row, so that a calendar
that reads it again — from the subscription or from a letter's attachment — updates the event
instead of adding a second one.

Builds events from rows it is given; who may see which rows is decided by the caller.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from governance.models import Decision, Mandate, Meeting, Proposal, ProposalState

ICS_MIMETYPE = "text/calendar"
ONE_DAY = datetime.timedelta(days=1)


def event_uid(kind: str, pk: int) -> str:
    """``skam-meeting-7@skam.example.com``: the same for the same row, wherever it is sent."""
    host = urlsplit(settings.SKAM_BASE_URL).hostname or "skam"
    return f"skam-{kind}-{pk}@{host}"


def _link(path: str) -> str:
    return settings.SKAM_BASE_URL.rstrip("/") + path


def _event(
    *, kind: str, pk: int, summary: str, path: str, start: datetime.date | datetime.datetime
) -> Event:
    event = Event()
    event.add("uid", event_uid(kind, pk))
    event.add("dtstamp", timezone.now())
    event.add("summary", " ".join(summary.split()))
    if isinstance(start, datetime.datetime):
        # A moment: the event ends when it starts (RFC 5545, 3.6.1).
        event.add("dtstart", start)
    else:
        event.add("dtstart", start)
        event.add("dtend", start + ONE_DAY)
        event.add("transp", "TRANSPARENT")
    event.add("url", _link(path))
    event.add("description", _link(path))
    return event


def meeting_event(meeting: Meeting) -> Event:
    event = _event(
        kind="meeting",
        pk=meeting.pk,
        summary=_("Committee meeting: %(title)s") % {"title": meeting.title},
        path=meeting.get_absolute_url(),
        start=meeting.starts(),
    )
    event["transp"] = "OPAQUE"
    if meeting.location:
        event.add("location", meeting.location)
    return event


def deadline_event(proposal: Proposal) -> Event:
    """The moment a vote closes; cancelled once the proposal is withdrawn."""
    event = _event(
        kind="vote-deadline",
        pk=proposal.pk,
        summary=_("Vote closes: %(title)s") % {"title": proposal.title},
        path=proposal.get_absolute_url(),
        start=proposal.deadline,
    )
    if proposal.state == ProposalState.WITHDRAWN:
        event.add("status", "CANCELLED")
    return event


def review_event(decision: Decision) -> Event:
    return _event(
        kind="decision-review",
        pk=decision.pk,
        summary=_("Decision due for review: %(summary)s") % {"summary": decision.summary},
        path=decision.proposal.get_absolute_url(),
        start=decision.review_date,
    )


def mandate_end_event(mandate: Mandate, *, path: str) -> Event:
    return _event(
        kind="mandate-end",
        pk=mandate.pk,
        summary=_("Mandate ends: %(mandate)s") % {"mandate": mandate},
        path=path,
        start=mandate.valid_to,
    )


def calendar_bytes(events: Iterable[Event], *, name: str) -> bytes:
    """A whole calendar, published (no replies expected), as the bytes of an .ics file."""
    calendar = Calendar()
    calendar.add("prodid", "-//SKAM//Strategic key-account management//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", " ".join(name.split()))
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()
