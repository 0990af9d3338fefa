"""The register: people, clients, their account teams, figures per quarter and needs."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.periods import quarter_label, validate_quarter_start
from accounts.roles import Role
from accounts.search import Folded


class User(AbstractUser):
    """A person using SKAM. What they may do follows from their role groups.

    Someone who signed in through the company's OpenID Connect provider (``accounts/sso.py``)
    is known by the provider's issuer and their subject there, which the provider never
    reassigns (an e-mail address may be); they sign in only through it from then on."""

    sso_issuer = models.CharField(
        _("single sign-on provider"), max_length=255, blank=True, editable=False
    )
    sso_subject = models.CharField(
        _("subject at the provider"), max_length=255, blank=True, editable=False
    )

    # What SKAM writes to them (e-mail) is in their language, not in that of whoever acted.
    language = models.CharField(
        _("language of letters"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_(
            "The language SKAM writes to this person in; blank: the site's. Set when they "
            "switch the interface's language."
        ),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.UniqueConstraint(
                fields=["sso_issuer", "sso_subject"],
                condition=~models.Q(sso_subject=""),
                name="one_person_per_sso_subject",
            )
        ]

    def signs_in_through_provider(self) -> bool:
        """True once linked to a subject of the company's provider: no password of SKAM's."""
        return bool(self.sso_subject)

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def letter_language(self) -> str:
        """The language their letters are written in."""
        return self.language or settings.LANGUAGE_CODE


class Segment(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    MID_MARKET = "mid_market", _("Mid-market")
    SMALL = "small", _("Small business")
    PUBLIC = "public", _("Public sector")


registration_number_validator = RegexValidator(
    r"^[0-9A-Za-z-]{5,20}$",
    _("A registration number has 5 to 20 letters, digits or dashes (for example an INN)."),
)


def owner_name_sort_key() -> models.Func:
    """The owner KAM's kept last name as an expression, ``name || ''`` (NULL stays NULL), that
    a KAM's register sorts by owner on (``accounts.filters.RegisterOrdering``): no index of
    the name alone serves it, so a KAM's sort never walks every other KAM's clients along
    that index; the index of owner and this expression serves the KAM's own accounts."""
    return models.Func(
        models.F("owner_kam_last_name"),
        models.Value(""),
        # In the order a migration writes them: Django compares expressions with their
        # keywords in order, and would otherwise see the index as changed.
        arg_joiner=" || ",
        template="(%(expressions)s)",
    )


