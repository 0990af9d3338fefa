"""The strategic committee: its members, proposals, votes and decisions."""

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import quarter_label
from criteria.models import RulerStatus


class CommitteeRole(models.TextChoices):
    HEAD_OF_KAM = "head_of_kam", _("Head of the KAM department")
    SALES_DIRECTOR = "sales_director", _("Sales director")
    COMMERCIAL_DIRECTOR = "commercial_director", _("Commercial director")
    EXECUTIVE_DIRECTOR = "executive_director", _("Executive director / CEO")


class CommitteeMemberQuerySet(models.QuerySet):
    def active_on(self, day: datetime.date) -> "CommitteeMemberQuerySet":
        return self.filter(active_from__lte=day).filter(
            models.Q(active_to__isnull=True) | models.Q(active_to__gte=day)
        )


class CommitteeMember(models.Model):
    """A seat on the strategic committee: who, in which capacity, from when to when."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="committee_seats",
    )
    committee_role = models.CharField(
        _("role on the committee"), max_length=30, choices=CommitteeRole.choices
    )
    is_chair = models.BooleanField(_("chair"), default=False)
    active_from = models.DateField(_("active from"))
    active_to = models.DateField(_("active to"), null=True, blank=True)

    objects = CommitteeMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("committee member")
        verbose_name_plural = _("committee members")
        ordering = ["-is_chair", "committee_role"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(active_to__isnull=True)
                | models.Q(active_to__gte=models.F("active_from")),
                name="committee_seat_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_committee_role_display()}"


class Majority(models.TextChoices):
    SIMPLE = "simple", _("Simple majority")
    TWO_THIRDS = "two_thirds", _("Two-thirds majority")
    UNANIMOUS = "unanimous", _("Unanimity")


class ProposalType(models.TextChoices):
    GRANT_KEY = "grant_key", _("Grant key status")
    REVOKE_KEY = "revoke_key", _("Revoke key status")
    STRATEGIC_BET = "strategic_bet", _("Strategic bet")
    ADOPT_RULER = "adopt_ruler", _("Adopt a ruler version")
    ADOPT_POLICY = "adopt_policy", _("Adopt a policy version")
    GRANT_MANDATE = "grant_mandate", _("Grant or change a mandate")


CLIENT_PROPOSALS = frozenset(
    {ProposalType.GRANT_KEY, ProposalType.REVOKE_KEY, ProposalType.STRATEGIC_BET}
)


@dataclass(frozen=True)
class DecisionRule:
    """How a proposal is decided: copied onto the proposal when it opens, so that later policy
    changes never rewrite old votes."""

    quorum_percent: int
    majority: str
    abstentions_count: bool


DEFAULT_RULE = DecisionRule(quorum_percent=50, majority=Majority.SIMPLE, abstentions_count=False)


class ProposalState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open for votes")
    ADOPTED = "adopted", _("Adopted")
    REJECTED = "rejected", _("Rejected")
    LAPSED = "lapsed", _("Lapsed: no quorum")
    WITHDRAWN = "withdrawn", _("Withdrawn")


CLOSED_STATES = frozenset({ProposalState.ADOPTED, ProposalState.REJECTED, ProposalState.LAPSED})


class VoteChoice(models.TextChoices):
    FOR = "for", _("For")
    AGAINST = "against", _("Against")
    ABSTAIN = "abstain", _("Abstain")


@dataclass(frozen=True)
class Tally:
    """The count of current votes and what it means under the proposal's rule."""

    votes_for: int
    against: int
    abstain: int
    base: int  # members entitled to vote (not recused)
    rule: DecisionRule

    @property
    def cast(self) -> int:
        return self.votes_for + self.against + self.abstain

    @property
    def quorum(self) -> int:
        """Votes (abstentions included) needed for the decision to count."""
        return math.ceil(self.base * self.rule.quorum_percent / 100)

    @property
    def quorum_met(self) -> bool:
        return self.base > 0 and self.cast >= self.quorum

    def _carried(self, votes_for: int, against: int, abstain: int) -> bool:
        counted = votes_for + against + (abstain if self.rule.abstentions_count else 0)
        if self.rule.majority == Majority.UNANIMOUS:
            return votes_for > 0 and votes_for == counted
        if self.rule.majority == Majority.TWO_THIRDS:
            return counted > 0 and 3 * votes_for >= 2 * counted
        return 2 * votes_for > counted  # a tie is not a majority

    @property
    def outcome(self) -> str:
        """The outcome if the vote closed now."""
        if not self.quorum_met:
            return ProposalState.LAPSED
        if self._carried(self.votes_for, self.against, self.abstain):
            return ProposalState.ADOPTED
        return ProposalState.REJECTED

    @property
    def remaining(self) -> int:
        return max(self.base - self.cast, 0)

    def outcome_is_settled(self) -> bool:
        """True when no way the members yet to vote could vote changes the outcome."""
        outcomes = set()
        for extra_for in range(self.remaining + 1):
            for extra_against in range(self.remaining - extra_for + 1):
                for extra_abstain in range(self.remaining - extra_for - extra_against + 1):
                    outcomes.add(
                        Tally(
                            self.votes_for + extra_for,
                            self.against + extra_against,
                            self.abstain + extra_abstain,
                            self.base,
                            self.rule,
                        ).outcome
                    )
                    if len(outcomes) > 1:
                        return False
        return True

    def votes_for_needed(self) -> int | None:
        """How many more votes for would adopt it, if the others vote nothing; None if that
        cannot happen."""
        for extra in range(self.remaining + 1):
            tally = Tally(self.votes_for + extra, self.against, self.abstain, self.base, self.rule)
            if tally.outcome == ProposalState.ADOPTED:
                return extra
        return None

    def as_dict(self) -> dict[str, int]:
        return {"for": self.votes_for, "against": self.against, "abstain": self.abstain}


