"""The ruler: the company's USPs (more of it — coverage, ruler versions, evaluations — follows)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
