"""E-mail to the committee: a proposal opened, its deadline near, its outcome. Sent after the
transaction that caused it has committed, so nobody is told of something that did not happen."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from governance.models import Proposal, ProposalState, Vote

logger = logging.getLogger(__name__)


def _due(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M")


def _letters(
    recipients: list[object], subject: str, body: str, path: str, *, title: str = ""
) -> list[tuple[str, str, str, list[str]]]:
    """One e-mail to each recipient who has an address: the text, what it is about, the link."""
    url = settings.SKAM_BASE_URL.rstrip("/") + path
    text = f"{body}\n\n" + (f"{title}\n" if title else "") + f"{url}\n"
    return [
        (subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
        for user in recipients
        if getattr(user, "email", "")
    ]


def _post(letters: list[tuple[str, str, str, list[str]]]) -> int:
    """Send them over one connection."""
    return send_mass_mail(letters, fail_silently=False) if letters else 0


def _mail(recipients: list[object], subject: str, body: str, path: str, *, title: str = "") -> int:
    return _post(_letters(recipients, subject, body, path, title=title))


def _send(proposal: Proposal, recipients: list[object], subject: str, body: str) -> int:
    return _mail(recipients, subject, body, proposal.get_absolute_url(), title=proposal.title)


def notify_opened(*, proposal: Proposal) -> None:
    from governance.services import entitled_members

    def send() -> None:
        with translation.override(settings.LANGUAGE_CODE):
            deadline = _due(proposal.deadline)
            _send(
                proposal,
                entitled_members(proposal=proposal),
                _("New proposal to vote on: %(title)s") % {"title": proposal.title},
                _("A proposal is open for your vote until %(deadline)s.") % {"deadline": deadline},
            )

    transaction.on_commit(send)


def notify_outcome(*, proposal: Proposal) -> None:
    from accounts.models import User

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
    from governance.services import entitled_members

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
            letters += _letters(
                missing,
                _("Your vote is awaited: %(title)s") % {"title": proposal.title},
                _("Voting closes at %(deadline)s and you have not voted yet.")
                % {"deadline": _due(proposal.deadline)},
                proposal.get_absolute_url(),
                title=proposal.title,
            )
    return _post(letters)


# The management shell: whoever must act on a KAM's request is told when it arrives, and
# reminded once when its deadline is near.

REMIND_BEFORE = datetime.timedelta(hours=12)


def notify_exception_filed(*, request: object) -> None:
    """Tell the tier's approvers (and the deputies of those away) a request awaits them."""
    from django.urls import reverse

    from governance.mandates import approvers_for

    def send() -> None:
        with translation.override(settings.LANGUAGE_CODE):
            _mail(
                approvers_for(request.approver),
                _("Exception request: %(client)s") % {"client": request.client},
                _("%(kam)s asks to go past the mandate. Please decide by %(due)s.")
                % {"kam": request.requested_by, "due": _due(request.respond_by)},
                reverse("governance:exception-list"),
            )

    transaction.on_commit(send)


def notify_department_request(*, request: object) -> None:
    """Tell the obligation's owner a KAM needs something from their department."""
    from django.urls import reverse

    def send() -> None:
        with translation.override(settings.LANGUAGE_CODE):
            _mail(
                [request.obligation.owner],
                _("Request from %(kam)s: %(text)s")
                % {"kam": request.requested_by, "text": request.text},
                _("Due by %(due)s (%(obligation)s).")
                % {"due": _due(request.due_at), "obligation": request.obligation},
                reverse("governance:departments"),
            )

    transaction.on_commit(send)


def notify_incident_declared(*, incident: object) -> None:
    """Tell the situation's owner an incident was declared and must be taken in hand."""

    def send() -> None:
        with translation.override(settings.LANGUAGE_CODE):
            _mail(
                [incident.owner],
                _("Incident: %(situation)s at %(client)s")
                % {"situation": incident.situation, "client": incident.client},
                _("%(kam)s declared it. Take it in hand by %(due)s.")
                % {"kam": incident.declared_by, "due": _due(incident.respond_by)},
                incident.get_absolute_url(),
            )

    transaction.on_commit(send)


def _claim(queryset: object, now: datetime.datetime) -> list[object]:
    """Lock the rows due a reminder that nobody else is reminding, and mark them reminded, in
    one transaction: two beats running at once never remind twice."""
    with transaction.atomic():
        rows = list(queryset.select_for_update(skip_locked=True, of=("self",)))
        queryset.model.objects.filter(pk__in=[row.pk for row in rows]).update(reminded_at=now)
    return rows


def remind_mandate_deadlines(*, now: datetime.datetime | None = None) -> int:
    """Once per item, remind whoever must act that an exception request, a department request
    or an incident is due within ``REMIND_BEFORE`` (or overdue). Returns the e-mails sent."""
    from django.urls import reverse

    from governance.mandates import approvers_for
    from governance.models import (
        DepartmentRequest,
        ExceptionRequest,
        ExceptionState,
        Incident,
        IncidentState,
    )

    now = now or timezone.now()
    soon = now + REMIND_BEFORE
    letters = []
    exceptions = _claim(
        ExceptionRequest.objects.filter(
            state=ExceptionState.PENDING, reminded_at=None, respond_by__lte=soon
        ).select_related("client", "requested_by"),
        now,
    )
    departments = _claim(
        DepartmentRequest.objects.filter(
            fulfilled_at=None, reminded_at=None, due_at__lte=soon
        ).select_related("obligation__owner", "client", "requested_by"),
        now,
    )
    incidents = _claim(
        Incident.objects.filter(
            state=IncidentState.OPEN, reminded_at=None, respond_by__lte=soon
        ).select_related("owner", "client", "situation"),
        now,
    )
    approvers: dict[str, list[object]] = {}
    with translation.override(settings.LANGUAGE_CODE):
        for item in exceptions:
            if item.approver not in approvers:
                approvers[item.approver] = approvers_for(item.approver)
            letters += _letters(
                approvers[item.approver],
                _("Reminder: exception request for %(client)s") % {"client": item.client},
                _("An answer is due by %(due)s.") % {"due": _due(item.respond_by)},
                reverse("governance:exception-list"),
            )
        for item in departments:
            letters += _letters(
                [item.obligation.owner],
                _("Reminder: %(text)s") % {"text": item.text},
                _("Due by %(due)s, asked by %(kam)s for %(client)s.")
                % {"due": _due(item.due_at), "kam": item.requested_by, "client": item.client},
                reverse("governance:departments"),
            )
        for item in incidents:
            letters += _letters(
                [item.owner],
                _("Reminder: incident at %(client)s") % {"client": item.client},
                _("It must be taken in hand by %(due)s.") % {"due": _due(item.respond_by)},
                item.get_absolute_url(),
            )
    return _post(letters)
