"""Proposing a drafted mandate: the committee's proposal to grant it, opened for votes at once;
the vote that adopts it puts it in force (``proposals.decision_apply`` → ``mandate_adopt``)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.refusals import NotAllowed
from governance.committee.proposals import proposal_create, proposal_open
from governance.models import Mandate, MandateStatus, Proposal, ProposalType
from governance.shell.drafting import DraftFrozen


def mandate_propose(
    *, mandate: Mandate, by: User, title: str, rationale: str, deadline: datetime.datetime
) -> Proposal:
    """Open a proposal to grant the draft ``mandate``, under the draft's row lock: one proposal
    per draft, and the draft as saved is what the vote freezes."""
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
        proposal = proposal_create(
            type=ProposalType.GRANT_MANDATE, title=title, rationale=rationale, by=by, mandate=locked
        )
        return proposal_open(proposal=proposal, deadline=deadline)
