"""Pages of mandate drafting: the committee's list of mandates per KAM, a draft's page (terms,
limits, methods, accounts, team; its KPI targets and budgets beside), and the comparison with
the mandate in force. Proposing a draft is the committee's page
(``governance.committee.views.mandate_proposals``).

Who: the committee drafts, never a mandate of its own; directors and the administrator read;
a KAM reads their own mandates. Everyone else gets 403, and a mandate one may not see is 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.periods import quarter_start
from accounts.refusals import ChangedMeanwhile, add_refusal, tell_refusal
from governance.models import (
    Budget,
    Mandate,
    MandateAccount,
    MandateBudget,
    MandateTeamMember,
)
from governance.permissions import ADD_PROPOSAL, VIEW_MANDATE, VIEW_OWN_MANDATE
from governance.picker import clients_picked
from governance.shell.comparing import mandate_compare
from governance.shell.drafting import (
    Stage,
    clients_for_drafting,
    mandate_draft_copy,
    mandate_draft_new,
    mandate_draft_save,
    mandate_stage,
    mandates_by_kam,
    may_draft,
)
from governance.shell.drafting_forms import (
    AccountFormSet,
    AddAccountsForm,
    BudgetFormSet,
    MandateNewForm,
    MandateTermsForm,
    TeamFormSet,
)
from governance.shell.mandates import mandates_visible_to


def _reader(user: User) -> None:
    """Pages of mandates are read by who sees all of them or their own; nobody else."""
    if not (user.has_perm(VIEW_MANDATE) or user.has_perm(VIEW_OWN_MANDATE)):
        raise PermissionDenied


def _mandate_for(user: User, pk: int) -> Mandate:
    """The mandate ``pk`` if ``user`` may see it, else 404."""
    return get_object_or_404(mandates_visible_to(user).select_related("kam"), pk=pk)


@login_required
def mandate_drafts(request: HttpRequest) -> HttpResponse:
    """Every mandate per KAM: in force, drafts, before the committee, not adopted, ended; with
    "Draft a new mandate" and, per KAM, "Draft a change" for the committee."""
    _reader(request.user)
    drafter = may_draft(request.user)
    groups = mandates_by_kam(user=request.user)
    for group in groups:
        group.may_draft = drafter and group.kam.pk != request.user.pk
    return render(
        request,
        "governance/shell/mandate_drafts.html",
        {
            "groups": groups,
            "may_draft": drafter,
            "new_form": MandateNewForm(drafter=request.user) if drafter else None,
        },
    )


@login_required
def mandate_draft_new_view(request: HttpRequest) -> HttpResponse:
    """A new, empty draft for a KAM."""
    if not may_draft(request.user):
        raise PermissionDenied
    form = MandateNewForm(request.POST or None, drafter=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            draft = mandate_draft_new(
                kam=data["kam"],
                by=request.user,
                title=data["title"],
                valid_from=data["valid_from"],
                valid_to=data["valid_to"],
            )
        except ValidationError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, _("Draft created: name its accounts, limits and team."))
            return redirect("governance:mandate-draft", pk=draft.pk)
    return render(
        request,
        "governance/shell/mandate_draft_new.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def mandate_draft_copy_view(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Draft a change" of the mandate in force, or "Revise into a new draft" of one the
    committee did not adopt: a new draft that starts as a copy of it."""
    _reader(request.user)
    source = _mandate_for(request.user, pk)
    if not may_draft(request.user, kam=source.kam_id):
        raise PermissionDenied
    stage = mandate_stage(source)
    if stage not in (Stage.IN_FORCE, Stage.NOT_ADOPTED, Stage.ENDED):
        messages.error(
            request, _("Only a mandate in force, ended or not adopted is copied into a new draft.")
        )
        return redirect("governance:mandate-draft", pk=source.pk)
    today = timezone.localdate()
    # A change takes effect from today at the earliest; a revision keeps the dates proposed.
    valid_from = max(source.valid_from, today) if stage == Stage.IN_FORCE else None
    if valid_from is not None and source.valid_to is not None and valid_from > source.valid_to:
        valid_from = source.valid_from
    draft = mandate_draft_copy(source=source, by=request.user, valid_from=valid_from)
    messages.success(
        request,
        _("A new draft, copied from %(mandate)s: change what must change.")
        % {"mandate": source.title},
    )
    return redirect("governance:mandate-draft", pk=draft.pk)


