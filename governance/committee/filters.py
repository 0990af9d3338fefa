"""The committee's list filters, one filter set per list, shared by its page and its API list;
what a page does with one is said in ``governance.lists``."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from governance.lists import ListFilterSet, StateFilter
from governance.models import Decision, Proposal, ProposalState, ProposalType


class ProposalFilter(ListFilterSet):
    """Proposals by ``state``, ``type`` and ``client``. The page opens on those open for
    votes."""

    state = StateFilter(states=ProposalState.choices, label=_("State"))

    class Meta:
        model = Proposal
        fields = ["state", "type", "client"]


class DecisionFilter(ListFilterSet):
    """The register by ``client`` and by the ``type`` of the proposal that made each decision."""

    type = django_filters.ChoiceFilter(
        field_name="proposal__type", choices=ProposalType.choices, label=_("Type")
    )

    class Meta:
        model = Decision
        fields = ["client", "type"]
