"""The page that proposes a drafted mandate to the committee."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.refusals import ChangedMeanwhile, NotAllowed, add_refusal
from governance.committee.mandate_proposals import mandate_propose
from governance.permissions import ADD_PROPOSAL
from governance.shell.comparing import mandate_compare
from governance.shell.drafting import Stage, mandate_stage
from governance.shell.drafting_forms import MandateProposeForm
from governance.shell.mandates import mandates_visible_to


@login_required
@permission_required(ADD_PROPOSAL, raise_exception=True)
def mandate_propose_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Propose a draft to the committee, with what it changes shown above the form."""
    mandate = get_object_or_404(mandates_visible_to(request.user).select_related("kam"), pk=pk)
    if mandate.kam_id == request.user.pk:
        raise NotAllowed(
            _("This is your own mandate: another member of the committee proposes it.")
        )
    if mandate_stage(mandate) != Stage.DRAFT:
        messages.error(request, _("Only a draft never proposed can be proposed."))
        return redirect("governance:mandate-draft", pk=mandate.pk)
    form = MandateProposeForm(request.POST or None, mandate=mandate)
    if request.method == "POST" and form.is_valid():
        try:
            proposal = mandate_propose(mandate=mandate, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_refusal(form, exc)
        except ChangedMeanwhile as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The proposal is open for votes."))
            return redirect(proposal)
    return render(
        request,
        "governance/shell/mandate_propose.html",
        {"mandate": mandate, "form": form, "comparison": mandate_compare(draft=mandate)},
        status=400 if form.errors else 200,
    )