# A search longer than any client's name is not a search.
SEARCH_MAX_LENGTH = 200


def _account_picker(request: HttpRequest, mandate: Mandate, *, chosen: list[str]) -> dict:
    """The account picker's context, for the draft page and its search alike: the clients
    ticked to add (``chosen``, kept across searches), then a page of the clients the search
    finds that the draft does not name yet, each with its key status and coverage. Three
    queries, whatever the register's size; a search or page that cannot be read is a 400."""
    search = request.GET.get("q", "")
    page = request.GET.get("page", "1")
    if len(search) > SEARCH_MAX_LENGTH:
        raise BadRequest(_("The search is too long."))
    if not page.isascii() or not page.isdigit() or not 0 < len(page) < 6 or int(page) < 1:
        raise BadRequest(_("A page is named by its number."))
    chosen_ids = [int(pk) for pk in chosen if pk.isascii() and pk.isdigit() and len(pk) < 18]
    named = MandateAccount.objects.filter(mandate=mandate).values("client_id")
    clients = clients_for_drafting().exclude(pk__in=named).exclude(pk__in=chosen_ids)
    return {
        "mandate": mandate,
        "search": search,
        "found": clients_picked(clients=clients, text=search, page=int(page)),
        "chosen": list(
            clients_for_drafting().filter(pk__in=chosen_ids).exclude(pk__in=named)
            if chosen_ids
            else []
        ),
    }


@login_required
def mandate_draft_clients(request: HttpRequest, pk: int) -> HttpResponse:
    """The account picker's search (htmx): the picker alone, as the draft page renders it."""
    _reader(request.user)
    mandate = _mandate_for(request.user, pk)
    if not may_draft(request.user, kam=mandate.kam_id) or mandate_stage(mandate) != Stage.DRAFT:
        raise PermissionDenied
    context = _account_picker(request, mandate, chosen=request.GET.getlist("add-clients"))
    return render(
        request, "governance/shell/mandate_draft.html#account-picker", {**context, "editable": True}
    )


def _draft_forms(request: HttpRequest, mandate: Mandate, *, editable: bool) -> dict[str, object]:
    data = request.POST if request.method == "POST" and editable else None
    accounts = list(mandate.accounts.all())
    members = list(mandate.team.all())
    budgets = list(mandate.budgets.all())
    forms = {
        "terms": MandateTermsForm(data, mandate=mandate, prefix="terms"),
        "accounts": AccountFormSet(data, accounts=accounts, prefix="accounts"),
        "add": AddAccountsForm(data, prefix="add"),
        "team": TeamFormSet(data, mandate=mandate, members=members, prefix="team"),
        "budgets": BudgetFormSet(
            data, mandate=mandate, budgets=budgets, accounts=accounts, prefix="budgets"
        ),
    }
    if not editable:
        # Before their rows are made: no empty rows to read.
        forms["team"].extra = forms["budgets"].extra = 0
        every = [*forms["accounts"], *forms["team"], *forms["budgets"]]
        for form in [forms["terms"], forms["add"], *every]:
            for field in form.fields.values():
                field.disabled = True
    return forms


