"""The record: every change of the governed tables, append-only and hash-chained.

Rows are written by PostgreSQL's own triggers (``governance/record/install.py``), never by the
ORM; the table refuses UPDATE and DELETE. Each entry's ``hash`` is SHA-256 over the previous
entry's hash and the entry itself, so an entry edited, removed or slipped in breaks the chain
that ``manage.py audit_verify`` walks.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RecordOperation(models.TextChoices):
    # In context: "Created" alone is also a token's date on My account, another word in Russian.
    INSERT = "I", pgettext_lazy("record operation", "Created")
    UPDATE = "U", pgettext_lazy("record operation", "Changed")
    DELETE = "D", pgettext_lazy("record operation", "Deleted")
    SNAPSHOT = "S", _("As found when recording began")


class RecordPath(models.TextChoices):
    PAGE = "page", _("Page")
    API = "api", _("API")
    ADMIN = "admin", _("Django admin")
    COMMAND = "command", _("Management command")
    WORKER = "worker", _("Background task")
    # The company's identity provider, at a sign-in: the person and their roles it gives.
    SSO = "sso", _("Single sign-on")
    SYSTEM = "system", _("Other")


class RecordEntry(models.Model):
    """One change of one governed row: what it was, what it became, who, when, and how."""

    at = models.DateTimeField(_("when"))
    table_name = models.CharField(_("table"), max_length=100)
    row_pk = models.CharField(_("row"), max_length=40)
    operation = models.CharField(_("operation"), max_length=1, choices=RecordOperation.choices)
    before = models.JSONField(_("before"), null=True)
    after = models.JSONField(_("after"), null=True)
    # No constraint: the record outlives everything it names, and a check per entry costs.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    path = models.CharField(_("through"), max_length=10, choices=RecordPath.choices)
    origin = models.CharField(_("where"), max_length=200, blank=True)
    request_id = models.CharField(_("request"), max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("record entry")
        verbose_name_plural = _("record entries")
        ordering = ["-pk"]
        default_permissions = ["view"]
        indexes = [
            models.Index(fields=["table_name", "row_pk", "id"], name="record_object"),
            models.Index(fields=["actor", "id"], name="record_actor"),
            models.Index(fields=["at"], name="record_at"),
        ]

    def __str__(self) -> str:
        return f"{self.table_name}#{self.row_pk} {self.get_operation_display()}"

    def changes(self) -> list[tuple[str, object, object]]:
        """What changed, column by column: every column of a row created or found, every
        column of a row deleted, the columns that differ in a row changed."""
        before, after = self.before or {}, self.after or {}
        columns = list(after) + [column for column in before if column not in after]
        return [
            (column, before.get(column), after.get(column))
            for column in columns
            if self.operation != RecordOperation.UPDATE or before.get(column) != after.get(column)
        ]
