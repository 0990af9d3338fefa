"""Pages of exceptional situations: the playbook, and incidents from declaration to closure."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.left_out import filters_left_out, page_of
from accounts.refusals import add_refusal, tell_refusal
from governance.lists import ANY_STATE, page_data, page_query
from governance.models import (
    IncidentState,
    SituationType,
)
from governance.permissions import ADD_INCIDENT, VIEW_SITUATION_TYPE
from governance.shell.filters import IncidentFilter, IncidentStateFilter
from governance.shell.forms import IncidentForm
from governance.shell.incidents import (
    IncidentMoved,
    incident_close,
    incident_declare,
    incident_note,
    incident_take,
    incidents_visible_to,
    may_handle,
    may_see_incidents,
)
from governance.shell.mandates import NotInMandate, clients_of, mandate_in_force

# Lazy: a module constant is built once, at import, before any reader's language is known.
INCIDENT_TABS = (
    (IncidentStateFilter.ACTIVE, gettext_lazy("Open")),
    (IncidentState.CLOSED, IncidentState.CLOSED.label),
    (ANY_STATE, gettext_lazy("All")),
)


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    """Incidents the user may see: all for the committee and directors, else their own."""
    if not may_see_incidents(request.user):
        raise PermissionDenied
    data = page_data(request, state=IncidentStateFilter.ACTIVE)
    incidents = IncidentFilter(
        data, queryset=incidents_visible_to(request.user).order_by("-declared_at", "-pk")
    )
    page, page_left_out = page_of(Paginator(incidents.qs, 25), data.get("page"))
    # A state the page cannot read lists every incident, under the "All" tab.
    tab = incidents.form.cleaned_data.get("state") or ANY_STATE
    return render(
        request,
        "governance/shell/incident_list.html",
        {
            "page": page,
            "tab": tab,
            "tabs": INCIDENT_TABS,
            "query": page_query(data),
            "now": timezone.now(),
            "may_declare": request.user.has_perm(ADD_INCIDENT),
            "left_out": [*filters_left_out(incidents), *page_left_out],
        },
    )


@login_required
@permission_required(ADD_INCIDENT, raise_exception=True)
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
                    "due": formats.date_format(
                        timezone.localtime(incident.respond_by), "SHORT_DATETIME_FORMAT"
                    ),
                },
            )
            return redirect(incident)
    playbook = SituationType.objects.filter(is_active=True).select_related("owner")
    return render(
        request,
        "governance/shell/incident_form.html",
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
        "governance/shell/incident_detail.html",
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
@permission_required(VIEW_SITUATION_TYPE, raise_exception=True)
def playbook(request: HttpRequest) -> HttpResponse:
    """What to do in each exceptional situation, who owns it and how fast."""
    situations = SituationType.objects.filter(is_active=True).select_related("owner")
    return render(request, "governance/shell/playbook.html", {"situations": situations})
