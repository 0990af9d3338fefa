"""Every factory makes rows their model accepts: each field validates, and two made one after the
other keep the database's unique constraints."""

from __future__ import annotations

import factory
import pytest

from tests import factories

pytestmark = pytest.mark.django_db

GOVERNANCE_FACTORIES = [
    factories.CommitteeMemberFactory,
    factories.PolicyFactory,
    factories.ProposalFactory,
    factories.VoteFactory,
    factories.DecisionFactory,
    factories.MandateFactory,
    factories.MandateAccountFactory,
    factories.EscalationTierFactory,
    factories.ExceptionRequestFactory,
    factories.BudgetFactory,
    factories.BudgetSpendFactory,
    factories.KpiFactory,
    factories.KpiTargetFactory,
    factories.KpiEntryFactory,
    factories.DepartmentObligationFactory,
    factories.SituationTypeFactory,
    factories.AbsenceFactory,
]


@pytest.mark.parametrize("model_factory", GOVERNANCE_FACTORIES, ids=lambda f: f.__name__)
def test_a_factory_makes_valid_rows(model_factory: type[factory.django.DjangoModelFactory]) -> None:
    rows = model_factory.create_batch(2)

    for row in rows:
        row.full_clean()
    assert rows[0].pk != rows[1].pk


def test_an_account_and_an_exception_belong_to_the_mandates_kam() -> None:
    account = factories.MandateAccountFactory()
    exception = factories.ExceptionRequestFactory()

    assert account.client.owner_kam == account.mandate.kam
    assert exception.client.owner_kam == exception.requested_by == exception.mandate.kam


def test_a_decision_is_about_its_proposals_client() -> None:
    decision = factories.DecisionFactory()

    assert decision.client == decision.proposal.client
    assert decision.proposal.state == "adopted"
