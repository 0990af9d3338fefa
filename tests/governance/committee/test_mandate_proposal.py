"""A draft mandate is put to the committee from the product: its page offers the proposal, the
form names the draft, and the adopted vote puts it in force."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.committee.proposals import proposal_close, vote_cast
from governance.models import (
    CommitteeMember,
    CommitteeRole,
    Mandate,
    MandateStatus,
    Proposal,
    ProposalState,
)

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-11-18T12:00+03:00")]


def test_a_draft_mandate_is_proposed_from_its_page_and_the_vote_puts_it_in_force(
    client_as, chair, kam
) -> None:
    CommitteeMember.objects.create(
        user=chair,
        committee_role=CommitteeRole.EXECUTIVE_DIRECTOR,
        is_chair=True,
        active_from=datetime.date(2025, 1, 1),
    )
    draft = Mandate.objects.create(
        kam=kam, title="Key accounts 2027", valid_from=datetime.date(2027, 1, 1)
    )
    http = client_as(chair)

    page = http.get(reverse("governance:mandate-detail", args=[draft.pk])).text
    link = reverse("governance:proposal-new") + f"?type=grant_mandate&amp;mandate={draft.pk}"
    form = http.get(
        reverse("governance:proposal-new"), {"type": "grant_mandate", "mandate": draft.pk}
    )
    deadline = timezone.localtime() + datetime.timedelta(days=3)
    response = http.post(
        reverse("governance:proposal-new"),
        {
            "type": "grant_mandate",
            "mandate": draft.pk,
            "title": "Mandate for 2027",
            "rationale": "Same accounts, wider discount.",
            "deadline": deadline.strftime("%Y-%m-%dT%H:%M"),
        },
    )

    assert link in page
    assert form.context["form"]["mandate"].value() == str(draft.pk)
    proposal = Proposal.objects.get()
    assert response.url == proposal.get_absolute_url()
    vote_cast(proposal=proposal, member=chair, choice="for")
    assert proposal_close(proposal=proposal, early=True).state == ProposalState.ADOPTED
    draft.refresh_from_db()
    assert draft.status == MandateStatus.IN_FORCE
