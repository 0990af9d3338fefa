"""Factories for the register and for governance. ``UserFactory(role=Role.KAM)`` puts the user
in the role's group.

A governance factory makes one valid row and only what it cannot do without (a proposal's
author and client, a target's KPI and mandate), with the dates of autumn 2026 that the tests
freeze the clock in. It writes the row as it is, past the services: a proposal made OPEN has no
deadline nor entitled members, a mandate IN_FORCE was never adopted. Tests of a rule go through
the service; a factory sets the scene around it.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.choices import filter_choices_sync
from accounts.models import (
    AccountTeamMember,
    Client,
    ClientFigure,
    ClientNeed,
    Segment,
    TeamRole,
    User,
)
from accounts.roles import Role
from accounts.taxids import inn_with_check_digits
from criteria.models import USP, NeedCoverage
from governance.models import (
    Absence,
    Approver,
    Budget,
    BudgetSpend,
    CommitteeMember,
    CommitteeRole,
    Decision,
    Department,
    DepartmentObligation,
    EscalationTier,
    ExceptionRequest,
    Kpi,
    KpiEntry,
    KpiSource,
    KpiTarget,
    KpiUnit,
    Mandate,
    MandateAccount,
    Policy,
    Proposal,
    ProposalState,
    ProposalType,
    SituationType,
    SpendCategory,
    Vote,
    VoteChoice,
)

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Client {n:04d} LLC")
    # A valid INN (its check digit as the tax authority computes it), as an import demands.
    registration_number = factory.Sequence(lambda n: inn_with_check_digits(f"77{n:07d}"))
    segment = Segment.MID_MARKET
    industry = "Metallurgy"
    region = "Moscow"

    @factory.post_generation
    def filter_choices(client: Client, create: bool, extracted: object, **kwargs: object) -> None:
        """As every write path of the product does: the filter offers the client's values."""
        if create:
            filter_choices_sync(industries=[client.industry], regions=[client.region])


class TeamMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountTeamMember

    client = factory.SubFactory(ClientFactory)
    user = factory.SubFactory(UserFactory)
    role = TeamRole.KAM


class NeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientNeed

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Need {n}")
    weight = 5


class FigureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientFigure

    client = factory.SubFactory(ClientFactory)
    period = datetime.date(2026, 7, 1)
    revenue = Decimal("1000000.00")
    gross_margin = Decimal("250000.00")
    potential_revenue = Decimal("5000000.00")
    share_of_wallet = Decimal("30.00")


class USPFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = USP

    name = factory.Sequence(lambda n: f"USP {n}")
    since = datetime.date(2020, 1, 1)


def meets_the_ruler(client: Client, degree: str = "1") -> ClientNeed:
    """One weighted need of ``client``, covered by one of our USPs to ``degree``: by default
    fully, so the client meets a ruler without gates and can be proposed for key status."""
    need = NeedFactory(client=client, name="Quality", weight=5)
    NeedCoverage.objects.create(need=need, usp=USPFactory(), degree=Decimal(degree))
    return need


# --- governance ------------------------------------------------------------------------------

# The quarter in which the tests that depend on the date set the clock (2026 Q4), and the one
# before it.
QUARTER = datetime.date(2026, 10, 1)
PREVIOUS_QUARTER = datetime.date(2026, 7, 1)


class CommitteeMemberFactory(factory.django.DjangoModelFactory):
    """A seat on the committee, held since the start of 2025 and not ended."""

    class Meta:
        model = CommitteeMember

    user = factory.SubFactory(UserFactory, role=Role.COMMITTEE_MEMBER)
    committee_role = CommitteeRole.SALES_DIRECTOR
    is_chair = False
    active_from = datetime.date(2025, 1, 1)


class PolicyFactory(factory.django.DjangoModelFactory):
    """A draft of the committee's policy, with the model's defaults."""

    class Meta:
        model = Policy

    number = factory.Sequence(lambda n: n + 1)
    title = factory.LazyAttribute(lambda policy: f"Policy {policy.number}")


class ProposalFactory(factory.django.DjangoModelFactory):
    """A draft proposal to make a client key."""

    class Meta:
        model = Proposal

    type = ProposalType.GRANT_KEY
    title = "Grant key status"
    rationale = "Covered well beyond the ruler."
    client = factory.SubFactory(ClientFactory)
    proposed_by = factory.SubFactory(UserFactory, role=Role.COMMITTEE_MEMBER)


class VoteFactory(factory.django.DjangoModelFactory):
    """A member's current vote for an open proposal."""

    class Meta:
        model = Vote

    proposal = factory.SubFactory(ProposalFactory, state=ProposalState.OPEN)
    member = factory.SubFactory(UserFactory, role=Role.COMMITTEE_MEMBER)
    choice = VoteChoice.FOR


class DecisionFactory(factory.django.DjangoModelFactory):
    """The decision of an adopted proposal: its client is key from the start of 2026."""

    class Meta:
        model = Decision

    proposal = factory.SubFactory(ProposalFactory, state=ProposalState.ADOPTED)
    client = factory.SelfAttribute("proposal.client")
    kind = factory.SelfAttribute("proposal.type")
    subject = factory.LazyAttribute(lambda decision: decision.proposal.subject())
    key_status = True
    effective_date = datetime.date(2026, 1, 1)


