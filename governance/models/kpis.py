"""KPIs: the catalogue, targets per mandate, hand-entered actuals and the stored snapshots the
directors' dashboards read."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.periods import quarter_label


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
        "Mandate", verbose_name=_("mandate"), on_delete=models.CASCADE, related_name="kpi_targets"
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
