"""Pages of absences: a member away names a deputy who decides in their stead."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from governance.models import (
    Absence,
    CommitteeMember,
)
from governance.permissions import ADD_ABSENCE, CHANGE_ABSENCE, VIEW_ABSENCE
from governance.shell.forms import AbsenceForm


def _absence_form(request: HttpRequest, data: object = None) -> AbsenceForm:
    today = timezone.localdate()
    seated = CommitteeMember.objects.active_on(today).values("user_id")
    members = User.objects.filter(pk__in=seated).order_by("last_name", "first_name")
    if not request.user.has_perm(CHANGE_ABSENCE):
        members = members.filter(pk=request.user.pk)
    people = User.objects.filter(is_active=True).order_by("last_name", "first_name")
    return AbsenceForm(data, members=members, people=people)


@login_required
@permission_required(VIEW_ABSENCE, raise_exception=True)
def absence_list(request: HttpRequest) -> HttpResponse:
    """Who is away, and who decides in their place: a member records their own absence; an
    administrator records anyone's."""
    form = None
    if request.user.has_perm(ADD_ABSENCE):
        form = _absence_form(request, request.POST or None)
        if request.method == "POST" and form.is_valid():
            Absence.objects.create(**form.cleaned_data)
            messages.success(request, _("Absence recorded: the deputy decides meanwhile."))
            return redirect("governance:absence-list")
    elif request.method == "POST":
        raise PermissionDenied
    today = timezone.localdate()
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
    if absence.user_id != request.user.pk and not request.user.has_perm(CHANGE_ABSENCE):
        raise PermissionDenied
    today = timezone.localdate()
    if absence.starts_on > today:
        absence.delete()
    elif absence.ends_on >= today:
        # Ends yesterday: from today the member decides again.
        yesterday = today - datetime.timedelta(days=1)
        if yesterday < absence.starts_on:
            absence.delete()
        else:
            Absence.objects.filter(pk=absence.pk).update(ends_on=yesterday)
    messages.success(request, _("The absence is ended."))
    return redirect("governance:absence-list")
