"""The outbox: every e-mail SKAM sends, written as a row in the transaction of the event that
caused it, then delivered by the worker (``governance.mail``)."""

from __future__ import annotations

import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MailState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    GAVE_UP = "gave_up", _("Gave up")


class OutgoingMail(models.Model):
    """One letter to one address. ``key`` names the event and the recipient: the same letter
    queued twice is stored once, and it is the Message-ID the server and the reader see.
    It is sent when ``next_attempt_at`` comes and marked sent only once the server took it."""

    key = models.CharField(_("idempotency key"), max_length=320, unique=True)
    to = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    # Files sent with the letter (an invitation's .ics): [{filename, content (base64), mimetype}].
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    state = models.CharField(
        _("state"), max_length=8, choices=MailState.choices, default=MailState.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    queued_at = models.DateTimeField(_("queued"), default=timezone.now)
    # Also the claim of a delivery in progress: it is moved a few minutes on while a worker
    # sends, so that no other takes the row; a worker killed mid-send leaves it due again then.
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mail")
        ordering = ["-queued_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="queued"),
                name="outgoing_mail_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"

    def is_due(self, *, at: datetime.datetime) -> bool:
        return self.state == MailState.QUEUED and self.next_attempt_at <= at
