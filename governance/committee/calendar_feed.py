"""Each person's calendar subscription: a secret address that serves, as iCalendar, the
meetings, vote deadlines, review dates and mandate ends that this person may see — by the same
``*_visible_to`` selectors as the pages, so a calendar never shows more than the browser.
"""

from __future__ import annotations

import datetime
import secrets

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Event

from accounts.models import User
from governance.committee.ical import (
    calendar_bytes,
    deadline_event,
    mandate_end_event,
    meeting_event,
    review_event,
)
from governance.committee.meetings import meetings_visible_to
from governance.committee.proposals import decisions_visible_to, proposals_visible_to
from governance.models import SUBJECTS, CalendarFeed, MandateStatus, ProposalState
from governance.permissions import VIEW_MANDATE
from governance.shell.mandates import mandates_visible_to

# How far back the feed reaches: calendars keep what they read, a year of the past is plenty.
FEED_HISTORY = datetime.timedelta(days=365)


def calendar_feed_issue(*, user: User, language: str) -> str:
    """Make ``user``'s subscription address anew and return its secret, the only time it is
    seen: the previous address, if any, stops working."""
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(
        user=user, defaults={"token_digest": CalendarFeed.digest_of(token), "language": language}
    )
    return token


def calendar_feed_revoke(*, user: User) -> bool:
    """Stop ``user``'s subscription address; True if there was one."""
    deleted, _rows = CalendarFeed.objects.filter(user=user).delete()
    return bool(deleted)


def calendar_feed_find(*, token: str) -> CalendarFeed | None:
    """The subscription this secret opens, if it is current and its owner still active."""
    return (
        CalendarFeed.objects.select_related("user")
        .filter(token_digest=CalendarFeed.digest_of(token), user__is_active=True)
        .first()
    )


def calendar_events_for(user: User, *, now: datetime.datetime | None = None) -> list[Event]:
    """What ``user`` may see, as events: meetings, vote deadlines, review dates of decisions in
    force, and the end dates of mandates in force; from a year back on. Four queries."""
    now = now or timezone.now()
    since = timezone.localdate(now) - FEED_HISTORY
    meetings = meetings_visible_to(user).filter(held_on__gte=since).order_by("held_on", "pk")
    deadlines = (
        proposals_visible_to(user)
        .filter(deadline__isnull=False, deadline__gte=now - FEED_HISTORY)
        .exclude(state=ProposalState.DRAFT)
        .select_related(*SUBJECTS)  # a title SKAM says is said from them
        .order_by("deadline", "pk")
    )
    reviews = (
        decisions_visible_to(user)
        .in_force()
        .filter(review_date__isnull=False)
        .select_related("proposal")
        .order_by("review_date", "pk")
    )
    mandates = (
        mandates_visible_to(user)
        .filter(status=MandateStatus.IN_FORCE, valid_to__isnull=False)
        .filter(valid_to__gte=since)
        .select_related("kam")
        .order_by("valid_to", "pk")
    )
    sees_all_mandates = user.has_perm(VIEW_MANDATE)
    return [
        *(meeting_event(meeting) for meeting in meetings),
        *(deadline_event(proposal) for proposal in deadlines),
        *(review_event(decision) for decision in reviews),
        *(
            mandate_end_event(
                mandate,
                path=reverse("governance:mandate-detail", args=[mandate.pk])
                if sees_all_mandates
                else reverse("governance:my-mandate"),
            )
            for mandate in mandates
        ),
    ]


def calendar_of(feed: CalendarFeed) -> bytes:
    """The subscription's calendar, in the language it was made in."""
    with translation.override(feed.language):
        return calendar_bytes(
            calendar_events_for(feed.user), name=_("SKAM: %(person)s") % {"person": feed.user}
        )
