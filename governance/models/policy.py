"""The policy the committee sets: how far ahead it plans, how many key clients it wants and what
share of sales they should carry, how far it bends to them, and how each kind of proposal is
decided; versioned and adopted by the committee's decision."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from criteria.models import RulerStatus
from governance.models.committee import DEFAULT_RULE, DecisionRule, Majority, ProposalType

# A policy and a mandate are versioned as the ruler is: a draft, in force, or superseded.
PolicyStatus = RulerStatus


class BendLevel(models.TextChoices):
    NONE = "none", _("We do not bend: key clients follow our standard processes")
    MINOR = "minor", _("A little: priority in queues and named contacts")
    SIGNIFICANT = "significant", _("Significantly: custom terms and processes within set limits")
    FULL = "full", _("Fully: we adapt our processes to the client's")


class NamedVotesReaders(models.TextChoices):
    """Who reads how each member voted, and their comments (the tally is everyone's who follows
    the committee)."""

    COMMITTEE = "committee", _("The committee only")
    COMMITTEE_AND_DIRECTORS = "directors", _("The committee and the directors")


class Cadence(models.TextChoices):
    NIGHTLY = "nightly", _("Every night")
    WEEKLY = "weekly", _("Every week")
    MONTHLY = "monthly", _("Every month")
    QUARTERLY = "quarterly", _("Every quarter")


class Policy(models.Model):
    """The settings of the management shell, versioned and adopted by the committee's decision:
    how far ahead we plan, how many key clients we want and what share of sales they should
    carry, how far we bend to them, how often the ruler re-evaluates, and how each kind of
    proposal is decided."""

    number = models.PositiveIntegerField(_("version"), unique=True)
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(
        _("status"), max_length=12, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT
    )
    horizon_months = models.PositiveSmallIntegerField(
        _("planning horizon, months"), default=12, validators=[MinValueValidator(1)]
    )
    key_clients_min = models.PositiveIntegerField(_("key clients, at least"), default=10)
    key_clients_max = models.PositiveIntegerField(_("key clients, at most"), default=30)
    key_sales_share_target = models.DecimalField(
        _("target share of sales from key clients, %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(40),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    bend_level = models.CharField(
        _("how far we bend"), max_length=12, choices=BendLevel.choices, default=BendLevel.MINOR
    )
    reevaluation_cadence = models.CharField(
        _("re-evaluation"), max_length=10, choices=Cadence.choices, default=Cadence.NIGHTLY
    )
    exceptions_flag_after = models.PositiveSmallIntegerField(
        _("flag a client after this many granted exceptions"),
        default=3,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Granted within the planning horizon: past it, we are buying the client's decision "
            "on every deal."
        ),
    )
    named_votes_read_by = models.CharField(
        _("who reads named votes and their comments"),
        max_length=12,
        choices=NamedVotesReaders.choices,
        default=NamedVotesReaders.COMMITTEE_AND_DIRECTORS,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    adopted_at = models.DateTimeField(_("adopted"), null=True, blank=True)
    # Set while a proposal to adopt this draft is open: nothing changes it meanwhile.
    under_vote = models.BooleanField(_("before the committee"), default=False, editable=False)

    class Meta:
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=models.Q(status="in_force"), name="one_policy_in_force"
            ),
            models.CheckConstraint(
                condition=models.Q(key_clients_min__lte=models.F("key_clients_max")),
                name="key_clients_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return gettext("v%(number)s %(title)s") % {"number": self.number, "title": self.title}

    def rule_for(self, proposal_type: str) -> DecisionRule:
        """The decision rule this policy sets for a kind of proposal (the default if none)."""
        for rule in self.rules.all():
            if rule.proposal_type == proposal_type:
                return DecisionRule(rule.quorum_percent, rule.majority, rule.abstentions_count)
        return DEFAULT_RULE


class PolicyRule(models.Model):
    """How one kind of proposal is decided under a policy."""

    policy = models.ForeignKey(
        Policy, verbose_name=_("policy version"), on_delete=models.CASCADE, related_name="rules"
    )
    proposal_type = models.CharField(_("proposal"), max_length=20, choices=ProposalType.choices)
    quorum_percent = models.PositiveSmallIntegerField(
        _("quorum, percent of members not recused"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    majority = models.CharField(
        _("majority"), max_length=12, choices=Majority.choices, default=Majority.SIMPLE
    )
    abstentions_count = models.BooleanField(
        _("abstentions count"),
        default=False,
        help_text=_("Counted, an abstention weighs like a vote against."),
    )

    class Meta:
        verbose_name = _("decision rule")
        verbose_name_plural = _("decision rules")
        ordering = ["policy", "proposal_type"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "proposal_type"], name="one_rule_per_type"),
            models.CheckConstraint(
                condition=models.Q(quorum_percent__gte=1, quorum_percent__lte=100),
                name="quorum_is_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_proposal_type_display()}: {self.get_majority_display()}"
