"""The management shell around every KAM: mandates and their limits, escalation, exception
requests, budgets, department obligations, absences and deputies, situations and incidents."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import ExpressionWrapper, F, Sum, Value
from django.db.models.functions import Coalesce
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


MONEY = models.DecimalField(max_digits=18, decimal_places=2)


class BudgetQuerySet(models.QuerySet):
    def with_spent(self) -> BudgetQuerySet:
        """Budgets with their client, ``spent_total`` (what is spent from each) and
        ``remaining`` (no query per budget)."""
        return self.select_related("client").annotate(
            spent_total=Coalesce(Sum("spending__amount"), Value(Decimal(0)), output_field=MONEY),
            remaining=ExpressionWrapper(F("allocated") - F("spent_total"), output_field=MONEY),
        )


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

    objects = BudgetQuerySet.as_manager()

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
