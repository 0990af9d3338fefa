"""The policy: versioned, adopted by the committee's vote; its decision rule for each kind of
proposal is copied onto a proposal when it opens; its cadence sets the re-evaluation."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from criteria.services import REEVALUATION_TASK
from governance.committee.proposals import proposal_close, proposal_create, proposal_open, vote_cast
from governance.models import CommitteeMember, Policy, PolicyRule, PolicyStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def seats(chair, member):
    for user in (chair, member):
        CommitteeMember.objects.create(
            user=user, committee_role="sales_director", active_from=datetime.date(2025, 1, 1)
        )
    return [chair, member]


def _policy(number: int, **rules: tuple[int, str]) -> Policy:
    policy = Policy.objects.create(
        number=number, title=f"Policy {number}", reevaluation_cadence="weekly"
    )
    for proposal_type, (quorum, majority) in rules.items():
        PolicyRule.objects.create(
            policy=policy, proposal_type=proposal_type, quorum_percent=quorum, majority=majority
        )
    return policy


def _adopted(policy: Policy, seats: list) -> None:
    proposal = proposal_open(
        proposal=proposal_create(
            type="adopt_policy", title="Adopt", rationale="Why", by=seats[0], policy=policy
        ),
        deadline=timezone.now() + datetime.timedelta(days=1),
    )
    for user in seats:
        vote_cast(proposal=proposal, member=user, choice="for")
    assert proposal_close(proposal=proposal, early=True).state == "adopted"


def _opened_grant(client, by):
    return proposal_open(
        proposal=proposal_create(
            type="grant_key", title="Key", rationale="Why", by=by, client=client
        ),
        deadline=timezone.now() + datetime.timedelta(days=1),
    )


def test_an_adopted_policy_is_in_force_and_sets_the_reevaluation_cadence(seats):
    first = _policy(1)
    _adopted(first, seats)
    second = _policy(2)
    _adopted(second, seats)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (PolicyStatus.SUPERSEDED, PolicyStatus.IN_FORCE)
    task = PeriodicTask.objects.get(name=REEVALUATION_TASK)
    assert (task.crontab.hour, task.crontab.day_of_week) == ("2", "1")


def test_the_rule_in_force_is_copied_when_a_proposal_opens_and_never_rewritten(
    seats, account_of_kam, account_of_kam2
):
    _adopted(_policy(1, grant_key=(75, "two_thirds")), seats)
    early = _opened_grant(account_of_kam, seats[0])
    _adopted(_policy(2, grant_key=(100, "unanimous")), seats)
    late = _opened_grant(account_of_kam2, seats[0])

    early.refresh_from_db()
    assert (early.quorum_percent, early.majority) == (75, "two_thirds")
    assert (late.quorum_percent, late.majority) == (100, "unanimous")


def test_a_proposal_type_without_a_rule_gets_the_default(seats, account_of_kam):
    _adopted(_policy(1, revoke_key=(75, "two_thirds")), seats)
    proposal = _opened_grant(account_of_kam, seats[0])
    assert (proposal.quorum_percent, proposal.majority, proposal.abstentions_count) == (
        50,
        "simple",
        False,
    )


def test_only_a_draft_policy_can_be_proposed_for_adoption(seats):

    policy = _policy(1)
    _adopted(policy, seats)
    policy.refresh_from_db()
    with pytest.raises(ValidationError, match=r"Name a draft policy version to adopt\."):
        proposal_create(
            type="adopt_policy", title="Again", rationale="Why", by=seats[0], policy=policy
        )


def test_the_range_of_key_clients_is_ordered():
    with pytest.raises(IntegrityError):
        Policy.objects.create(number=1, title="Bad", key_clients_min=30, key_clients_max=10)


def test_policy_page_shows_the_policy_in_force_and_its_rules(client_as, chair, seats):
    _adopted(_policy(1, revoke_key=(75, "two_thirds")), seats)
    page = client_as(chair).get(reverse("governance:policy")).text
    in_force = page.split('data-testid="policy-in-force"')[1]
    assert "Policy 1" in in_force
    assert "Revoke key status" in in_force and "75 %" in in_force
    assert "Every week" in in_force
