"""E-mail of the management shell: whoever must act on a KAM's request is told when it arrives,
and reminded once when its deadline is near.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from governance.mail import letters_post, letters_to, mail_send, when_due
from governance.models import (
    DepartmentRequest,
    ExceptionRequest,
    ExceptionState,
    Incident,
    IncidentState,
)
from governance.recipients import approvers_for

# The management shell: whoever must act on a KAM's request is told when it arrives, and
# reminded once when its deadline is near.

REMIND_BEFORE = datetime.timedelta(hours=12)


def notify_exception_filed(*, request: object) -> None:
    """Tell the tier's approvers (and the deputies of those away) a request awaits them."""

    def send() -> None:
        with translation.override(settings.LANGUAGE_CODE):
            mail_send(
                approvers_for(request.approver),
                _("Exception request: %(client)s") % {"client": request.client},
                _("%(kam)s asks to go past the mandate. Please decide by %(due)s.")
                % {"kam": request.requested_by, "due": when_due(request.respond_by)},
                reverse("governance:exception-list"),
            )

    transaction.on_commit(send)


def notify_department_request(*, request: object) -> None:
    """Tell the obligation's owner a KAM needs something from their department."""

    def send() -> None:
        with translation.override(settings.LANGUAGE_CODE):
            mail_send(
                [request.obligation.owner],
                _("Request from %(kam)s: %(text)s")
                % {"kam": request.requested_by, "text": request.text},
                _("Due by %(due)s (%(obligation)s).")
                % {"due": when_due(request.due_at), "obligation": request.obligation},
                reverse("governance:departments"),
            )

    transaction.on_commit(send)


def notify_incident_declared(*, incident: object) -> None:
    """Tell the situation's owner an incident was declared and must be taken in hand."""

    def send() -> None:
        with translation.override(settings.LANGUAGE_CODE):
            mail_send(
                [incident.owner],
                _("Incident: %(situation)s at %(client)s")
                % {"situation": incident.situation, "client": incident.client},
                _("%(kam)s declared it. Take it in hand by %(due)s.")
                % {"kam": incident.declared_by, "due": when_due(incident.respond_by)},
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
            letters += letters_to(
                approvers[item.approver],
                _("Reminder: exception request for %(client)s") % {"client": item.client},
                _("An answer is due by %(due)s.") % {"due": when_due(item.respond_by)},
                reverse("governance:exception-list"),
            )
        for item in departments:
            letters += letters_to(
                [item.obligation.owner],
                _("Reminder: %(text)s") % {"text": item.text},
                _("Due by %(due)s, asked by %(kam)s for %(client)s.")
                % {"due": when_due(item.due_at), "kam": item.requested_by, "client": item.client},
                reverse("governance:departments"),
            )
        for item in incidents:
            letters += letters_to(
                [item.owner],
                _("Reminder: incident at %(client)s") % {"client": item.client},
                _("It must be taken in hand by %(due)s.") % {"due": when_due(item.respond_by)},
                item.get_absolute_url(),
            )
    return letters_post(letters)
