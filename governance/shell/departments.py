"""What internal departments owe the KAMs: requests against obligations, and their breaches."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.refusals import NotAllowed
from governance.models import DepartmentObligation, DepartmentRequest
from governance.permissions import VIEW_DEPARTMENT_REQUEST
from governance.shell.mandates import mandate_account
from governance.shell.notifications import notify_department_request


def department_requests_visible_to(user: User) -> QuerySet[DepartmentRequest]:
    """The requests ``user`` may see: all of them for the committee, directors and the
    administrator; anyone else those they made and those owed by an obligation they own."""
    if not user.is_authenticated:
        return DepartmentRequest.objects.none()
    if user.has_perm(VIEW_DEPARTMENT_REQUEST):
        return DepartmentRequest.objects.all()
    return DepartmentRequest.objects.filter(Q(requested_by=user) | Q(obligation__owner=user))


def department_request(
    *, kam: User, obligation: DepartmentObligation, client_id: int, text: str
) -> DepartmentRequest:
    """Log a request for one of the KAM's accounts; it is due within the obligation's time."""
    mandate_account(kam=kam, client_id=client_id)  # NotInMandate outside the KAM's accounts
    if not text.strip():
        raise ValidationError(_("Say what you need from the department."))
    with transaction.atomic():
        request = DepartmentRequest.objects.create(
            obligation=obligation,
            client_id=client_id,
            requested_by=kam,
            text=text,
            due_at=timezone.now() + datetime.timedelta(hours=obligation.response_hours),
        )
        notify_department_request(request=request)
    return request


def department_fulfil(*, request: DepartmentRequest, by: User) -> DepartmentRequest:
    """The obligation's owner marks the request fulfilled (once); not the KAM who made it,
    even when they own the obligation (nobody closes their own request)."""
    if request.obligation.owner_id != by.pk:
        raise NotAllowed(_("Only the obligation's owner marks its requests fulfilled."))
    if request.requested_by_id == by.pk:
        raise NotAllowed(
            _("Nobody marks their own request fulfilled: the department's answer is recorded.")
        )
    DepartmentRequest.objects.filter(pk=request.pk, fulfilled_at=None).update(
        fulfilled_at=timezone.now()
    )
    request.refresh_from_db()
    return request


def breaches_by_department(*, now: datetime.datetime | None = None) -> QuerySet:
    """Per department: requests, and those answered late or overdue now (one query)."""
    now = now or timezone.now()
    late = DepartmentRequest.objects.breached_at(now)
    return (
        DepartmentRequest.objects.values(department=F("obligation__department"))
        .annotate(requests=Count("pk"), breaches=Count("pk", filter=late))
        .order_by("department")
    )
