"""The committee's meetings: agendas, attendance, and the register of members' interests."""

import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Meeting(models.Model):
    """A sitting of the committee: its agenda, who attended, and the minutes drawn from both."""

    held_on = models.DateField(_("date"))
    # When on that day it starts, in the company's time zone; none for a meeting whose hour is
    # not set yet (the calendar then shows the whole day).
    starts_at = models.TimeField(_("time"), null=True, blank=True)
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

    def starts(self) -> datetime.date | datetime.datetime:
        """The moment it starts, aware in the company's time zone; the day alone when its
        hour is not set."""
        if self.starts_at is None:
            return self.held_on
        return timezone.make_aware(datetime.datetime.combine(self.held_on, self.starts_at))


class AgendaKind(models.TextChoices):
    PROPOSAL = "proposal", _("Proposal")
    REVIEW_ITEM = "review_item", _("Client for review")
    DECISION_REVIEW = "decision_review", _("Decision due for review")
    FREE_TEXT = "free_text", _("Other business")


class AgendaItem(models.Model):
    """One point of a meeting's agenda. It points at what the committee looks at — a proposal,
    a client the ruler flagged, a decision due for review — or is free text; the database
    holds the kind and the link together, and lets each thing onto an agenda once."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="agenda"
    )
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

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="attendance"
    )
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


class BoardPackKind(models.TextChoices):
    PACK = "pack", _("Board pack")
    MINUTES = "minutes", _("Minutes")


class BoardPackState(models.TextChoices):
    QUEUED = "queued", _("Waiting for the worker")
    RUNNING = "running", _("Being drawn up")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class BoardPack(models.Model):
    """A meeting's board pack or minutes as a PDF in one language, drawn up by the worker and
    kept with the meeting. Asking again draws it up anew, over the same row and file name."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="packs")
    kind = models.CharField(_("kind"), max_length=10, choices=BoardPackKind.choices)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    state = models.CharField(
        _("state"), max_length=10, choices=BoardPackState.choices, default=BoardPackState.QUEUED
    )
    file = models.FileField(_("file"), upload_to="board-packs/", blank=True)
    pages = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked for by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("asked for"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # The exception's class name when drawing up failed: what the worker's log is searched for.
    error = models.CharField(_("error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("board pack")
        verbose_name_plural = _("board packs")
        ordering = ["meeting", "kind", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "kind", "language"], name="one_pack_per_meeting_kind_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.meeting}: {self.get_kind_display()} ({self.language})"

    @property
    def in_progress(self) -> bool:
        return self.state in (BoardPackState.QUEUED, BoardPackState.RUNNING)

    def filename(self) -> str:
        """The name it is downloaded under: ``skam-2026-12-03-pack-en.pdf``."""
        return f"skam-{self.meeting.held_on:%Y-%m-%d}-{self.kind}-{self.language}.pdf"
