"""The mandate around every KAM: its accounts, team and relationship methods, its limits,
escalation tiers, and the exception requests that go past the limits."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from criteria.models import RulerStatus


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


# The limits counted in money: their amounts are said with the company's currency.
MONEY_LIMITS = frozenset({LimitKind.DEAL_VALUE, LimitKind.CREDIT, LimitKind.BUDGET_SPEND})

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
    def overlapping(self, start: datetime.date, end: datetime.date) -> MandateQuerySet:
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
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    adopted_at = models.DateTimeField(_("adopted"), null=True, blank=True)
    # Set while a proposal to grant this draft is open: nothing changes it meanwhile.
    under_vote = models.BooleanField(_("before the committee"), default=False, editable=False)

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

    mandate = models.ForeignKey(
        Mandate, verbose_name=_("mandate"), on_delete=models.CASCADE, related_name="accounts"
    )
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


class MandateBudget(models.Model):
    """A budget a mandate holds for one of its key accounts in a quarter, in the company's
    currency: drafted with the mandate, compared with the budget allocated today, and
    allocated (``Budget``) when the committee adopts the mandate."""

    mandate = models.ForeignKey(
        Mandate, verbose_name=_("mandate"), on_delete=models.CASCADE, related_name="budgets"
    )
    client = models.ForeignKey(
        "accounts.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="+"
    )
    period = models.DateField(_("quarter"), help_text=_("First day of the quarter."))
    allocated = models.DecimalField(
        _("allocated"), max_digits=16, decimal_places=2, validators=[MinValueValidator(0)]
    )

    class Meta:
        verbose_name = _("budget in a mandate")
        verbose_name_plural = _("budgets in a mandate")
        ordering = ["period", "client"]
        constraints = [
            models.UniqueConstraint(
                fields=["mandate", "client", "period"], name="mandate_budget_once_per_quarter"
            ),
            models.CheckConstraint(
                condition=models.Q(allocated__gte=0), name="mandate_budget_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.period:%Y-%m}"


class MandateTeamMember(models.Model):
    """Someone working the mandate's accounts with the KAM, and in which role."""

    mandate = models.ForeignKey(
        Mandate, verbose_name=_("mandate"), on_delete=models.CASCADE, related_name="team"
    )
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


class ExceptionRequestQuerySet(models.QuerySet):
    def overdue(self, now: datetime.datetime) -> ExceptionRequestQuerySet:
        """Pending past the deadline of its tier: the one rule of an overdue request."""
        return self.filter(state=ExceptionState.PENDING, respond_by__lt=now)


class ExceptionRequest(models.Model):
    """A KAM's request to go past a limit of the mandate for one deal, decided above them."""

    mandate = models.ForeignKey(
        Mandate, verbose_name=_("mandate"), on_delete=models.PROTECT, related_name="exceptions"
    )
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
    deal = models.CharField(
        _("the deal it covers"),
        max_length=300,
        blank=True,
        help_text=_("Which deal this licence is for: an exception covers one deal."),
    )
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
    # A request at the committee's tier is decided by the committee's vote on a proposal, not
    # by a person: ``decided_by`` stays empty and this names the proposal whose vote decided it.
    decided_in = models.ForeignKey(
        "Proposal",
        verbose_name=_("decided by the committee's vote on"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("asked on"), auto_now_add=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True, editable=False)
    # An approved exception is a licence for one thing, used up to its amount by the act it
    # licenses (spending past the threshold), in that act's transaction.
    used_amount = models.DecimalField(
        _("used of the licence"), max_digits=16, decimal_places=2, default=Decimal(0)
    )
    used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = ExceptionRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("exception request")
        verbose_name_plural = _("exception requests")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "approver"])]

    def __str__(self) -> str:
        return f"{self.client}: {self.get_state_display()}"

    def get_absolute_url(self) -> str:
        return reverse("governance:exception-detail", args=[self.pk])

    @property
    def is_for_the_committee(self) -> bool:
        """Pending at the committee's tier: only a proposal's vote decides it."""
        return self.state == ExceptionState.PENDING and self.approver == Approver.COMMITTEE

    def licensed(self, limit: str) -> Decimal | None:
        """How much past ``limit`` this request asked for, when it passes that limit at all;
        None when the limit is not one it names (a discount licenses no spending)."""
        for breach in self.breaches:
            if breach["limit"] == limit:
                return Decimal(breach["asked"])
        return None

    @property
    def breach_lines(self) -> list[dict[str, object]]:
        """The limits passed, with their names, for display."""
        return [
            {
                "label": LimitKind(b["limit"]).label,
                "asked": Decimal(b["asked"]),
                "allowed": Decimal(b["allowed"]),
                "is_money": b["limit"] in MONEY_LIMITS,
            }
            for b in self.breaches
        ]
