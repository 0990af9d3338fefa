"""The rest of the management shell: budgets and spending, department obligations and
requests, absences and deputies, situations and incidents."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import ExpressionWrapper, F, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.periods import quarter_label


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
        return f"{self.client}, {quarter_label(self.period)}"


class BudgetSpend(models.Model):
    """Money the KAM spent from a budget; past the mandate's threshold, it cites an approved
    exception."""

    budget = models.ForeignKey(
        Budget, verbose_name=_("budget"), on_delete=models.PROTECT, related_name="spending"
    )
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
        "ExceptionRequest",
        verbose_name=_("approved exception"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

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


class DepartmentRequestQuerySet(models.QuerySet):
    @staticmethod
    def breached_at(now: datetime.datetime) -> models.Q:
        """The one rule of a breach: fulfilled after its due time, or not at all by ``now``."""
        return models.Q(fulfilled_at__gt=models.F("due_at")) | models.Q(
            fulfilled_at__isnull=True, due_at__lt=now
        )

    def breached(self, now: datetime.datetime) -> DepartmentRequestQuerySet:
        return self.filter(self.breached_at(now))


class DepartmentRequest(models.Model):
    """A KAM's request against an obligation; late when fulfilled after its due time, or not at
    all by then."""

    obligation = models.ForeignKey(
        DepartmentObligation,
        verbose_name=_("obligation"),
        on_delete=models.PROTECT,
        related_name="requests",
    )
    client = models.ForeignKey(
        "accounts.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked by"),
        on_delete=models.PROTECT,
        related_name="department_requests",
    )
    text = models.CharField(_("request"), max_length=300)
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)
    due_at = models.DateTimeField(_("due"))
    fulfilled_at = models.DateTimeField(_("fulfilled"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True, editable=False)

    objects = DepartmentRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("department request")
        verbose_name_plural = _("department requests")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.text


class AbsenceQuerySet(models.QuerySet):
    def delete(self) -> tuple[int, dict[str, int]]:
        """Nothing is deleted from the record: a dropped absence is cancelled, and kept."""
        count = self.update(cancelled_at=timezone.now())
        return count, {self.model._meta.label: count}


class AbsenceManager(models.Manager.from_queryset(AbsenceQuerySet)):
    def get_queryset(self) -> AbsenceQuerySet:
        """Absences not cancelled: the only ones that name a deputy."""
        return super().get_queryset().filter(cancelled_at__isnull=True)


class Absence(models.Model):
    """A committee member away from–to, and the deputy who decides in their place meanwhile.

    Never deleted (the record keeps who deputised when): an absence is ended by moving its end,
    or cancelled (``cancelled_at``), which every path that drops one does through ``delete``.
    ``objects`` sees the absences not cancelled; ``with_cancelled`` sees them all."""

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
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True, editable=False)

    with_cancelled = models.Manager()
    objects = AbsenceManager()

    class Meta:
        default_manager_name = "objects"
        base_manager_name = "with_cancelled"
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

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        return Absence.objects.filter(pk=self.pk).delete()


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


class IncidentQuerySet(models.QuerySet):
    def overdue(self, now: datetime.datetime) -> IncidentQuerySet:
        """Open, and not taken in hand by its deadline: the one rule of an overdue incident."""
        return self.filter(state=IncidentState.OPEN, respond_by__lt=now)


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
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True, editable=False)

    objects = IncidentQuerySet.as_manager()

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


class IncidentUpdate(models.Model):
    """A step in handling an incident, in the order it was taken."""

    incident = models.ForeignKey(
        Incident, verbose_name=_("incident"), on_delete=models.CASCADE, related_name="updates"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # As its author typed it; blank for an incident taken in hand with nothing typed, said
    # in the reader's language (``text_said``).
    text = models.TextField(_("update"), blank=True)
    created_at = models.DateTimeField(_("written"), auto_now_add=True)

    class Meta:
        verbose_name = _("incident update")
        verbose_name_plural = _("incident updates")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.text_said[:60]

    @property
    def text_said(self) -> str:
        """The update as typed, or "Taken in hand." in the active language when none was."""
        return self.text or gettext("Taken in hand.")


# KPIs: what a KAM is measured by (question 7 of the management shell), their targets per
# mandate and quarter, and the actuals, stored as snapshots so that no dashboard recomputes
# history.
