"""The committee's meetings: agendas, attendance, and the register of members' interests."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


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
        "Proposal",
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
        "Decision",
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
