"""Pages of absences: a member away names a deputy who decides in their stead. A member
records and ends only their own absence; nobody records one for them."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.refusals import add_refusal
from governance.models import Absence
from governance.permissions import ADD_ABSENCE, VIEW_ABSENCE
from governance.shell.absences import (
    absence_end as absence_end_service,
)
from governance.shell.absences import (
    absence_record,
    may_record_absence,
    seated_throughout,
)
from governance.shell.forms import AbsenceForm


@login_required
@permission_required(VIEW_ABSENCE, raise_exception=True)
def absence_list(request: HttpRequest) -> HttpResponse:
    """Who is away, and who decides in their place: a seated member records their own
    absence."""
    today = timezone.localdate()
    form = None
    if request.user.has_perm(ADD_ABSENCE) and may_record_absence(request.user):
        people = seated_throughout(today, today).exclude(pk=request.user.pk)
        form = AbsenceForm(request.POST or None, people=people)
        if request.method == "POST" and form.is_valid():
            try:
                absence_record(member=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_refusal(form, exc)
            else:
                messages.success(request, _("Absence recorded: the deputy decides meanwhile."))
                return redirect("governance:absence-list")
    elif request.method == "POST":
        raise PermissionDenied
    absences = Absence.objects.filter(ends_on__gte=today - datetime.timedelta(days=30))
    return render(
        request,
        "governance/shell/absence_list.html",
        {
            "absences": absences.select_related("user", "deputy").order_by("starts_on"),
            "form": form,
            "today": today,
        },
    )


@login_required
@permission_required(ADD_ABSENCE, raise_exception=True)
@require_POST
def absence_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End an absence today (or drop one not begun): the member decides again themselves."""
    absence = get_object_or_404(Absence, pk=pk)
    absence_end_service(absence=absence, by=request.user)
    messages.success(request, _("The absence is ended."))
    return redirect("governance:absence-list")
