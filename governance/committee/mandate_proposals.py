"""Proposing a drafted mandate: the committee's proposal to grant it, opened for votes at once;
the vote that adopts it puts it in force (``proposals.decision_apply`` → ``mandate_adopt``)."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.refusals import NotAllowed
from governance.committee.proposals import proposal_create, proposal_open
from governance.models import (
    Mandate,
    MandateAccount,
    MandateBudget,
    MandateStatus,
    Proposal,
    ProposalType,
)
from governance.shell.drafting import BudgetRow, DraftFrozen, budget_refusals


def mandate_propose(
    *, mandate: Mandate, by: User, title: str, rationale: str, deadline: datetime.datetime
) -> Proposal:
    """Open a proposal to grant the draft ``mandate``, under the draft's row lock: one proposal
    per draft, and the draft as saved is what the vote freezes. Refused (``ValidationError``)
    while a budget it holds breaks the budgets' rules (``budget_refusals``)."""
    if mandate.kam_id == by.pk:
        raise NotAllowed(
            _("This is your own mandate: another member of the committee proposes it.")
        )
    with transaction.atomic():
        locked = (
            Mandate.objects.select_for_update()
            .filter(pk=mandate.pk, status=MandateStatus.DRAFT, under_vote=False)
            .first()
        )
        if locked is None or Proposal.objects.filter(mandate=locked).exists():
            raise DraftFrozen(_("This draft has been proposed already."))
        # The budgets it holds keep their rules still (a client may have stopped being key,
        # spending may have grown since the draft was saved): the vote is on budgets that hold.
        budgets = [
            BudgetRow(client_id=row.client_id, period=row.period, allocated=row.allocated)
            for row in MandateBudget.objects.filter(mandate=locked)
        ]
        if budgets:
            refusals = budget_refusals(
                rows=budgets,
                account_ids=set(
                    MandateAccount.objects.filter(mandate=locked).values_list(
                        "client_id", flat=True
                    )
                ),
            )
            if refusals:
                raise ValidationError({"budgets": refusals})
        proposal = proposal_create(
            type=ProposalType.GRANT_MANDATE, title=title, rationale=rationale, by=by, mandate=locked
        )
        return proposal_open(proposal=proposal, deadline=deadline)
