"""E-mail of the management shell: whoever must act on a KAM's request is told when it arrives,
and reminded once when its deadline is near; each in their own language (``mail_queue``).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.mail import mail_queue, when_due
from governance.models import (
    Approver,
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
    mail_queue(
        key=f"exception-filed:{request.pk}",
        recipients=approvers_for(request.approver),
        subject=lambda: _("Exception request: %(client)s") % {"client": request.client},
        body=lambda: (
            (
                _(
                    "%(kam)s asks to go past the mandate. The request is at the committee's "
                    "tier: a member proposes it to the committee, and the committee's vote "
                    "decides it. Please propose it by %(due)s."
                )
                if request.approver == Approver.COMMITTEE
                else _("%(kam)s asks to go past the mandate. Please decide by %(due)s.")
            )
            % {"kam": request.requested_by, "due": when_due(request.respond_by)}
        ),
        path=request.get_absolute_url(),
    )


def notify_department_request(*, request: object) -> None:
    """Tell the obligation's owner a KAM needs something from their department."""
    mail_queue(
        key=f"department-request:{request.pk}",
        recipients=[request.obligation.owner],
        subject=lambda: (
            _("Request from %(kam)s: %(text)s")
            % {"kam": request.requested_by, "text": request.text}
        ),
        body=lambda: (
            _("Due by %(due)s (%(obligation)s).")
            % {"due": when_due(request.due_at), "obligation": request.obligation}
        ),
        path=reverse("governance:departments"),
    )


def notify_incident_declared(*, incident: object) -> None:
    """Tell the situation's owner an incident was declared and must be taken in hand."""
    mail_queue(
        key=f"incident-declared:{incident.pk}",
        recipients=[incident.owner],
        subject=lambda: (
            _("Incident: %(situation)s at %(client)s")
            % {"situation": incident.situation, "client": incident.client}
        ),
        body=lambda: (
            _("%(kam)s declared it. Take it in hand by %(due)s.")
            % {"kam": incident.declared_by, "due": when_due(incident.respond_by)}
        ),
        path=incident.get_absolute_url(),
    )


def _claim(queryset: object, now: datetime.datetime) -> list[object]:
    """Lock the rows due a reminder that nobody else is reminding, and mark them reminded, in
    one transaction: two beats running at once never remind twice."""
    with transaction.atomic():
        rows = list(queryset.select_for_update(skip_locked=True, of=("self",)))
        queryset.model.objects.filter(pk__in=[row.pk for row in rows]).update(reminded_at=now)
    return rows


def remind_mandate_deadlines(*, now: datetime.datetime | None = None) -> int:
    """Once per item, remind whoever must act that an exception request, a department request
    or an incident is due within ``REMIND_BEFORE`` (or overdue). Returns the e-mails queued.
    The items are marked reminded in the transaction that queues their letters."""

    now = now or timezone.now()
    soon = now + REMIND_BEFORE
    queued = 0
    with transaction.atomic():
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
        for item in exceptions:
            if item.approver not in approvers:
                approvers[item.approver] = approvers_for(item.approver)
            queued += mail_queue(
                key=f"exception-reminder:{item.pk}",
                recipients=approvers[item.approver],
                subject=lambda item=item: (
                    _("Reminder: exception request for %(client)s") % {"client": item.client}
                ),
                body=lambda item=item: (
                    _("An answer is due by %(due)s.") % {"due": when_due(item.respond_by)}
                ),
                path=item.get_absolute_url(),
            )
        for item in departments:
            queued += mail_queue(
                key=f"department-reminder:{item.pk}",
                recipients=[item.obligation.owner],
                subject=lambda item=item: _("Reminder: %(text)s") % {"text": item.text},
                body=lambda item=item: (
                    _("Due by %(due)s, asked by %(kam)s for %(client)s.")
                    % {
                        "due": when_due(item.due_at),
                        "kam": item.requested_by,
                        "client": item.client,
                    }
                ),
                path=reverse("governance:departments"),
            )
        for item in incidents:
            queued += mail_queue(
                key=f"incident-reminder:{item.pk}",
                recipients=[item.owner],
                subject=lambda item=item: (
                    _("Reminder: incident at %(client)s") % {"client": item.client}
                ),
                body=lambda item=item: (
                    _("It must be taken in hand by %(due)s.") % {"due": when_due(item.respond_by)}
                ),
                path=item.get_absolute_url(),
            )
    return queued
