"""Pages of the KPIs that write: hand-entered actuals, and a mandate's targets."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.left_out import page_of
from accounts.numbers import number_text
from accounts.refusals import add_refusal, tell_refusal
from governance.kpis.figures import kpi_entry_record, kpi_targets_save
from governance.kpis.forms import KpiEntryForm, KpiTargetFormSet
from governance.models import KpiEntry, Mandate, MandateStatus
from governance.permissions import ADD_KPI_ENTRY, CHANGE_KPI_TARGET

ENTRIES_PER_PAGE = 25


@login_required
@permission_required(ADD_KPI_ENTRY, raise_exception=True)
def kpi_entries(request: HttpRequest) -> HttpResponse:
    """Enter a KPI's actual by hand; the history of entries below, newest first."""
    form = KpiEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = kpi_entry_record(
                kpi=data["kpi"],
                period=data["period"],
                kam=data["kam"],
                client=data["client"],
                value=data["value"],
                note=data["note"],
                by=request.user,
            )
        except ValidationError as exc:
            add_refusal(form, exc)
        else:
            messages.success(
                request,
                _("Recorded: %(kpi)s for %(kam)s, %(value)s.")
                % {"kpi": entry.kpi, "kam": entry.kam, "value": number_text(entry.value)},
            )
            return redirect("governance:kpi-entries")
    entries = KpiEntry.objects.select_related("kpi", "kam", "client", "entered_by")
    page, left_out = page_of(Paginator(entries, ENTRIES_PER_PAGE), request.GET.get("page"))
    return render(
        request,
        "governance/kpis/kpi_entries.html",
        {"form": form, "page": page, "left_out": left_out},
    )


@login_required
@permission_required(CHANGE_KPI_TARGET, raise_exception=True)
def mandate_targets(request: HttpRequest, pk: int) -> HttpResponse:
    """The committee sets a mandate's KPI targets per quarter (and per account where it wants):
    a draft's before the proposal grants it; a granted mandate's on the record."""
    mandate = get_object_or_404(Mandate.objects.select_related("kam"), pk=pk)
    targets = mandate.kpi_targets.order_by("-period", "kpi__name", "client__name")
    formset = KpiTargetFormSet(
        request.POST or None, mandate=mandate, targets=list(targets), prefix="targets"
    )
    if request.method == "POST" and formset.is_valid():
        try:
            kpi_targets_save(mandate=mandate, by=request.user, rows=formset.rows())
        except ValidationError as exc:
            tell_refusal(request, exc)
        else:
            messages.success(request, _("Targets saved."))
            return redirect("governance:mandate-targets", pk=mandate.pk)
    return render(
        request,
        "governance/kpis/kpi_targets.html",
        {"mandate": mandate, "formset": formset, "in_force": mandate.status != MandateStatus.DRAFT},
    )