class Proposal(models.Model):
    """Something put to the committee's vote. Its text, evidence and decision rule are frozen
    when it opens; a change means withdrawing it and proposing again."""

    type = models.CharField(_("type"), max_length=20, choices=ProposalType.choices)
    title = models.CharField(_("title"), max_length=200)
    rationale = models.TextField(_("rationale"))
    client = models.ForeignKey(
        "accounts.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
    )
    ruler = models.ForeignKey(
        "criteria.RulerVersion",
        verbose_name=_("ruler version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
    )
    policy = models.ForeignKey(
        "Policy",
        verbose_name=_("policy version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
    )
    mandate = models.ForeignKey(
        "Mandate",
        verbose_name=_("mandate"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
    )
    review_date = models.DateField(
        _("review date"),
        null=True,
        blank=True,
        help_text=_("When the committee looks at this decision again; required for a bet."),
    )
    supersedes = models.ForeignKey(
        "Decision",
        verbose_name=_("revisits the decision"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="revisited_by",
    )
    state = models.CharField(
        _("state"), max_length=10, choices=ProposalState.choices, default=ProposalState.DRAFT
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Frozen when the proposal opens.
    quorum_percent = models.PositiveSmallIntegerField(_("quorum, %"), null=True, blank=True)
    majority = models.CharField(_("majority"), max_length=12, choices=Majority.choices, blank=True)
    abstentions_count = models.BooleanField(_("abstentions count"), null=True, blank=True)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    # Frozen when it closes: who was entitled to vote, and the final count.
    entitled = models.JSONField(_("members entitled to vote"), default=list, blank=True)
    final_tally = models.JSONField(_("final tally"), default=dict, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["-opened_at", "-created_at", "-pk"]
        permissions = [("close_proposal", _("Can close a vote early once its outcome is settled"))]
        indexes = [models.Index(fields=["state", "deadline"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(type="strategic_bet") | models.Q(review_date__isnull=False),
                name="strategic_bet_has_review_date",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("governance:proposal-detail", args=[self.pk])

    @property
    def rule(self) -> DecisionRule:
        if self.quorum_percent is None:
            return DEFAULT_RULE
        return DecisionRule(self.quorum_percent, self.majority, bool(self.abstentions_count))

    @property
    def is_open(self) -> bool:
        return self.state == ProposalState.OPEN


class Vote(models.Model):
    """A member's vote. Changing a vote keeps the old one (``is_current`` False); exactly one
    current vote per member and proposal, enforced by the database."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="committee_votes"
    )
    choice = models.CharField(_("vote"), max_length=8, choices=VoteChoice.choices)
    comment = models.TextField(_("comment"), blank=True)
    cast_at = models.DateTimeField(_("cast"), auto_now_add=True)
    is_current = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        ordering = ["proposal", "member", "-cast_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "member"],
                condition=models.Q(is_current=True),
                name="one_current_vote_per_member",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.get_choice_display()}"


class Recusal(models.Model):
    """A member who stands aside on a proposal: cannot vote, and leaves the quorum base."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="recusals")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("recusal")
        verbose_name_plural = _("recusals")
        constraints = [models.UniqueConstraint(fields=["proposal", "member"], name="recused_once")]

    def __str__(self) -> str:
        return f"{self.member} ({self.reason})"


class Decision(models.Model):
    """What an adopted proposal decided, applied in the same transaction as the adoption."""

    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="decision")
    client = models.ForeignKey(
        "accounts.Client",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions",
    )
    summary = models.CharField(_("decision"), max_length=300)
    key_status = models.BooleanField(_("key status decided"), null=True, blank=True)
    effective_date = models.DateField(_("effective from"))
    review_date = models.DateField(_("review by"), null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-effective_date", "-pk"]

    def __str__(self) -> str:
        return self.summary


# A policy and a mandate are versioned as the ruler is: a draft, in force, or superseded.
PolicyStatus = RulerStatus


class BendLevel(models.TextChoices):
    NONE = "none", _("We do not bend: key clients follow our standard processes")
    MINOR = "minor", _("A little: priority in queues and named contacts")
    SIGNIFICANT = "significant", _("Significantly: custom terms and processes within set limits")
    FULL = "full", _("Fully: we adapt our processes to the client's")


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
    created_at = models.DateTimeField(auto_now_add=True)
    adopted_at = models.DateTimeField(_("adopted"), null=True, blank=True)

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
        return f"v{self.number} {self.title}"

    def rule_for(self, proposal_type: str) -> DecisionRule:
        """The decision rule this policy sets for a kind of proposal (the default if none)."""
        for rule in self.rules.all():
            if rule.proposal_type == proposal_type:
                return DecisionRule(rule.quorum_percent, rule.majority, rule.abstentions_count)
        return DEFAULT_RULE


class PolicyRule(models.Model):
    """How one kind of proposal is decided under a policy."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="rules")
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


class Meeting(models.Model):
    """A sitting of the committee: its agenda, who attended, and the minutes drawn from both."""

    held_on = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=200)
    location = models.CharField(_("location"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("governance:meeting-detail", args=[self.pk])


class AgendaKind(models.TextChoices):
    PROPOSAL = "proposal", _("Proposal")
    REVIEW_ITEM = "review_item", _("Client for review")
    DECISION_REVIEW = "decision_review", _("Decision due for review")
    FREE_TEXT = "free_text", _("Other business")


class AgendaItem(models.Model):
    """One point of a meeting's agenda. It points at what the committee looks at — a proposal,
    a client the ruler flagged, a decision due for review — or is free text; the database
    holds the kind and the link together, and lets each thing onto an agenda once."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    order = models.PositiveIntegerField(_("order"))
    kind = models.CharField(_("kind"), max_length=20, choices=AgendaKind.choices)
    proposal = models.ForeignKey(
        Proposal,
        verbose_name=_("proposal"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agenda_items",
    )
    # criteria never learns about agendas: no reverse accessor on the review item.
    review_item = models.ForeignKey(
        "criteria.ReviewItem",
        verbose_name=_("review item"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decision = models.ForeignKey(
        Decision,
        verbose_name=_("decision"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agenda_items",
    )
    text = models.TextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["meeting", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "proposal"], name="proposal_once_per_agenda"
            ),
            models.UniqueConstraint(
                fields=["meeting", "review_item"], name="review_item_once_per_agenda"
            ),
            models.UniqueConstraint(
                fields=["meeting", "decision"], name="decision_once_per_agenda"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    kind="proposal",
                    proposal__isnull=False,
                    review_item__isnull=True,
                    decision__isnull=True,
                )
                | models.Q(
                    kind="review_item",
                    proposal__isnull=True,
                    review_item__isnull=False,
                    decision__isnull=True,
                )
                | models.Q(
                    kind="decision_review",
                    proposal__isnull=True,
                    review_item__isnull=True,
                    decision__isnull=False,
                )
                | (
                    models.Q(
                        kind="free_text",
                        proposal__isnull=True,
                        review_item__isnull=True,
                        decision__isnull=True,
                    )
                    & ~models.Q(text="")
                ),
                name="agenda_item_kind_matches_its_link",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.get_kind_display()}"


class Attendance(models.Model):
    """Whether a committee member was at a meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    present = models.BooleanField(_("present"), default=False)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="attendance_once_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.present}"


class MemberInterest(models.Model):
    """A member's declared relation to a client or to a KAM (a relative, a former employer, a
    shareholding…): where it touches a proposal, the member is asked to stand aside."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="declared_interests",
    )
    client = models.ForeignKey(
        "accounts.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    kam = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("key-account manager"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    description = models.CharField(_("relation"), max_length=300)
    declared_on = models.DateField(_("declared on"))

    class Meta:
        verbose_name = _("declared interest")
        verbose_name_plural = _("declared interests")
        ordering = ["member", "-declared_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(client__isnull=False) | models.Q(kam__isnull=False),
                name="interest_names_a_client_or_a_kam",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.client or self.kam} ({self.description})"


class RelationshipMethod(models.Model):
    """A way of working a key relationship, from a catalogue the committee keeps."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("relationship method")
        verbose_name_plural = _("relationship methods")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LimitKind(models.TextChoices):
    DISCOUNT = "discount_percent", _("Discount, %")
    DEAL_VALUE = "deal_value", _("Deal value without approval")
    CREDIT = "credit", _("Credit limit")
    PAYMENT_TERM = "payment_term_days", _("Payment term, days")
    BUDGET_SPEND = "budget_spend", _("Budget spend without approval")


LIMIT_FIELDS = {
    LimitKind.DISCOUNT: "max_discount_percent",
    LimitKind.DEAL_VALUE: "max_deal_value",
    LimitKind.CREDIT: "credit_limit",
    LimitKind.PAYMENT_TERM: "max_payment_term_days",
    LimitKind.BUDGET_SPEND: "budget_spend_without_approval",
}


class MandateLimits(models.Model):
    """The authority limits a mandate sets, and an account may override."""

    max_discount_percent = models.DecimalField(
        _("maximum discount, %"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    max_deal_value = models.DecimalField(
        _("maximum deal value without approval"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    credit_limit = models.DecimalField(
        _("credit limit"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    max_payment_term_days = models.PositiveIntegerField(
        _("maximum payment term, days"), null=True, blank=True
    )
    budget_spend_without_approval = models.DecimalField(
        _("budget spend without approval"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )

    class Meta:
        abstract = True

    def limit(self, kind: str) -> Decimal | None:
        value = getattr(self, LIMIT_FIELDS[kind])
        return None if value is None else Decimal(value)


MandateStatus = RulerStatus


class MandateQuerySet(models.QuerySet):
    def overlapping(self, start: datetime.date, end: datetime.date) -> "MandateQuerySet":
        """Mandates whose dates overlap ``start``–``end`` (one day when both are the same)."""
        return self.filter(valid_from__lte=end).filter(
            models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=start)
        )


class Mandate(MandateLimits):
    """What a KAM may decide alone, for which accounts, until when: granted or changed by the
    committee's decision. Versions are kept; at most one is in force per KAM."""

    kam = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("key-account manager"),
        on_delete=models.PROTECT,
        related_name="mandates",
    )
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(
        _("status"), max_length=12, choices=MandateStatus.choices, default=MandateStatus.DRAFT
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    methods = models.ManyToManyField(
        RelationshipMethod, verbose_name=_("relationship methods"), blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    adopted_at = models.DateTimeField(_("adopted"), null=True, blank=True)

    objects = MandateQuerySet.as_manager()

    class Meta:
        verbose_name = _("mandate")
        verbose_name_plural = _("mandates")
        ordering = ["kam", "-valid_from", "-pk"]
        permissions = [("view_own_mandate", _("Can see and check one's own mandate"))]
        constraints = [
            models.UniqueConstraint(
                fields=["kam"],
                condition=models.Q(status="in_force"),
                name="one_mandate_in_force_per_kam",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="mandate_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kam}: {self.title}"

    def is_valid_on(self, day: datetime.date) -> bool:
        """In force and within its dates: an expired mandate grants nothing."""
        return (
            self.status == MandateStatus.IN_FORCE
            and self.valid_from <= day
            and (self.valid_to is None or day <= self.valid_to)
        )


class MandateAccount(MandateLimits):
    """An account a mandate covers; a limit set here overrides the mandate's for this account."""

    mandate = models.ForeignKey(Mandate, on_delete=models.CASCADE, related_name="accounts")
    client = models.ForeignKey(
        "accounts.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("account in a mandate")
        verbose_name_plural = _("accounts in a mandate")
        constraints = [
            models.UniqueConstraint(fields=["mandate", "client"], name="account_once_per_mandate")
        ]

    def __str__(self) -> str:
        return str(self.client)


class MandateTeamMember(models.Model):
    """Someone working the mandate's accounts with the KAM, and in which role."""

    mandate = models.ForeignKey(Mandate, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    role = models.CharField(_("role"), max_length=100)

    class Meta:
        verbose_name = _("mandate team member")
        verbose_name_plural = _("mandate team members")
        constraints = [
            models.UniqueConstraint(fields=["mandate", "user"], name="team_member_once_per_mandate")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class Approver(models.TextChoices):
    HEAD_OF_KAM = "head_of_kam", _("Head of the KAM department")
    SALES_DIRECTOR = "sales_director", _("Sales director")
    COMMITTEE = "committee", _("The committee, by a proposal")


class EscalationTier(models.Model):
    """Who decides past a KAM's limits, by the deal's value: up to a level the head of KAM,
    higher the sales director, beyond that the committee."""

    order = models.PositiveSmallIntegerField(_("order"), unique=True)
    up_to_deal_value = models.DecimalField(
        _("deals up to"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty: any value (the last tier)."),
    )
    approver = models.CharField(_("decided by"), max_length=20, choices=Approver.choices)

    class Meta:
        verbose_name = _("escalation tier")
        verbose_name_plural = _("escalation tiers")
        ordering = ["order"]

    def __str__(self) -> str:
        return f"{self.get_approver_display()} ≤ {self.up_to_deal_value or '∞'}"


class ExceptionState(models.TextChoices):
    PENDING = "pending", _("Waiting for a decision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ExceptionRequest(models.Model):
    """A KAM's request to go past a limit of the mandate for one deal, decided above them."""

    mandate = models.ForeignKey(Mandate, on_delete=models.PROTECT, related_name="exceptions")
    client = models.ForeignKey(
        "accounts.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="exception_requests",
    )
    asked = models.JSONField(_("asked"), default=dict)
    breaches = models.JSONField(_("limits passed"), default=list)
    justification = models.TextField(_("justification"))
    approver = models.CharField(_("decided by"), max_length=20, choices=Approver.choices)
    state = models.CharField(
        _("state"), max_length=10, choices=ExceptionState.choices, default=ExceptionState.PENDING
    )
    respond_by = models.DateTimeField(_("answer due by"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("asked on"), auto_now_add=True)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("exception request")
        verbose_name_plural = _("exception requests")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "approver"])]

    def __str__(self) -> str:
        return f"{self.client}: {self.get_state_display()}"

    @property
    def breach_lines(self) -> list[dict[str, object]]:
        """The limits passed, with their names, for display."""
        return [
            {
                "label": LimitKind(b["limit"]).label,
                "asked": Decimal(b["asked"]),
                "allowed": Decimal(b["allowed"]),
            }
            for b in self.breaches
        ]


class SpendCategory(models.TextChoices):
    HOSPITALITY = "hospitality", _("Hospitality")
    EVENTS = "events", _("Events and visits")
    TRAVEL = "travel", _("Travel")
    SAMPLES = "samples", _("Samples and trials")
    MARKETING = "marketing", _("Joint marketing")
    OTHER = "other", _("Other")


class Budget(models.Model):
    """What the committee allocates to work a key client in a quarter."""

    client = models.ForeignKey(
        "accounts.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="+"
    )
    period = models.DateField(_("quarter"), help_text=_("First day of the quarter."))
    allocated = models.DecimalField(
        _("allocated"), max_digits=16, decimal_places=2, validators=[MinValueValidator(0)]
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        ordering = ["-period", "client"]
        constraints = [
            models.UniqueConstraint(fields=["client", "period"], name="one_budget_per_quarter")
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.period:%Y-%m}"


class BudgetSpend(models.Model):
    """Money the KAM spent from a budget; past the mandate's threshold, it cites an approved
    exception."""

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="spending")
    amount = models.DecimalField(
        _("amount"),
        max_digits=16,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    category = models.CharField(_("category"), max_length=20, choices=SpendCategory.choices)
    spent_on = models.DateField(_("spent on"))
    description = models.CharField(_("what for"), max_length=300)
    exception = models.ForeignKey(
        ExceptionRequest,
        verbose_name=_("approved exception"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("spending")
        verbose_name_plural = _("spending")
        ordering = ["-spent_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="spending_is_positive")
        ]

    def __str__(self) -> str:
        return f"{self.budget}: {self.amount}"


class Department(models.TextChoices):
    LOGISTICS = "logistics", _("Logistics")
    FINANCE = "finance", _("Finance")
    PRODUCTION = "production", _("Production")
    LEGAL = "legal", _("Legal")
    SERVICE = "service", _("Service")


class DepartmentObligation(models.Model):
    """What an internal department owes the KAMs, who answers for it, and how fast."""

    department = models.CharField(_("department"), max_length=20, choices=Department.choices)
    title = models.CharField(_("obligation"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    response_hours = models.PositiveIntegerField(
        _("response time, hours"), validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("department obligation")
        verbose_name_plural = _("department obligations")
        ordering = ["department", "title"]

    def __str__(self) -> str:
        return f"{self.get_department_display()}: {self.title}"


class DepartmentRequest(models.Model):
    """A KAM's request against an obligation; late when fulfilled after its due time, or not at
    all by then."""

    obligation = models.ForeignKey(
        DepartmentObligation, on_delete=models.PROTECT, related_name="requests"
    )
    client = models.ForeignKey(
        "accounts.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="department_requests"
    )
    text = models.CharField(_("request"), max_length=300)
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)
    due_at = models.DateTimeField(_("due"))
    fulfilled_at = models.DateTimeField(_("fulfilled"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("department request")
        verbose_name_plural = _("department requests")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.text

    def is_breached(self, now: datetime.datetime) -> bool:
        done = self.fulfilled_at or now
        return done > self.due_at


class Absence(models.Model):
    """A committee member away from–to, and the deputy who decides in their place meanwhile."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who is away"),
        on_delete=models.PROTECT,
        related_name="absences",
    )
    starts_on = models.DateField(_("away from"))
    ends_on = models.DateField(_("away until"))
    deputy = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deputy"),
        on_delete=models.PROTECT,
        related_name="deputising",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="absence_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=~models.Q(deputy=models.F("user")),
                name="absence_deputy_is_someone_else",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.deputy} ({self.starts_on}–{self.ends_on})"


class SituationType(models.Model):
    """A kind of exceptional situation in the playbook: what to do, who owns it, how fast."""

    name = models.CharField(_("situation"), max_length=200, unique=True)
    procedure = models.TextField(_("procedure"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    response_hours = models.PositiveIntegerField(
        _("response time, hours"), validators=[MinValueValidator(1)]
    )
    is_active = models.BooleanField(_("in the playbook"), default=True)

    class Meta:
        verbose_name = _("situation type")
        verbose_name_plural = _("situation types")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class IncidentState(models.TextChoices):
    OPEN = "open", _("Declared")
    IN_HAND = "in_hand", _("In hand")
    CLOSED = "closed", _("Closed")


class Incident(models.Model):
    """An exceptional situation a KAM declared on an account: routed to the playbook's owner and
    tracked until it is closed with a resolution."""

    situation = models.ForeignKey(
        SituationType,
        verbose_name=_("situation"),
        on_delete=models.PROTECT,
        related_name="incidents",
    )
    client = models.ForeignKey(
        "accounts.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="+"
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("declared by"),
        on_delete=models.PROTECT,
        related_name="declared_incidents",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_incidents",
    )
    description = models.TextField(_("what happened"))
    state = models.CharField(
        _("state"), max_length=10, choices=IncidentState.choices, default=IncidentState.OPEN
    )
    declared_at = models.DateTimeField(_("declared"), auto_now_add=True)
    respond_by = models.DateTimeField(_("answer due by"))
    taken_at = models.DateTimeField(_("taken in hand"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-declared_at", "-pk"]
        indexes = [models.Index(fields=["state", "respond_by"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="closed") | ~models.Q(resolution=""),
                name="closed_incident_has_a_resolution",
            )
        ]

    def __str__(self) -> str:
        return f"{self.situation}: {self.client}"

    def get_absolute_url(self) -> str:
        return reverse("governance:incident-detail", args=[self.pk])

    def is_overdue(self, now: datetime.datetime) -> bool:
        """Not taken in hand by its deadline (or taken late)."""
        return (self.taken_at or now) > self.respond_by


class IncidentUpdate(models.Model):
    """A step in handling an incident, in the order it was taken."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("update"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("incident update")
        verbose_name_plural = _("incident updates")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.text[:60]


# KPIs: what a KAM is measured by (question 7 of the management shell), their targets per
# mandate and quarter, and the actuals, stored as snapshots so that no dashboard recomputes
# history.


class KpiUnit(models.TextChoices):
    MONEY = "money", _("Money")
    PERCENT = "percent", _("Per cent")
    COUNT = "count", _("Count")


class KpiDirection(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    LOWER = "lower", _("Lower is better")


class KpiSource(models.TextChoices):
    REVENUE = "revenue", _("Revenue")
    GROSS_MARGIN = "gross_margin", _("Gross margin")
    GROWTH = "growth", _("Revenue growth against the previous quarter, %")
    KEY_SHARE = "key_share", _("Key clients' share of sales, %")
    KEY_COVERAGE = "key_coverage", _("Average coverage of key clients, %")
    EXCEPTIONS = "exceptions_granted", _("Exceptions granted")
    BREACHES = "obligation_breaches", _("Department obligations breached")
    BUDGET_USED = "budget_used", _("Budget used, %")
    MANUAL = "manual", _("Entered by hand")


class Kpi(models.Model):
    """A KPI in the catalogue: how it is measured, and which way is good."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=10, choices=KpiUnit.choices)
    direction = models.CharField(
        _("direction"), max_length=10, choices=KpiDirection.choices, default=KpiDirection.HIGHER
    )
    source = models.CharField(_("actual from"), max_length=30, choices=KpiSource.choices)
    description = models.TextField(_("description"), blank=True)
    watch_band_percent = models.DecimalField(
        _("watch band, per cent of target"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(10),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text=_("Missing the target by up to this share is 'watch'; by more, 'bad'."),
    )

    class Meta:
        verbose_name = _("KPI")
        verbose_name_plural = _("KPIs")
        ordering = ["name"]
        permissions = [
            ("view_dashboard", _("Can see the KPI dashboards")),
            ("view_own_kpis", _("Can see one's own KPIs")),
        ]

    def __str__(self) -> str:
        return self.name


class KpiTarget(models.Model):
    """The target a mandate sets for a KPI in a quarter, for all its accounts or for one."""

    kpi = models.ForeignKey(Kpi, verbose_name=_("KPI"), on_delete=models.PROTECT, related_name="+")
    mandate = models.ForeignKey(
        Mandate, verbose_name=_("mandate"), on_delete=models.CASCADE, related_name="kpi_targets"
    )
    client = models.ForeignKey(
        "accounts.Client",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the target is for all the mandate's accounts."),
    )
    period = models.DateField(_("quarter"), help_text=_("First day of the quarter."))
    target = models.DecimalField(_("target"), max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("KPI target")
        verbose_name_plural = _("KPI targets")
        ordering = ["mandate", "period", "kpi"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "mandate", "period"],
                condition=models.Q(client__isnull=True),
                name="one_mandate_target_per_kpi_and_quarter",
            ),
            models.UniqueConstraint(
                fields=["kpi", "mandate", "client", "period"],
                condition=models.Q(client__isnull=False),
                name="one_account_target_per_kpi_and_quarter",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} {self.period:%Y-%m}: {self.target}"


class KpiScope(models.TextChoices):
    PORTFOLIO = "portfolio", _("Portfolio")
    KAM = "kam", _("Key-account manager")
    ACCOUNT = "account", _("Account")


class KpiSnapshot(models.Model):
    """A KPI's actual for a quarter and a scope (the portfolio, a KAM, an account), as the
    snapshot job computed it. Recomputing a quarter overwrites its rows, never adds to them."""

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="snapshots")
    period = models.DateField(_("quarter"))
    scope = models.CharField(_("scope"), max_length=10, choices=KpiScope.choices)
    # "portfolio", "kam:<user id>" or "account:<client id>": one key for the upsert.
    scope_key = models.CharField(max_length=40)
    kam = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    client = models.ForeignKey(
        "accounts.Client", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    value = models.DecimalField(_("actual"), max_digits=18, decimal_places=4, null=True)
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("KPI snapshot")
        verbose_name_plural = _("KPI snapshots")
        ordering = ["period", "kpi"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "period", "scope_key"], name="one_snapshot_per_kpi_quarter_scope"
            )
        ]
        indexes = [
            models.Index(fields=["scope", "period"]),
            models.Index(fields=["kam", "period"]),
            models.Index(fields=["client", "period"]),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} {self.period:%Y-%m} {self.scope_key}: {self.value}"


class KpiEntry(models.Model):
    """A hand-entered actual, kept as an audit trail: a correction is a new row, and the latest
    row for a KPI, quarter and scope is the one that counts."""

    kpi = models.ForeignKey(Kpi, verbose_name=_("KPI"), on_delete=models.PROTECT, related_name="+")
    period = models.DateField(_("quarter"), help_text=_("First day of the quarter."))
    kam = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("key-account manager"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    client = models.ForeignKey(
        "accounts.Client",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=2)
    note = models.CharField(_("source or note"), max_length=300, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered"), auto_now_add=True)

    class Meta:
        verbose_name = _("KPI entry")
        verbose_name_plural = _("KPI entries")
        ordering = ["-entered_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kpi} {self.period:%Y-%m}: {self.value}"

    @property
    def period_label(self) -> str:
        return quarter_label(self.period)


class PortfolioSnapshot(models.Model):
    """The portfolio in a quarter, as the snapshot job saw it: how many key clients, their share
    of sales and how well our USPs cover them. The portfolio dashboard reads these rows only."""

    period = models.DateField(_("quarter"), unique=True)
    clients = models.PositiveIntegerField(_("clients"))
    key_clients = models.PositiveIntegerField(_("key clients"))
    total_revenue = models.DecimalField(_("total sales"), max_digits=20, decimal_places=2)
    key_revenue = models.DecimalField(_("key clients' sales"), max_digits=20, decimal_places=2)
    # Ten buckets of coverage (0–10 %, …, 90–100 %): counts of all evaluated clients, and of
    # the key ones.
    coverage_buckets = models.JSONField(default=list)
    key_coverage_buckets = models.JSONField(default=list)
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("portfolio snapshot")
        verbose_name_plural = _("portfolio snapshots")
        ordering = ["period"]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m}"