class Client(models.Model):
    """A client company in the register.

    ``is_key`` is never edited by hand: it follows from the committee's decisions and only the
    governance decision service writes it.

    On PostgreSQL, ``search_name`` and ``registration_number`` also carry trigram (GIN) indexes
    for the search; a migration creates them on PostgreSQL only, so they are not listed in
    ``Meta.indexes``.
    """

    name = models.CharField(_("name"), max_length=200)
    registration_number = models.CharField(
        _("registration number"),
        max_length=20,
        unique=True,
        validators=[registration_number_validator],
        help_text=_("Tax or company registration number (INN); unique in the register."),
    )
    segment = models.CharField(
        _("segment"), max_length=20, choices=Segment.choices, default=Segment.MID_MARKET
    )
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    owner_kam = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner KAM"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_clients",
        limit_choices_to={"groups__name": Role.KAM},
    )
    notes = models.TextField(_("notes"), blank=True)
    is_key = models.BooleanField(_("key client"), default=False, editable=False)
    # The name as the register's search compares it (accounts/search.py), computed by the
    # database on every write, bulk ones included; trigram-indexed on PostgreSQL.
    search_name = models.GeneratedField(
        expression=Folded("name"),
        output_field=models.TextField(),
        db_persist=True,
        verbose_name=_("name for search"),
    )
    # The owner KAM's last name, what "sort by owner KAM" orders by: kept by the database itself
    # (triggers of ``accounts/migrations/0012``) on every write of the owner, bulk ones and SQL
    # included, and on every change of a KAM's last name, so that the register's order by owner
    # is an index walk, not a sort of every client joined to its owner. NULL without an owner.
    # NULL, not "", without an owner: ownerless clients sort where the join put them.
    owner_kam_last_name = models.CharField(  # noqa: DJ001
        _("owner KAM's last name"), max_length=150, null=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name", "pk"]
        permissions = [
            ("view_all_clients", _("Can see every client, not only own accounts")),
            ("import_register", _("Can import clients, needs and figures from files")),
        ]
        # One per ordering the register offers, ended by the id as its orderings are
        # (``accounts.filters.RegisterOrdering``); each also serves the filter on its field.
        indexes = [
            models.Index(fields=["name", "id"], name="client_by_name"),
            models.Index(fields=["segment", "id"], name="client_by_segment"),
            models.Index(fields=["industry", "id"], name="client_by_industry"),
            models.Index(fields=["region", "id"], name="client_by_region"),
            models.Index(fields=["updated_at", "id"], name="client_by_updated_at"),
            models.Index(fields=["owner_kam", "name", "id"], name="client_by_owner_kam"),
            models.Index(fields=["owner_kam_last_name", "id"], name="client_by_owner_name"),
            models.Index(
                models.F("owner_kam"),
                owner_name_sort_key(),
                models.F("id"),
                name="client_by_owner_own_name",
            ),
            models.Index(
                fields=["name", "id"], condition=models.Q(is_key=True), name="key_client_by_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("accounts:client-detail", args=[self.pk])

    def team_is_single_kam(self) -> bool:
        """True when one KAM works the account alone (no team members besides the owner)."""
        return not any(m.user_id != self.owner_kam_id for m in self.team_members.all())


class FilterChoiceKind(models.TextChoices):
    INDUSTRY = "industry", _("Industry")
    REGION = "region", _("Region")


class FilterChoice(models.Model):
    """An industry or a region that some client of the register has: what the register's filter
    offers to those who see every client, kept by ``accounts.choices`` whenever clients are
    written, so that no page reads all the clients to offer them."""

    kind = models.CharField(_("kind"), max_length=10, choices=FilterChoiceKind.choices)
    value = models.CharField(_("value"), max_length=100)

    class Meta:
        verbose_name = _("filter choice")
        verbose_name_plural = _("filter choices")
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="filter_choice_once"),
        ]

    def __str__(self) -> str:
        return self.value


class TeamRole(models.TextChoices):
    LEAD = "lead", _("Lead KAM")
    KAM = "kam", _("Key-account manager")
    TECHNICAL = "technical", _("Technical specialist")
    SERVICE = "service", _("Service manager")
    FINANCE = "finance", _("Finance partner")
    EXECUTIVE_SPONSOR = "executive_sponsor", _("Executive sponsor")


class AccountTeamMember(models.Model):
    """A person on a client's account team, with their role in it."""

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="team_members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="account_teams",
    )
    role = models.CharField(_("role in the team"), max_length=20, choices=TeamRole.choices)

    class Meta:
        verbose_name = _("account team member")
        verbose_name_plural = _("account team members")
        ordering = ["client", "role", "user"]
        constraints = [
            models.UniqueConstraint(fields=["client", "user"], name="team_member_once_per_client")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"


money = {"max_digits": 16, "decimal_places": 2}
percent_validators = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class ClientFigure(models.Model):
    """A client's figures for one quarter."""

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="figures"
    )
    period = models.DateField(
        _("quarter"), validators=[validate_quarter_start], help_text=_("First day of the quarter.")
    )
    revenue = models.DecimalField(_("revenue"), **money, validators=[MinValueValidator(Decimal(0))])
    gross_margin = models.DecimalField(_("gross margin"), **money)
    potential_revenue = models.DecimalField(
        _("potential revenue over the horizon"),
        **money,
        validators=[MinValueValidator(Decimal(0))],
    )
    share_of_wallet = models.DecimalField(
        _("share of wallet, %"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=percent_validators,
    )

    class Meta:
        verbose_name = _("client figures")
        verbose_name_plural = _("client figures")
        ordering = ["client", "-period"]
        constraints = [
            models.UniqueConstraint(fields=["client", "period"], name="one_figure_per_quarter"),
            models.CheckConstraint(
                condition=models.Q(revenue__gte=0) & models.Q(potential_revenue__gte=0),
                name="figures_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(share_of_wallet__isnull=True)
                | models.Q(share_of_wallet__gte=0, share_of_wallet__lte=100),
                name="share_of_wallet_is_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.period_label}"

    @property
    def period_label(self) -> str:
        return quarter_label(self.period)

    @property
    def margin_percent(self) -> Decimal | None:
        if not self.revenue:
            return None
        return (self.gross_margin * 100 / self.revenue).quantize(Decimal("0.1"))


class ClientNeed(models.Model):
    """Something the client needs from a supplier, with how much it matters to them (0–10)."""

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="needs"
    )
    name = models.CharField(_("need"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    weight = models.PositiveSmallIntegerField(
        _("importance weight"),
        default=1,
        validators=[MaxValueValidator(10)],
        help_text=_("0 (does not matter) to 10 (decides the deal)."),
    )

    class Meta:
        verbose_name = _("client need")
        verbose_name_plural = _("client needs")
        ordering = ["client", "-weight", "name"]
        constraints = [
            models.UniqueConstraint(fields=["client", "name"], name="need_named_once_per_client"),
            models.CheckConstraint(condition=models.Q(weight__lte=10), name="need_weight_0_to_10"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.weight})"


class NeedChange(models.Model):
    """A change of a client's needs (which feed the ruler): who made it, when, and the needs as
    they stood before and after. Written by ``accounts.needs.needs_recorded`` on every path that
    edits needs (page, API, admin, import); never edited."""

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="need_changes"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed"), auto_now_add=True)
    before = models.JSONField(_("needs before"), default=list)
    after = models.JSONField(_("needs after"), default=list)

    class Meta:
        verbose_name = _("change of needs")
        verbose_name_plural = _("changes of needs")
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["client", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.client}: {self.changed_by} {self.changed_at:%Y-%m-%d %H:%M}"


class ImportKind(models.TextChoices):
    CLIENTS = "clients", _("Clients")
    NEEDS = "needs", _("Client needs")
    FIGURES = "figures", _("Client figures")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for the worker")
    CHECKING = "checking", _("Being checked")
    CHECKED = "checked", _("Checked, ready to import")
    REJECTED = "rejected", _("Has errors, nothing imported")
    APPLYING = "applying", _("Being imported")
    APPLIED = "applied", _("Imported")
    FAILED = "failed", _("Failed, nothing imported")


# A file's rows are checked in chunks, each one noted as progress; an import in progress with no
# progress for this long was lost with its worker (a chunk takes seconds).
IMPORT_STALL_AFTER = datetime.timedelta(minutes=5)


class ImportEncoding(models.TextChoices):
    """The encodings a CSV file is read in (Python's codec names)."""

    UTF8 = "utf-8", "UTF-8"
    UTF8_BOM = "utf-8-sig", _("UTF-8 with a BOM")
    CP1251 = "cp1251", "Windows-1251"
    KOI8_R = "koi8-r", "KOI8-R"
    CP866 = "cp866", _("CP866 (DOS)")


class ImportBatch(models.Model):
    """An uploaded file, kept with its dry-run report (its ``ImportRow``) so the import can be
    confirmed later. The worker checks it, then imports it when confirmed."""

    kind = models.CharField(_("what the file holds"), max_length=10, choices=ImportKind.choices)
    filename = models.CharField(_("file name"), max_length=255)
    content = models.BinaryField(_("file content"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices)
    # The columns the file holds, in its order: [[column, the file's own header], …].
    columns = models.JSONField(_("columns"), default=list)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_with_errors = models.PositiveIntegerField(_("rows with errors"), default=0)
    # How a CSV file was read: detected by the check, or chosen by a person who saw it read
    # wrong (``encoding_chosen``); blank for a workbook, or before the check.
    encoding = models.CharField(
        _("encoding"), max_length=10, choices=ImportEncoding.choices, blank=True
    )
    encoding_chosen = models.BooleanField(_("encoding chosen by a person"), default=False)
    applied_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.filename}"

    def get_absolute_url(self) -> str:
        return reverse("accounts:import-detail", args=[self.pk])

    @property
    def in_progress(self) -> bool:
        """The worker has the file: it waits, is checked or is being imported."""
        return self.status in (ImportStatus.QUEUED, ImportStatus.CHECKING, ImportStatus.APPLYING)

    def stalled_since(
        self, *, progressed_at: datetime.datetime | None, at: datetime.datetime
    ) -> datetime.datetime | None:
        """When the worker last reported progress on this file, if that is longer ago than
        ``IMPORT_STALL_AFTER`` while the file is in progress; None otherwise."""
        last = progressed_at or self.created_at
        if self.in_progress and last <= at - IMPORT_STALL_AFTER:
            return last
        return None


class ImportAction(models.TextChoices):
    CREATE = "create", _("new")
    UPDATE = "update", _("updated")
    UNCHANGED = "unchanged", _("unchanged")
    ERROR = "error", _("error")


class ImportRow(models.Model):
    """One row of an uploaded file as the check found it: what importing it does, its values
    as parsed (in the order of the batch's ``columns``) and its errors, kept as codes with their
    parameters (``accounts.import_messages`` says them in the reader's language). Row 0 is the
    file itself, when it cannot be read at all."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows")
    row = models.PositiveIntegerField(_("row"))
    key = models.CharField(_("registration number"), max_length=100, blank=True)
    action = models.CharField(_("result"), max_length=10, choices=ImportAction.choices)
    cells = models.JSONField(_("values"), default=list)
    changed = models.JSONField(_("changed columns"), default=list)
    errors = models.JSONField(_("errors"), default=list)

    class Meta:
        verbose_name = _("import row")
        verbose_name_plural = _("import rows")
        ordering = ["batch", "row"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "row"], name="import_row_once"),
        ]
        indexes = [models.Index(fields=["batch", "action", "row"], name="import_row_by_action")]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row}"


class ImportProgress(models.Model):
    """How far the worker is with a file, noted after every chunk; kept apart from the batch,
    whose every change the record keeps."""

    batch = models.OneToOneField(
        ImportBatch, on_delete=models.CASCADE, primary_key=True, related_name="progress"
    )
    rows_done = models.PositiveIntegerField(default=0)
    rows_expected = models.PositiveIntegerField(null=True, blank=True)
    progressed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("import progress")
        verbose_name_plural = _("import progress")

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.rows_done}"

    @property
    def percent(self) -> int | None:
        """How much of the file is done, when its length is known; never 100 before the end."""
        if not self.rows_expected:
            return None
        return min(99, round(100 * self.rows_done / self.rows_expected))