@login_required
def mandate_draft(request: HttpRequest, pk: int) -> HttpResponse:
    """A mandate's page for drafting: its terms, limits, methods, accounts with overrides and
    team, in one form saved at once; its KPI targets and budgets beside. Editable by a member
    of the committee while it is a draft never proposed; read-only for everyone else."""
    _reader(request.user)
    mandate = get_object_or_404(
        mandates_visible_to(request.user)
        .select_related("kam")
        .prefetch_related(
            "methods",
            Prefetch(
                "accounts", MandateAccount.objects.select_related("client").order_by("client__name")
            ),
            Prefetch("team", MandateTeamMember.objects.select_related("user").order_by("pk")),
            Prefetch(
                "budgets",
                MandateBudget.objects.select_related("client").order_by("period", "client__name"),
            ),
        ),
        pk=pk,
    )
    stage = mandate_stage(mandate)
    drafter = may_draft(request.user, kam=mandate.kam_id)
    editable = drafter and stage == Stage.DRAFT
    if request.method == "POST" and not drafter:
        raise PermissionDenied
    forms = _draft_forms(request, mandate, editable=editable)
    status = 200
    if request.method == "POST":
        if not editable:
            messages.error(
                request,
                _(
                    "This draft has been proposed to the committee: it stays as it was proposed. "
                    "Revise it into a new draft to change it."
                ),
            )
            return redirect("governance:mandate-draft", pk=mandate.pk)
        budgets_sent = f"{forms['budgets'].prefix}-TOTAL_FORMS" in request.POST
        valid = all(
            [
                forms["terms"].is_valid(),
                forms["accounts"].is_valid(),
                forms["add"].is_valid(),
                forms["team"].is_valid(),
                # A form without the budgets' table (an older page) leaves them as they are.
                not budgets_sent or forms["budgets"].is_valid(),
            ]
        )
        if valid:
            try:
                mandate_draft_save(
                    mandate=mandate,
                    by=request.user,
                    terms=forms["terms"].terms(),
                    method_ids=forms["terms"].cleaned_data["methods"],
                    accounts=forms["accounts"].rows(),
                    added_client_ids=forms["add"].client_ids(),
                    team=forms["team"].rows(),
                    budgets=forms["budgets"].rows() if budgets_sent else None,
                )
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    target = forms["terms"] if name in forms["terms"].fields else None
                    for error in errors:
                        if target is not None:
                            target.add_error(name, error)
                        else:
                            messages.error(request, error)
            except ChangedMeanwhile as exc:
                tell_refusal(request, exc)
                return redirect("governance:mandate-draft", pk=mandate.pk)
            else:
                messages.success(request, _("Draft saved."))
                return redirect("governance:mandate-draft", pk=mandate.pk)
        status = 400
        messages.error(request, _("The draft is not saved: correct what is marked below."))
    today = timezone.localdate()
    context = {
        "mandate": mandate,
        "stage": stage,
        "stage_label": Stage(stage).label,
        "editable": editable,
        "drafter": drafter,
        "last_proposal": mandate.proposals.order_by("-created_at", "-pk").first(),
        "targets": mandate.kpi_targets.select_related("kpi", "client").order_by(
            "-period", "kpi__name"
        ),
        "budget_period": quarter_start(today),
        "budgets": Budget.objects.filter(
            client_id__in=[account.client_id for account in mandate.accounts.all()],
            period=quarter_start(today),
        )
        .with_spent()
        .order_by("client__name"),
        "may_propose": editable and request.user.has_perm(ADD_PROPOSAL),
        **{f"{name}_form": form for name, form in forms.items()},
        **(
            _account_picker(
                request,
                mandate,
                chosen=request.POST.getlist("add-clients") if request.method == "POST" else [],
            )
            if editable
            else {}
        ),
    }
    return render(request, "governance/shell/mandate_draft.html", context, status=status)


@login_required
def mandate_compare_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A draft against its KAM's mandate in force, part by part."""
    _reader(request.user)
    mandate = _mandate_for(request.user, pk)
    comparison = mandate_compare(draft=mandate)
    return render(
        request,
        "governance/shell/mandate_compare.html",
        {"mandate": mandate, "comparison": comparison, "stage": mandate_stage(mandate)},
    )
