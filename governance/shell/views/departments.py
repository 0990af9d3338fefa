"""Pages of what departments owe the KAMs: requests and their fulfilment."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.refusals import tell_refusal
from governance.models import (
    Department,
    DepartmentObligation,
    DepartmentRequest,
)
from governance.permissions import ADD_DEPARTMENT_REQUEST, VIEW_DEPARTMENT_REQUEST
from governance.shell.departments import (
    breaches_by_department,
    department_fulfil,
    department_request,
    department_requests_visible_to,
)
from governance.shell.mandates import (
    NotInMandate,
)


@login_required
@permission_required(ADD_DEPARTMENT_REQUEST, raise_exception=True)
@require_POST
def department_request_view(request: HttpRequest) -> HttpResponse:
    obligation = get_object_or_404(DepartmentObligation, pk=request.POST.get("obligation") or 0)
    client = request.POST.get("client", "")
    try:
        department_request(
            kam=request.user,
            obligation=obligation,
            client_id=int(client) if client.isdigit() else 0,
            text=request.POST.get("text", ""),
        )
    except (ValidationError, NotInMandate) as exc:
        tell_refusal(request, exc)
    else:
        messages.success(request, _("Your request is with the department."))
    return redirect("governance:my-mandate")


@login_required
def department_board(request: HttpRequest) -> HttpResponse:
    """Obligation owners see the requests they owe; directors and the committee the breaches."""
    sees_all = request.user.has_perm(VIEW_DEPARTMENT_REQUEST)
    if not sees_all and not DepartmentObligation.objects.filter(owner=request.user).exists():
        raise PermissionDenied
    visible = department_requests_visible_to(request.user)
    # An owner's board shows what their obligations owe, not the requests they made themselves.
    shown = visible if sees_all else visible.filter(obligation__owner=request.user)
    return render(
        request,
        "governance/shell/departments.html",
        {
            "requests": shown.select_related("obligation", "client", "requested_by")[:200],
            "breaches": list(breaches_by_department()) if sees_all else [],
            "now": timezone.now(),
            "labels": dict(Department.choices),
        },
    )


@login_required
@require_POST
def department_fulfil_view(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(DepartmentRequest.objects.select_related("obligation"), pk=pk)
    department_fulfil(request=item, by=request.user)  # NotAllowed (403) for anyone but the owner
    messages.success(request, _("Marked fulfilled."))
    return redirect("governance:departments")
