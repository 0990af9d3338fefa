"""Pages of the client register. Thin: access through the selectors, rules in forms and services."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.choices import filter_choices_sync
from accounts.filters import ClientFilter
from accounts.forms import (
    ClientForm,
    FigureFormSet,
    ImportEncodingForm,
    ImportUploadForm,
    NeedFormSet,
    TeamFormSet,
)
from accounts.import_messages import import_rows_shown
from accounts.import_report import import_error_report
from accounts.imports import (
    ImportFileError,
    ImportNotApplicable,
    import_apply_claim,
    import_counts,
    import_encoding_choose,
    import_retry,
    import_upload,
    is_xlsx,
)
from accounts.left_out import LeftOut, filters_left_out, page_of
from accounts.models import (
    Client,
    ClientFigure,
    ImportBatch,
    ImportEncoding,
    ImportRow,
    ImportStatus,
)
from accounts.needs import needs_recorded
from accounts.pagination import CheapCountPaginator
from accounts.periods import quarters_back
from accounts.search import is_closest
from accounts.selectors import (
    client_get_for_user,
    clients_visible_to,
    imports_visible_to,
    visibility_parts,
)
from accounts.tasks import import_apply_task, import_check_task, import_enqueue


def _last_four_quarters_start(today: datetime.date) -> datetime.date:
    """The same quarter a year ago: the last four whole quarters and this one since."""
    return quarters_back(today, 5)[0]


def clients_with_revenue(queryset: QuerySet[Client]) -> QuerySet[Client]:
    """Annotate each client with its revenue over the last four quarters (one subquery)."""
    since = _last_four_quarters_start(timezone.localdate())
    revenue = (
        ClientFigure.objects.filter(client=OuterRef("pk"), period__gte=since)
        .order_by()
        .values("client")
        .annotate(total=Sum("revenue"))
        .values("total")
    )
    return queryset.annotate(
        revenue_4q=Subquery(revenue, output_field=DecimalField(max_digits=18, decimal_places=2))
    )


@login_required
@permission_required("accounts.view_client", raise_exception=True)
def client_list(request: HttpRequest) -> HttpResponse:
    clients = clients_with_revenue(clients_visible_to(request.user).select_related("owner_kam"))
    filterset = ClientFilter(request.GET, queryset=clients, request=request)
    page, page_left_out = page_of(
        CheapCountPaginator(
            filterset.qs,
            settings.SKAM_CLIENT_PAGE_SIZE,
            # A search, even when another parameter is left out (the rest still applies).
            sort_matches=bool(getattr(filterset.form, "cleaned_data", {}).get("q")),
            # A KAM's accounts by owner: their own (one name) and their teams', each read
            # along an index of its own.
            parts=visibility_parts(request.user) if filterset.sorted_by_kept_owner_name() else None,
        ),
        request.GET.get("page"),
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "page": page,
        "query": query.urlencode(),
        # Nothing holds the search's text: the closest names are listed, and the page says so.
        "closest": is_closest(filterset.qs),
        "left_out": [*filters_left_out(filterset), *page_left_out],
    }
    template = "accounts/client_list.html"
    # A history restore asks for the whole page even though it comes from htmx.
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        template += "#client-results"
        context["partial"] = True  # the region says itself what the address left out
    response = render(request, template, context)
    # The same URL answers with the page or its results region: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_get_for_user(request.user, pk)
    figures = list(client.figures.order_by("-period")[:8])
    context = {
        "client": client,
        "team": client.team_members.select_related("user"),
        "needs": client.needs.all(),
        "figures": figures,
        "can_change": request.user.has_perm("accounts.change_client"),
        "can_edit_needs": request.user.has_perm("accounts.change_clientneed"),
        "can_edit_figures": request.user.has_perm("accounts.change_clientfigure"),
    }
    return render(request, "accounts/client_detail.html", context)


@login_required
@permission_required("accounts.add_client", raise_exception=True)
def client_create(request: HttpRequest) -> HttpResponse:
    return _client_form(request, Client())


@login_required
def client_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _client_form(
        request, client_get_for_user(request.user, pk, perm="accounts.change_client")
    )


def _client_form(request: HttpRequest, client: Client) -> HttpResponse:
    form = ClientForm(request.POST or None, instance=client)
    team = TeamFormSet(request.POST or None, instance=client, prefix="team")
    if request.method == "POST" and form.is_valid() and team.is_valid():
        with transaction.atomic():
            client = form.save()
            team.instance = client
            team.save()
            filter_choices_sync(
                industries=[form.initial.get("industry", ""), client.industry],
                regions=[form.initial.get("region", ""), client.region],
            )
        messages.success(request, _("Client “%(name)s” saved.") % {"name": client.name})
        return redirect(client)
    return render(
        request, "accounts/client_form.html", {"form": form, "team": team, "client": client}
    )


@login_required
def client_needs_edit(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_get_for_user(request.user, pk, perm="accounts.change_clientneed")
    formset = NeedFormSet(request.POST or None, instance=client, prefix="needs")
    if request.method == "POST" and formset.is_valid():
        with needs_recorded(client_ids=[client.pk], by=request.user):
            formset.save()
        messages.success(request, _("Needs of “%(name)s” saved.") % {"name": client.name})
        return redirect(client)
    return render(
        request,
        "accounts/formset_page.html",
        {"client": client, "formset": formset, "title": _("Needs of %(name)s") % {"name": client}},
    )


@login_required
def client_figures_edit(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_get_for_user(request.user, pk, perm="accounts.change_clientfigure")
    formset = FigureFormSet(
        request.POST or None,
        instance=client,
        prefix="figures",
        queryset=client.figures.order_by("-period"),
    )
    if request.method == "POST" and formset.is_valid():
        formset.save()
        messages.success(request, _("Figures of “%(name)s” saved.") % {"name": client.name})
        return redirect(client)
    return render(
        request,
        "accounts/formset_page.html",
        {
            "client": client,
            "formset": formset,
            "title": _("Figures of %(name)s") % {"name": client},
        },
    )


@login_required
@permission_required("accounts.import_register", raise_exception=True)
def import_list(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = import_upload(
            kind=form.cleaned_data["kind"],
            filename=upload.name,
            content=upload.read(),
            user=request.user,
        )
        transaction.on_commit(lambda: import_enqueue(import_check_task, batch.pk))
        return redirect(batch)
    batches, left_out = page_of(
        Paginator(
            imports_visible_to(request.user).select_related("uploaded_by").defer("content"), 20
        ),
        request.GET.get("page"),
    )
    return render(
        request,
        "accounts/import_list.html",
        {"form": form, "page": batches, "left_out": left_out},
    )


def _import_for(request: HttpRequest, pk: int) -> ImportBatch:
    """The batch, if the user may see it (their own, or anyone's with the permission); 404."""
    return get_object_or_404(
        imports_visible_to(request.user).select_related("progress").defer("content"), pk=pk
    )


@login_required
@permission_required("accounts.import_register", raise_exception=True)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _import_for(request, pk)
    progress = getattr(batch, "progress", None)
    stalled = batch.stalled_since(
        progressed_at=progress and progress.progressed_at, at=timezone.now()
    )
    if request.htmx and request.GET.get("poll"):
        if not batch.in_progress:
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"  # the check is done: the whole page changes
            return response
        return render(
            request,
            "accounts/import_detail.html#progress",
            {"batch": batch, "progress": progress, "stalled": stalled},
        )
    counts = import_counts(batch)
    show = request.GET.get("show", "all")
    rows = ImportRow.objects.filter(batch=batch).order_by("row")
    left_out = []
    if show in counts:
        rows = rows.filter(action=show)
    elif show != "all":
        reason = _("Not a kind of row of this import: every row is shown.")
        left_out.append(LeftOut(parameter="show", value=show, reason=reason))
        show = "all"
    page, page_left_out = page_of(Paginator(rows, 100), request.GET.get("page"))
    return render(
        request,
        "accounts/import_detail.html",
        {
            "batch": batch,
            # A CSV file's encoding, with a way to read it in another when names came out wrong.
            "encoding_form": ImportEncodingForm(initial={"encoding": batch.encoding})
            if not is_xlsx(batch.filename)
            and batch.status in (ImportStatus.CHECKED, ImportStatus.REJECTED)
            else None,
            "progress": progress,
            "stalled": stalled,
            "page": page,
            "rows": import_rows_shown(batch, page.object_list),
            "counts": counts,
            "show": show,
            "left_out": [*left_out, *page_left_out],
        },
    )


@login_required
@permission_required("accounts.import_register", raise_exception=True)
@require_POST
def import_encoding(request: HttpRequest, pk: int) -> HttpResponse:
    """Check the file again, read in the encoding chosen (the detected one read it wrong)."""
    batch = _import_for(request, pk)
    form = ImportEncodingForm(request.POST)
    if not form.is_valid():
        return HttpResponse(
            _("Choose one of the encodings offered."),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    try:
        import_encoding_choose(batch=batch, encoding=form.cleaned_data["encoding"])
    except ImportNotApplicable as exc:
        messages.error(request, str(exc))
        return redirect(batch)
    transaction.on_commit(lambda: import_enqueue(import_check_task, batch.pk))
    messages.success(
        request,
        _("The file is checked again, read as %(encoding)s.")
        % {"encoding": ImportEncoding(form.cleaned_data["encoding"]).label},
    )
    return redirect(batch)


@login_required
@permission_required("accounts.import_register", raise_exception=True)
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _import_for(request, pk)
    try:
        import_apply_claim(batch=batch)
    except ImportNotApplicable as exc:
        messages.error(request, str(exc))
        return redirect(batch)
    transaction.on_commit(lambda: import_enqueue(import_apply_task, batch.pk))
    messages.success(
        request,
        ngettext(
            "Importing %(count)d row from %(file)s: this page shows when it is done.",
            "Importing %(count)d rows from %(file)s: this page shows when it is done.",
            batch.rows_total,
        )
        % {"count": batch.rows_total, "file": batch.filename},
    )
    return redirect(batch)


@login_required
@permission_required("accounts.import_register", raise_exception=True)
@require_POST
def import_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _import_for(request, pk)
    stage = import_retry(batch=batch)
    if stage is None:
        messages.error(request, _("This file is not stalled: nothing to try again."))
    else:
        task = import_check_task if stage == "check" else import_apply_task
        transaction.on_commit(lambda: import_enqueue(task, batch.pk))
        messages.success(request, _("The file is back in the worker's queue."))
    return redirect(batch)


@login_required
@permission_required("accounts.import_register", raise_exception=True)
def import_errors_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The uploaded file with a column of errors, to fix and upload again."""
    batch = get_object_or_404(imports_visible_to(request.user), pk=pk)
    if not batch.rows_with_errors:
        raise Http404
    try:
        filename, content = import_error_report(batch=batch)
    except ImportFileError:
        return HttpResponse(
            _("The file cannot be read, so no report can be made of it."),
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    content_type = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if filename.lower().endswith(".xlsx")
        else "text/csv"
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
