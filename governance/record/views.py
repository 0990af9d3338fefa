"""The record's page: the committee reads who changed what, when and how, filtered by object,
person and date, and takes it away as CSV or XLSX."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.left_out import LeftOut, filters_left_out, page_of
from governance.lists import page_query
from governance.permissions import VIEW_RECORD
from governance.record.exports import export_csv, export_xlsx
from governance.record.filters import RecordFilter
from governance.record.said import entry_changes, table_label
from governance.record.selectors import record_visible_to


@login_required
@permission_required(VIEW_RECORD, raise_exception=True)
def record_list(request: HttpRequest) -> HttpResponse:
    entries = RecordFilter(
        request.GET, queryset=record_visible_to(request.user).select_related("actor")
    )
    export = request.GET.get("export")
    if export == "csv":
        return export_csv(entries.qs)
    if export == "xlsx":
        return export_xlsx(entries.qs)
    left_out = filters_left_out(entries)
    if export is not None:
        reason = _("Not a format the record is exported in (csv, xlsx): the page is shown.")
        left_out.append(LeftOut(parameter="export", value=export, reason=reason))
    page, page_left_out = page_of(Paginator(entries.qs, 50), request.GET.get("page"))
    for entry in page.object_list:  # said in the reader's language; the data stays as stored
        entry.table_label = table_label(entry.table_name)
        entry.changes_said = entry_changes(entry)
    query = page_query(request.GET)
    return render(
        request,
        "governance/record/record_list.html",
        {"filter": entries, "page": page, "query": query, "left_out": [*left_out, *page_left_out]},
    )
