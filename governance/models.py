"""The strategic committee and the management shell it draws (more follows with its issues)."""

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
