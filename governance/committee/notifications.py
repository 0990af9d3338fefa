"""E-mail to the committee: a proposal opened, its deadline near, its outcome. Sent after the
transaction that caused it has committed, so nobody is told of something that did not happen.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from governance.committee.ical import (
    ICS_MIMETYPE,
    calendar_bytes,
    deadline_event,
    meeting_event,
)
from governance.mail import Attachment, letters_post, letters_to, mail_send, when_due
from governance.models import Meeting, Proposal, ProposalState, Vote
from governance.recipients import entitled_members, members_seated_on


def _send(
    proposal: Proposal,
    recipients: list[object],
    subject: str,
    body: str,
    attachments: tuple[Attachment, ...] = (),
) -> int:
    return mail_send(
        recipients,
        subject,
        body,
        proposal.get_absolute_url(),
        title=proposal.title,
        attachments=attachments,
    )


def _invitation(event: object, *, name: str) -> Attachment:
    """The .ics a letter carries: the same event, with the same UID, as the subscription."""
    return Attachment("invite.ics", calendar_bytes([event], name=name), ICS_MIMETYPE)


def notify_opened(*, proposal: Proposal) -> None:
    def send() -> None:
        with translation.override(settings.LANGUAGE_CODE):
            deadline = when_due(proposal.deadline)
            _send(
                proposal,
                entitled_members(proposal=proposal),
                _("New proposal to vote on: %(title)s") % {"title": proposal.title},
                _("A proposal is open for your vote until %(deadline)s.") % {"deadline": deadline},
                (_invitation(deadline_event(proposal), name=proposal.title),),
            )

    transaction.on_commit(send)


def notify_meeting_scheduled(*, meeting: Meeting) -> None:
    """Tell the members seated on the meeting's day, with the meeting for their calendar."""

    def send() -> None:
        with translation.override(settings.LANGUAGE_CODE):
            mail_send(
                members_seated_on(meeting.held_on),
                _("Committee meeting on %(day)s: %(title)s")
                % {"day": meeting.held_on.strftime("%d.%m.%Y"), "title": meeting.title},
                _("The committee meets on %(day)s%(place)s.")
                % {
                    "day": meeting.held_on.strftime("%d.%m.%Y"),
                    "place": f", {meeting.location}" if meeting.location else "",
                },
                meeting.get_absolute_url(),
                title=meeting.title,
                attachments=(_invitation(meeting_event(meeting), name=meeting.title),),
            )

    transaction.on_commit(send)


def notify_outcome(*, proposal: Proposal) -> None:
    def send() -> None:
        ids = {entry["id"] for entry in proposal.entitled} | {proposal.proposed_by_id}
        with translation.override(settings.LANGUAGE_CODE):
            _send(
                proposal,
                list(User.objects.filter(pk__in=ids)),
                _("Outcome: %(title)s") % {"title": proposal.title},
                _("The vote has closed: %(outcome)s.") % {"outcome": proposal.get_state_display()},
            )

    transaction.on_commit(send)


def remind_non_voters(*, within: datetime.timedelta = datetime.timedelta(hours=24)) -> int:
    """Once per proposal, remind the members who have not voted that its deadline is near.
    The reminder is claimed by a conditional update, so two beats never send it twice."""
    letters = []
    now = timezone.now()
    due = Proposal.objects.filter(
        state=ProposalState.OPEN, deadline__gt=now, deadline__lte=now + within, reminded_at=None
    )
    for proposal in due:
        if not Proposal.objects.filter(pk=proposal.pk, reminded_at=None).update(reminded_at=now):
            continue
        voted = set(
            Vote.objects.filter(proposal=proposal, is_current=True).values_list(
                "member_id", flat=True
            )
        )
        missing = [m for m in entitled_members(proposal=proposal) if m.pk not in voted]
        with translation.override(settings.LANGUAGE_CODE):
            letters += letters_to(
                missing,
                _("Your vote is awaited: %(title)s") % {"title": proposal.title},
                _("Voting closes at %(deadline)s and you have not voted yet.")
                % {"deadline": when_due(proposal.deadline)},
                proposal.get_absolute_url(),
                title=proposal.title,
            )
    return letters_post(letters)
