"""E-mail to the committee: a proposal opened, its deadline near, its outcome. Queued in the
outbox in the transaction that caused it (``governance.mail``), and sent by the worker after
the commit, so nobody is told of something that did not happen and nothing told is lost. Each
letter is said in its reader's language: what it says is given as functions (``mail_queue``).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from governance.committee.ical import (
    ICS_MIMETYPE,
    calendar_bytes,
    deadline_event,
    meeting_event,
)
from governance.mail import Attachment, Attachments, Said, mail_queue, when_due
from governance.models import Meeting, Proposal, ProposalState, Vote
from governance.recipients import entitled_members, members_seated_on


def _queue(
    event: str,
    proposal: Proposal,
    recipients: list[object],
    subject: Said,
    body: Said,
    attachments: Attachments = (),
) -> int:
    """Queue the letters of ``event``, each said in its reader's language (``mail_queue``)."""
    return mail_queue(
        key=f"{event}:{proposal.pk}",
        recipients=recipients,
        subject=subject,
        body=body,
        path=proposal.get_absolute_url(),
        title=lambda: proposal.title,
        attachments=attachments,
    )


def _invitation(event: object, *, name: str) -> Attachment:
    """The .ics a letter carries: the same event, with the same UID, as the subscription."""
    return Attachment("invite.ics", calendar_bytes([event], name=name), ICS_MIMETYPE)


def notify_opened(*, proposal: Proposal) -> None:
    deadline = when_due(proposal.deadline)
    _queue(
        "proposal-opened",
        proposal,
        entitled_members(proposal=proposal),
        lambda: _("New proposal to vote on: %(title)s") % {"title": proposal.title},
        lambda: _("A proposal is open for your vote until %(deadline)s.") % {"deadline": deadline},
        lambda: (_invitation(deadline_event(proposal), name=proposal.title),),
    )


def notify_meeting_scheduled(*, meeting: Meeting) -> None:
    """Tell the members seated on the meeting's day, with the meeting for their calendar."""
    day = meeting.held_on.strftime("%d.%m.%Y")
    if meeting.starts_at is not None:
        day = f"{day} {meeting.starts_at:%H:%M}"
    place = f", {meeting.location}" if meeting.location else ""
    mail_queue(
        key=f"meeting-scheduled:{meeting.pk}",
        recipients=members_seated_on(meeting.held_on),
        subject=lambda: (
            _("Committee meeting on %(day)s: %(title)s") % {"day": day, "title": meeting.title}
        ),
        body=lambda: _("The committee meets on %(day)s%(place)s.") % {"day": day, "place": place},
        path=meeting.get_absolute_url(),
        title=meeting.title,
        attachments=lambda: (_invitation(meeting_event(meeting), name=meeting.title),),
    )


def notify_outcome(*, proposal: Proposal) -> None:
    ids = {entry["id"] for entry in proposal.entitled} | {proposal.proposed_by_id}
    _queue(
        "proposal-outcome",
        proposal,
        list(User.objects.filter(pk__in=ids)),
        lambda: _("Outcome: %(title)s") % {"title": proposal.title},
        lambda: _("The vote has closed: %(outcome)s.") % {"outcome": proposal.get_state_display()},
    )


def remind_non_voters(*, within: datetime.timedelta = datetime.timedelta(hours=24)) -> int:
    """Once per proposal, remind the members who have not voted that its deadline is near;
    returns the letters queued. The reminder is claimed by a conditional update in the
    transaction that queues its letters, so two beats never send it twice, and a reminder
    marked sent is one whose letters are in the outbox."""
    queued = 0
    now = timezone.now()
    due = Proposal.objects.filter(
        state=ProposalState.OPEN, deadline__gt=now, deadline__lte=now + within, reminded_at=None
    )
    for proposal in due:
        with transaction.atomic():
            claimed = Proposal.objects.filter(pk=proposal.pk, reminded_at=None).update(
                reminded_at=now
            )
            if not claimed:
                continue
            voted = set(
                Vote.objects.filter(proposal=proposal, is_current=True).values_list(
                    "member_id", flat=True
                )
            )
            missing = [m for m in entitled_members(proposal=proposal) if m.pk not in voted]
            deadline = when_due(proposal.deadline)
            queued += _queue(
                "remind-voters",
                proposal,
                missing,
                lambda proposal=proposal: (
                    _("Your vote is awaited: %(title)s") % {"title": proposal.title}
                ),
                lambda deadline=deadline: (
                    _("Voting closes at %(deadline)s and you have not voted yet.")
                    % {"deadline": deadline}
                ),
            )
    return queued
