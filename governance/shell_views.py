"""Pages of the management shell beyond the mandate itself: exceptional situations (the
playbook and incidents), absences with their deputies, and the committee's budgets."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User, quarter_start
from governance.budgets import budget_allocate, budget_lines
from governance.forms import AbsenceForm, BudgetForm, IncidentForm, add_refusal
from governance.incidents import (
    IncidentMoved,
    incident_close,
    incident_declare,
    incident_note,
    incident_take,
    incidents_visible_to,
    may_handle,
    may_see_incidents,
)
from governance.kpis import next_quarter, previous_quarter
from governance.mandates import NotInMandate, clients_of, mandate_in_force
from governance.models import (
    Absence,
    CommitteeMember,
    IncidentState,
    SituationType,
)
from governance.views import tell_refusal

INCIDENT_TABS = (
    ("active", _("Open")),
    ("closed", IncidentState.CLOSED.label),
    ("all", _("All")),
)


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    """Incidents the user may see: all for the committee and directors, else their own."""
    if not may_see_incidents(request.user):
        raise PermissionDenied
    incidents = incidents_visible_to(request.user).order_by("-declared_at", "-pk")
    tab = request.GET.get("state", "active")
    if tab == "active":
        incidents = incidents.exclude(state=IncidentState.CLOSED)
    elif tab == "closed":
        incidents = incidents.filter(state=IncidentState.CLOSED)
    else:
        tab = "all"
    page = Paginator(incidents, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "governance/incident_list.html",
        {
            "page": page,
            "tab": tab,
            "tabs": INCIDENT_TABS,
            "query": f"state={tab}",
            "now": timezone.now(),
            "may_declare": request.user.has_perm("governance.add_incident"),
        },
    )


@login_required
@permission_required("governance.add_incident", raise_exception=True)
def incident_new(request: HttpRequest) -> HttpResponse:
    """A KAM declares an exceptional situation on one of their accounts."""
    mandate = mandate_in_force(kam=request.user)
    clients = clients_of(mandate) if mandate else []
    form = IncidentForm(request.POST or None, clients=clients)
    if request.method == "POST" and form.is_valid():
        try:
            incident = incident_declare(
                kam=request.user,
                client_id=form.cleaned_data["client"],
                situation=form.cleaned_data["situation"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as exc:
            add_refusal(form, exc)
        except NotInMandate as exc:
            form.add_error("client", str(exc))
        else:
            messages.success(
                request,
                _("Incident declared: %(owner)s is told and answers by %(due)s.")
                % {
                    "owner": incident.owner,
                    "due": timezone.localtime(incident.respond_by).strftime("%d.%m.%Y %H:%M"),
                },
            )
            return redirect(incident)
    playbook = SituationType.objects.filter(is_active=True).select_related("owner")
    return render(
        request,
        "governance/incident_form.html",
        {"form": form, "mandate": mandate, "playbook": playbook},
    )


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not may_see_incidents(request.user):
        raise PermissionDenied
    incident = get_object_or_404(incidents_visible_to(request.user), pk=pk)
    handles = may_handle(request.user, incident)
    return render(
        request,
        "governance/incident_detail.html",
        {
            "incident": incident,
            "updates": incident.updates.select_related("author"),
            "handles": handles,
            "may_note": handles or incident.declared_by_id == request.user.pk,
            "now": timezone.now(),
        },
    )


def _incident_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if not may_see_incidents(request.user):
        raise PermissionDenied
    incident = get_object_or_404(incidents_visible_to(request.user), pk=pk)
    text = request.POST.get("text", "")
    try:
        if action == "take":
            incident_take(incident=incident, by=request.user, text=text)
            messages.success(request, _("You have taken the incident in hand."))
        elif action == "close":
            incident_close(incident=incident, by=request.user, resolution=text)
            messages.success(request, _("The incident is closed."))
        else:
            incident_note(incident=incident, by=request.user, text=text)
            messages.success(request, _("Update recorded."))
    except (ValidationError, IncidentMoved) as exc:
        tell_refusal(request, exc)
    return redirect(incident)


@login_required
@require_POST
def incident_take_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _incident_action(request, pk, "take")


@login_required
@require_POST
def incident_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _incident_action(request, pk, "close")


@login_required
@require_POST
def incident_note_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _incident_action(request, pk, "note")


@login_required
@permission_required("governance.view_situationtype", raise_exception=True)
def playbook(request: HttpRequest) -> HttpResponse:
    """What to do in each exceptional situation, who owns it and how fast."""
    situations = SituationType.objects.filter(is_active=True).select_related("owner")
    return render(request, "governance/playbook.html", {"situations": situations})


def _absence_form(request: HttpRequest, data: object = None) -> AbsenceForm:
    today = timezone.localdate()
    seated = CommitteeMember.objects.active_on(today).values("user_id")
    members = User.objects.filter(pk__in=seated).order_by("last_name", "first_name")
    if not request.user.has_perm("governance.change_absence"):
        members = members.filter(pk=request.user.pk)
    people = User.objects.filter(is_active=True).order_by("last_name", "first_name")
    return AbsenceForm(data, members=members, people=people)


@login_required
@permission_required("governance.view_absence", raise_exception=True)
def absence_list(request: HttpRequest) -> HttpResponse:
    """Who is away, and who decides in their place: a member records their own absence; an
    administrator records anyone's."""
    form = None
    if request.user.has_perm("governance.add_absence"):
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
        "governance/absence_list.html",
        {
            "absences": absences.select_related("user", "deputy").order_by("starts_on"),
            "form": form,
            "today": today,
        },
    )


@login_required
@permission_required("governance.add_absence", raise_exception=True)
@require_POST
def absence_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End an absence today (or drop one not begun): the member decides again themselves."""
    absence = get_object_or_404(Absence, pk=pk)
    if absence.user_id != request.user.pk and not request.user.has_perm(
        "governance.change_absence"
    ):
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


def _period_of(request: HttpRequest) -> datetime.date:
    raw = request.GET.get("quarter", "")
    try:
        return quarter_start(datetime.date.fromisoformat(raw))
    except ValueError:
        return quarter_start(timezone.localdate())


@login_required
@permission_required("governance.view_budget", raise_exception=True)
def budget_list(request: HttpRequest) -> HttpResponse:
    """Budgets of a quarter: allocated, spent, remaining; the committee allocates here."""
    period = _period_of(request)
    form = None
    if request.user.has_perm("governance.add_budget"):
        form = BudgetForm(request.POST or None, initial={"period": period})
        if request.method == "POST" and form.is_valid():
            try:
                budget = budget_allocate(**form.cleaned_data)
            except ValidationError as exc:
                add_refusal(form, exc)
            else:
                messages.success(
                    request,
                    _("%(client)s: %(amount)s allocated for the quarter.")
                    % {"client": budget.client, "amount": budget.allocated},
                )
                return redirect(f"{request.path}?quarter={budget.period.isoformat()}")
    elif request.method == "POST":
        raise PermissionDenied
    lines = list(budget_lines(period=period))
    totals = {
        "allocated": sum(b.allocated for b in lines),
        "spent": sum(b.spent_total for b in lines),
    }
    totals["remaining"] = totals["allocated"] - totals["spent"]
    previous, following = previous_quarter(period), next_quarter(period)
    return render(
        request,
        "governance/budget_list.html",
        {
            "lines": lines,
            "totals": totals,
            "period": period,
            "previous": previous,
            "following": following,
            "form": form,
        },
    )