class MandateFactory(factory.django.DjangoModelFactory):
    """A draft mandate of a KAM, from the start of 2026, with no limits set."""

    class Meta:
        model = Mandate

    kam = factory.SubFactory(UserFactory, role=Role.KAM)
    title = factory.LazyAttribute(lambda mandate: f"Mandate of {mandate.kam.username}")
    valid_from = datetime.date(2026, 1, 1)


class MandateAccountFactory(factory.django.DjangoModelFactory):
    """An account in a mandate, owned by the mandate's KAM."""

    class Meta:
        model = MandateAccount

    mandate = factory.SubFactory(MandateFactory)
    client = factory.SubFactory(ClientFactory, owner_kam=factory.SelfAttribute("..mandate.kam"))


class EscalationTierFactory(factory.django.DjangoModelFactory):
    """A tier for deals of any value, decided by the head of KAM."""

    class Meta:
        model = EscalationTier

    order = factory.Sequence(lambda n: n + 1)
    up_to_deal_value = None
    approver = Approver.HEAD_OF_KAM


class ExceptionRequestFactory(factory.django.DjangoModelFactory):
    """A KAM's pending request for a discount of 9 % where the mandate allows 5 %, on an account
    of theirs."""

    class Meta:
        model = ExceptionRequest

    mandate = factory.SubFactory(MandateFactory)
    client = factory.SubFactory(ClientFactory, owner_kam=factory.SelfAttribute("..mandate.kam"))
    requested_by = factory.SelfAttribute("mandate.kam")
    asked = factory.LazyFunction(lambda: {"discount_percent": "9"})
    breaches = factory.LazyFunction(
        lambda: [{"limit": "discount_percent", "allowed": "5", "asked": "9"}]
    )
    justification = "A tender against two competitors."
    approver = Approver.HEAD_OF_KAM
    respond_by = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=2))


class BudgetFactory(factory.django.DjangoModelFactory):
    """A key client's budget for 2026 Q4."""

    class Meta:
        model = Budget

    client = factory.SubFactory(ClientFactory, is_key=True)
    period = QUARTER
    allocated = Decimal(100_000)


class BudgetSpendFactory(factory.django.DjangoModelFactory):
    """Money spent from a budget on the first day of its quarter, recorded by a KAM."""

    class Meta:
        model = BudgetSpend

    budget = factory.SubFactory(BudgetFactory)
    amount = Decimal(1000)
    category = SpendCategory.HOSPITALITY
    spent_on = factory.SelfAttribute("budget.period")
    description = "Dinner with the buyer"
    recorded_by = factory.SubFactory(UserFactory, role=Role.KAM)


class KpiFactory(factory.django.DjangoModelFactory):
    """A KPI of revenue; ``source=KpiSource.MANUAL`` for one entered by hand."""

    class Meta:
        model = Kpi

    code = factory.Sequence(lambda n: f"kpi-{n}")
    name = factory.LazyAttribute(lambda kpi: kpi.code.replace("-", " ").capitalize())
    unit = KpiUnit.MONEY
    source = KpiSource.REVENUE


class KpiTargetFactory(factory.django.DjangoModelFactory):
    """A mandate's target for a KPI over a quarter (the whole mandate: no client)."""

    class Meta:
        model = KpiTarget

    kpi = factory.SubFactory(KpiFactory)
    mandate = factory.SubFactory(MandateFactory)
    client = None
    period = PREVIOUS_QUARTER
    target = Decimal(100)


class KpiEntryFactory(factory.django.DjangoModelFactory):
    """An actual entered by hand for a KAM's manual KPI."""

    class Meta:
        model = KpiEntry

    kpi = factory.SubFactory(KpiFactory, unit=KpiUnit.PERCENT, source=KpiSource.MANUAL)
    period = PREVIOUS_QUARTER
    kam = factory.SubFactory(UserFactory, role=Role.KAM)
    value = Decimal(50)
    entered_by = factory.SubFactory(UserFactory, role=Role.COMMITTEE_MEMBER)


class DepartmentObligationFactory(factory.django.DjangoModelFactory):
    """What a department owes a KAM, and within how many hours."""

    class Meta:
        model = DepartmentObligation

    department = Department.LOGISTICS
    title = factory.Sequence(lambda n: f"Urgent shipment {n}")
    owner = factory.SubFactory(UserFactory)
    response_hours = 24


class SituationTypeFactory(factory.django.DjangoModelFactory):
    """A situation of the playbook, its procedure and who answers it."""

    class Meta:
        model = SituationType

    name = factory.Sequence(lambda n: f"Quality failure {n}")
    procedure = "Call the client within the hour."
    owner = factory.SubFactory(UserFactory)
    response_hours = 4


class AbsenceFactory(factory.django.DjangoModelFactory):
    """A committee member away for the week of 18 November 2026, with a director as deputy."""

    class Meta:
        model = Absence

    user = factory.SubFactory(UserFactory, role=Role.COMMITTEE_MEMBER)
    starts_on = datetime.date(2026, 11, 16)
    ends_on = datetime.date(2026, 11, 22)
    deputy = factory.SubFactory(UserFactory, role=Role.DIRECTOR)
