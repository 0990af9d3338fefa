"""The ruler: USPs, how they cover client needs, versioned criteria, and evaluations."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Client, ClientNeed


class USP(models.Model):
    """A unique selling proposition: something we are uniquely good at.

    A USP is retired, never deleted, so evaluations that used it keep their history.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    since = models.DateField(_("since"), help_text=_("When the company began to offer it."))
    retired_on = models.DateField(_("retired on"), null=True, blank=True)

    class Meta:
        verbose_name = _("USP")
        verbose_name_plural = _("USPs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.retired_on is None


class Degree:
    """How far a USP meets a need: none, partial or full, or any share in between."""

    NONE = Decimal("0")
    PARTIAL = Decimal("0.5")
    FULL = Decimal("1")
    CHOICES = ((NONE, _("none")), (PARTIAL, _("partial")), (FULL, _("full")))


share_validators = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))]


class NeedCoverage(models.Model):
    """A USP meeting one client need, fully or in part.

    A need's degree of coverage is the best degree among the active USPs that meet it.
    """

    need = models.ForeignKey(
        ClientNeed, verbose_name=_("need"), on_delete=models.CASCADE, related_name="coverages"
    )
    usp = models.ForeignKey(
        USP, verbose_name=_("USP"), on_delete=models.PROTECT, related_name="coverages"
    )
    degree = models.DecimalField(
        _("degree"),
        max_digits=4,
        decimal_places=3,
        validators=share_validators,
        help_text=_("0 = not at all, 0.5 = in part, 1 = fully."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("coverage of a need")
        verbose_name_plural = _("coverage of needs")
        constraints = [
            models.UniqueConstraint(fields=["need", "usp"], name="coverage_once_per_need_and_usp"),
            models.CheckConstraint(
                condition=models.Q(degree__gte=0, degree__lte=1), name="coverage_degree_is_share"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.need} ← {self.usp} ({self.degree})"


class RulerStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_FORCE = "in_force", _("In force")
    SUPERSEDED = "superseded", _("Superseded")


class RulerTitle(models.TextChoices):
    """The titles SKAM gives a draft nobody named, said in the reader's language."""

    FIRST = "first", _("First ruler")
    BASED_ON = "based_on", _("Draft based on a version")


def ruler_title_text(title: str | dict[str, object]) -> str:
    """A ruler version's title in the active language: as typed (a string), or said from its
    kind and values (``{"kind": "based_on", "number": 3, "title": "Ruler 2026"}``): "Draft
    based on v3 Ruler 2026", or "Draft based on version 3" when that version had no typed
    title either. An unknown kind is said as its code rather than lost."""
    if isinstance(title, str):
        return title
    kind = title.get("kind")
    if kind == RulerTitle.FIRST:
        return gettext("First ruler")
    if kind == RulerTitle.BASED_ON:
        number, base_title = title.get("number", ""), title.get("title") or ""
        if base_title:
            base = gettext("v%(number)s %(title)s") % {"number": number, "title": base_title}
            return gettext("Draft based on %(ruler)s") % {"ruler": base}
        return gettext("Draft based on version %(number)s") % {"number": number}
    return str(kind or "")


class RulerVersion(models.Model):
    """A version of the ruler: the coverage threshold and further criteria a key client meets.

    A draft can be changed until it is put to the committee's vote; only the committee's
    decision puts it in force, and then it is immutable. Exactly one version is in force.
    """

    number = models.PositiveIntegerField(_("version"), unique=True)
    # The title a person typed, kept as typed; blank when SKAM titled the draft itself: then
    # the title is said from ``title_kind`` and ``title_values`` in the reader's language.
    typed_title = models.CharField(_("title"), max_length=200, blank=True, db_column="title")
    title_kind = models.CharField(
        _("automatic title"), max_length=20, choices=RulerTitle.choices, blank=True
    )
    title_values = models.JSONField(_("values of the automatic title"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=RulerStatus.choices, default=RulerStatus.DRAFT
    )
    coverage_threshold = models.DecimalField(
        _("coverage threshold"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.75"),
        validators=share_validators,
        help_text=_("Share of a client's weighted needs our USPs must meet (0.75 = 75 %)."),
    )
    horizon_months = models.PositiveSmallIntegerField(
        _("planning horizon, months"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    concession_rate = models.DecimalField(
        _("concession rate"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.10"),
        validators=share_validators,
        help_text=_(
            "Share of a deal's value we give away, in price or extra service, for each unit "
            "of uncovered need: the basis of the cost of mismatch."
        ),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    adopted_at = models.DateTimeField(_("adopted"), null=True, blank=True)
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("adopted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Set while a proposal to adopt this draft is open: what the committee votes on stays what
    # it adopts (nothing changes the draft meanwhile).
    under_vote = models.BooleanField(_("before the committee"), default=False, editable=False)

    class Meta:
        verbose_name = _("ruler version")
        verbose_name_plural = _("ruler versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="in_force"),
                name="one_ruler_in_force",
            ),
            models.CheckConstraint(
                condition=~models.Q(typed_title="", title_kind=""),
                name="ruler_version_has_a_title",
                violation_error_message=_("Give the version a title."),
            ),
        ]

    def __str__(self) -> str:
        return gettext("v%(number)s %(title)s") % {"number": self.number, "title": self.title}

    @property
    def title(self) -> str:
        """The title as typed, or, when SKAM titled the draft, said in the active language."""
        return ruler_title_text(self.title_data)

    @title.setter
    def title(self, value: str) -> None:
        self.typed_title = value

    @property
    def title_data(self) -> str | dict[str, object]:
        """The title as data, the same in every language: the typed title, or the automatic
        title's kind and values. What is frozen (a proposal's subject and content) keeps this."""
        if self.typed_title or not self.title_kind:
            return self.typed_title
        return {"kind": self.title_kind, **self.title_values}

    @property
    def is_draft(self) -> bool:
        return self.status == RulerStatus.DRAFT

    def mismatch_share(self, coverage_ratio: Decimal | None) -> Decimal | None:
        """Share of each deal's value conceded to pay for a client's uncovered needs (the
        method: below the threshold we buy the client's decision on every deal); None at or
        above the threshold, or for a client that cannot be scored."""
        if coverage_ratio is None or coverage_ratio >= self.coverage_threshold:
            return None
        return (1 - Decimal(coverage_ratio)) * self.concession_rate


class CriterionKind(models.TextChoices):
    POTENTIAL_REVENUE = "potential_revenue", _("Potential revenue over the horizon")
    REVENUE_4Q = "revenue_4q", _("Revenue, last 4 quarters")
    GROSS_MARGIN_PERCENT = "gross_margin_percent", _("Gross margin, %")
    REVENUE_GROWTH = "revenue_growth", _("Revenue growth year on year, %")
    SHARE_OF_WALLET = "share_of_wallet", _("Share of wallet, %")
    STRATEGIC_FIT = "strategic_fit", _("Strategic fit, committee rating 1–5")


class Direction(models.TextChoices):
    AT_LEAST = "at_least", _("at least")
    AT_MOST = "at_most", _("at most")


class RulerCriterion(models.Model):
    """A further criterion of a ruler version: a gate a key client must pass, or a criterion
    that adds its weight to the score when met."""

    ruler = models.ForeignKey(
        RulerVersion, verbose_name=_("ruler"), on_delete=models.CASCADE, related_name="criteria"
    )
    kind = models.CharField(_("criterion"), max_length=30, choices=CriterionKind.choices)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.AT_LEAST
    )
    threshold = models.DecimalField(_("threshold"), max_digits=18, decimal_places=2)
    is_gate = models.BooleanField(
        _("gate"), default=False, help_text=_("A gate must be passed to meet the ruler.")
    )
    weight = models.PositiveSmallIntegerField(
        _("weight in the score"), default=1, validators=[MaxValueValidator(10)]
    )

    class Meta:
        verbose_name = _("ruler criterion")
        verbose_name_plural = _("ruler criteria")
        ordering = ["ruler", "-is_gate", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["ruler", "kind"], name="criterion_once_per_ruler")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.get_direction_display()} {self.threshold_label}"

    @property
    def threshold_label(self) -> str:
        """The threshold as people write it: grouped digits, no trailing zeros."""
        places = 0 if self.threshold == self.threshold.to_integral_value() else 2
        return formats.number_format(self.threshold, places, use_l10n=True, force_grouping=True)

    def passes(self, value: Decimal | None) -> bool:
        """Whether a client's ``value`` meets this criterion; an unknown value never does."""
        if value is None:
            return False
        if self.direction == Direction.AT_LEAST:
            return value >= self.threshold
        return value <= self.threshold


class StrategicFitRating(models.Model):
    """The committee's rating of how well a client fits the strategy (1–5). The latest counts."""

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="fit_ratings"
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rated by"), on_delete=models.PROTECT
    )
    rated_at = models.DateTimeField(_("rated"), auto_now_add=True)

    class Meta:
        verbose_name = _("strategic fit rating")
        verbose_name_plural = _("strategic fit ratings")
        ordering = ["client", "-rated_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="fit_rating_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.client}: {self.rating}"


# A run stopped because another ruler was put in force: kept as this code in ``error`` and
# said in the reader's language (``EvaluationRun.error_text``).
RUN_SUPERSEDED = "superseded"


class RunStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


# A run in progress with no chunk done for this long is stalled: no chunk takes nearly as long
# (5,000 clients in a few seconds; the chunk task's time limit is 10 minutes).
STALL_AFTER = datetime.timedelta(minutes=3)


class EvaluationRun(models.Model):
    """One re-evaluation of every client against the ruler in force, split into chunks.

    ``in_progress`` is True while the run waits or works and NULL afterwards; a unique
    constraint on it lets at most one run be in progress, whoever starts it.
    """

    ruler = models.ForeignKey(
        RulerVersion, verbose_name=_("ruler"), on_delete=models.PROTECT, related_name="runs"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING
    )
    in_progress = models.BooleanField(null=True, default=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    as_of = models.DateField(_("figures as of"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    first_client_id = models.BigIntegerField(default=0)
    last_client_id = models.BigIntegerField(default=0)
    chunk_size = models.PositiveIntegerField(default=5000)
    chunks_total = models.PositiveIntegerField(_("chunks"), default=0)
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)
    clients_evaluated = models.PositiveIntegerField(_("clients evaluated"), default=0)
    verdict_changes = models.PositiveIntegerField(_("verdict changes"), default=0)
    error = models.TextField(_("error"), blank=True)
    # The last sign of life: set when the run is created, when a chunk is done and when a
    # stalled run is resumed. A run in progress that shows none for a while is stalled.
    progressed_at = models.DateTimeField(_("last progress"), default=timezone.now)

    class Meta:
        verbose_name = _("evaluation run")
        verbose_name_plural = _("evaluation runs")
        ordering = ["-created_at", "-pk"]
        permissions = [("start_evaluationrun", _("Can start a re-evaluation of every client"))]
        constraints = [
            models.UniqueConstraint(fields=["in_progress"], name="one_evaluation_run_at_a_time")
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"

    @property
    def error_text(self) -> str:
        """Why the run failed, in the active language where SKAM says it; a technical error
        (a chunk's exception) as it was raised."""
        if self.error == RUN_SUPERSEDED:
            return gettext("Superseded: a new ruler version was put in force.")
        return self.error

    @property
    def progress_percent(self) -> int:
        if not self.chunks_total:
            return 100 if self.status == RunStatus.DONE else 0
        return round(100 * self.chunks_done / self.chunks_total)

    def stalled_since(self, *, at: datetime.datetime) -> datetime.datetime | None:
        """When a run in progress last moved, if that is longer ago than ``STALL_AFTER``
        (its chunks' messages were lost: a worker killed); None for a run that moves or ended."""
        if self.in_progress and self.progressed_at <= at - STALL_AFTER:
            return self.progressed_at
        return None

    @property
    def no_progress_since(self) -> datetime.datetime | None:
        """``stalled_since`` now: what the run's page shows."""
        return self.stalled_since(at=timezone.now())

    @property
    def duration(self) -> datetime.timedelta | None:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None

    @property
    def duration_seconds(self) -> Decimal | None:
        """How long the run took, in seconds to a tenth: the page says it in the reader's
        locale ("0,1 с"), which a timedelta's "0:00:00.116476" is not."""
        if self.duration is None:
            return None
        return Decimal(str(self.duration.total_seconds())).quantize(Decimal("0.1"))


class EvaluationChunk(models.Model):
    """A chunk of a run, recorded in the same transaction that writes its evaluations: a chunk
    that has a row is done, and a worker that finds one skips the chunk."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    clients = models.PositiveIntegerField(default=0)
    verdict_changes = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="chunk_done_once_per_run")
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} chunk {self.number}"


class Evaluation(models.Model):
    """A client measured against a ruler version in one run, with what explains the verdict.

    ``breakdown`` lists the client's needs as they were: ``[need id, need name, weight,
    degree met, USP ids meeting it]``.
    """

    # No index of their own: (run, client) and (client, run) below serve both lookups, and each
    # index is written once per client in every nightly run.
    run = models.ForeignKey(
        EvaluationRun,
        verbose_name=_("run"),
        on_delete=models.CASCADE,
        related_name="evaluations",
        db_index=False,
    )
    client = models.ForeignKey(
        Client,
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="evaluations",
        db_index=False,
    )
    ruler = models.ForeignKey(
        RulerVersion, verbose_name=_("ruler"), on_delete=models.PROTECT, related_name="+"
    )
    coverage_ratio = models.DecimalField(
        _("coverage"), max_digits=7, decimal_places=6, null=True, blank=True
    )
    weight_total = models.PositiveIntegerField(_("total weight of needs"), default=0)
    potential_revenue = models.DecimalField(max_digits=18, decimal_places=2, null=True)
    revenue_4q = models.DecimalField(max_digits=18, decimal_places=2, null=True)
    gross_margin_percent = models.DecimalField(max_digits=9, decimal_places=2, null=True)
    revenue_growth = models.DecimalField(max_digits=9, decimal_places=2, null=True)
    share_of_wallet = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    strategic_fit = models.PositiveSmallIntegerField(null=True)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2, null=True)
    meets_ruler = models.BooleanField(_("meets the ruler"))
    was_key = models.BooleanField(_("key client at the time"))
    breakdown = models.JSONField(_("breakdown"), default=list)
    created_at = models.DateTimeField(_("evaluated"))

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["client", "-run"]
        constraints = [
            models.UniqueConstraint(fields=["run", "client"], name="one_evaluation_per_run")
        ]
        indexes = [models.Index(fields=["client", "-run"], name="evaluation_client_history")]

    def __str__(self) -> str:
        return f"{self.client} @ run {self.run_id}"


class ReviewKind(models.TextChoices):
    MEETS_BUT_NOT_KEY = "meets_not_key", _("Meets the ruler but is not a key client")
    KEY_BUT_FAILS = "key_fails", _("Key client that no longer meets the ruler")


class ReviewItem(models.Model):
    """A client whose verdict disagrees with its key status: for the committee's agenda.

    Opened by a run, closed by a later run once verdict and status agree again (or by the
    committee's decision). At most one is open per client.
    """

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="review_items"
    )
    kind = models.CharField(_("why"), max_length=20, choices=ReviewKind.choices)
    opened_by_run = models.ForeignKey(
        EvaluationRun, on_delete=models.CASCADE, related_name="opened_items"
    )
    opened_at = models.DateTimeField(_("opened"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("review item")
        verbose_name_plural = _("review items")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(closed_at__isnull=True),
                name="one_open_review_item_per_client",
            )
        ]

    def __str__(self) -> str:
        return f"{self.client}: {self.get_kind_display()}"
