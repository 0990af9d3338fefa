"""What the committee votes is what takes effect: a ruler, policy or mandate before the committee
is frozen on every path (API, page, admin, the mandate's targets) until the vote ends; the
proposal keeps its content and digest, the adoption refuses a version that differs, and the
decision records the digest of its ballots."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from criteria.models import RulerCriterion, RulerStatus, RulerVersion
from criteria.services import RulerUnderVote, ruler_draft_change, ruler_draft_create
from governance.committee.proposals import (
    proposal_close,
    proposal_create,
    proposal_open,
    proposal_withdraw,
    vote_cast,
)
from governance.committee.versions import (
    VersionChanged,
    content_of,
    decision_digest,
    digest_of,
)
from governance.models import (
    CommitteeMember,
    Kpi,
    Mandate,
    MandateStatus,
    Policy,
    PolicyStatus,
    ProposalState,
)
from tests.factories import MandateFactory, PolicyFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seats(chair, member):
    for user in (chair, member):
        CommitteeMember.objects.create(
            user=user, committee_role="sales_director", active_from=datetime.date(2025, 1, 1)
        )
    return [chair, member]


@pytest.fixture
def ruler_draft() -> RulerVersion:
    draft = ruler_draft_create(title="Ruler 2027")
    RulerCriterion.objects.create(
        ruler=draft, kind="potential_revenue", threshold=Decimal(1000000), is_gate=True
    )
    return draft


def put_to_vote(by, **version):
    kind = {"ruler": "adopt_ruler", "policy": "adopt_policy", "mandate": "grant_mandate"}
    (name,) = version
    return proposal_open(
        proposal=proposal_create(
            type=kind[name], title="Adopt it", rationale="Why", by=by, **version
        ),
        deadline=timezone.now() + datetime.timedelta(days=2),
    )


def adopt(proposal, seats):
    for voter in seats:
        vote_cast(proposal=proposal, member=voter, choice="for")
    return proposal_close(proposal=proposal, early=True)


def test_a_ruler_under_vote_is_frozen_on_every_path_until_the_vote_ends(
    client_as, seats, member, administrator, ruler_draft
):
    proposal = put_to_vote(member, ruler=ruler_draft)
    api = client_as(member)
    url = f"/api/rulers/{ruler_draft.pk}/"

    patched = api.patch(
        url, {"coverage_threshold": "0.01", "criteria": []}, content_type="application/json"
    )
    page = client_as(administrator).post(
        f"/ruler/versions/{ruler_draft.pk}/", {"title": "Changed", "coverage_threshold": "0.01"}
    )
    shown = client_as(member).get(f"/ruler/versions/{ruler_draft.pk}/").text
    with pytest.raises(RulerUnderVote):
        ruler_draft_change(ruler=ruler_draft, changes={"title": "Late"})

    assert patched.status_code == 409
    assert "before the committee" in patched.json()["detail"]
    assert page.status_code == 403
    assert 'data-testid="under-vote"' in shown
    ruler_draft.refresh_from_db()
    assert ruler_draft.coverage_threshold == Decimal("0.75")
    assert ruler_draft.criteria.count() == 1

    proposal_withdraw(proposal=proposal)

    again = api.patch(url, {"title": "Changed after"}, content_type="application/json")
    assert again.status_code == 200
    assert RulerVersion.objects.get(pk=ruler_draft.pk).title == "Changed after"


def test_the_proposal_shows_exactly_what_is_adopted_and_its_digest(
    client_as, seats, member, ruler_draft
):
    proposal = put_to_vote(member, ruler=ruler_draft)

    page = client_as(member).get(proposal.get_absolute_url()).text
    api = client_as(member).get(f"/api/proposals/{proposal.pk}/").json()

    assert proposal.version_digest == digest_of(content_of(ruler_draft))
    assert proposal.version_content["coverage_threshold"] == "0.7500"
    assert [c["kind"] for c in proposal.version_content["criteria"]] == ["potential_revenue"]
    assert proposal.version_digest in page
    assert api["version_digest"] == proposal.version_digest
    assert api["version_content"] == proposal.version_content


def test_a_version_changed_behind_the_vote_is_not_put_in_force(seats, member, ruler_draft):
    """An edit no path allows (straight SQL) changes the digest: the adoption is refused."""
    proposal = put_to_vote(member, ruler=ruler_draft)
    RulerCriterion.objects.filter(ruler=ruler_draft).delete()

    with pytest.raises(VersionChanged, match=proposal.version_digest[:12]):
        adopt(proposal, seats)

    proposal.refresh_from_db()
    assert proposal.state == ProposalState.OPEN
    assert RulerVersion.objects.get(pk=ruler_draft.pk).status == RulerStatus.DRAFT


def test_the_adopted_ruler_is_in_force_and_every_client_is_re_evaluated(
    seats, member, ruler_draft, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr("criteria.tasks.reevaluate_all.delay", lambda *a: queued.append(a))
    proposal = put_to_vote(member, ruler=ruler_draft)

    with django_capture_on_commit_callbacks(execute=True):
        adopt(proposal, seats)

    ruler_draft.refresh_from_db()
    assert ruler_draft.status == RulerStatus.IN_FORCE
    assert not ruler_draft.under_vote
    assert queued == [(member.pk,)]


def test_a_policy_under_vote_cannot_be_changed_in_admin(client, seats, member):
    policy = PolicyFactory(status=PolicyStatus.DRAFT, title="Policy 2027")
    put_to_vote(member, policy=policy)
    superuser = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(superuser)
    url = f"/admin/governance/policy/{policy.pk}/change/"

    response = client.post(url, {"number": policy.number, "title": "Changed", "key_clients_min": 1})

    assert response.status_code == 403
    assert Policy.objects.get(pk=policy.pk).title == "Policy 2027"


def test_a_mandate_under_vote_keeps_its_targets_and_fields(client_as, client, seats, member):
    mandate = MandateFactory(title="Mandate 2027")
    put_to_vote(member, mandate=mandate)
    kpi = Kpi.objects.first() or Kpi.objects.create(name="Revenue", code="revenue_x")
    superuser = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(superuser)

    admin = client.post(f"/admin/governance/mandate/{mandate.pk}/change/", {"title": "Changed"})
    targets = client_as(member).post(
        f"/committee/mandates/{mandate.pk}/targets/",
        {
            "targets-TOTAL_FORMS": "1",
            "targets-INITIAL_FORMS": "0",
            "targets-0-kpi": kpi.pk,
            "targets-0-period": "2027-01-01",
            "targets-0-target": "100",
        },
    )

    assert admin.status_code == 403
    assert "before the committee" in targets.text
    assert Mandate.objects.get(pk=mandate.pk).title == "Mandate 2027"
    assert not mandate.kpi_targets.exists()
    assert Mandate.objects.get(pk=mandate.pk).status == MandateStatus.DRAFT


def test_the_decision_records_the_digest_of_its_ballots(client_as, seats, member, ruler_draft):
    proposal = put_to_vote(member, ruler=ruler_draft)
    vote_cast(proposal=proposal, member=member, choice="against", comment="Too strict")
    proposal = adopt(proposal, seats)

    decision = proposal.decision
    page = client_as(member).get(proposal.get_absolute_url()).text

    assert len(decision.digest) == 64
    assert decision.digest == decision_digest(proposal=proposal)
    assert decision.digest in page
    # A ballot rewritten afterwards no longer matches the digest the decision keeps.
    proposal.votes.filter(comment="Too strict").update(comment="")
    assert decision_digest(proposal=proposal) != decision.digest
