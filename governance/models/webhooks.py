"""Webhooks: the endpoints an administrator registers, the events SKAM tells them of, and one
delivery per event and endpoint, written in the event's transaction and sent by the worker
(``governance.webhooks``), as the outbox sends e-mail."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class WebhookEventType(models.TextChoices):
    """What an endpoint may ask to be told of; the value is the event's name on the wire."""

    DECISION_ADOPTED = "decision.adopted", _("A decision adopted")
    KEY_STATUS_CHANGED = "client.key_status_changed", _("A client's key status changed")
    MANDATE_IN_FORCE = "mandate.in_force", _("A mandate put in force")
    MANDATE_ENDED = "mandate.ended", _("A mandate ended")
    EXCEPTION_REQUESTED = "exception.requested", _("An exception requested")
    EXCEPTION_DECIDED = "exception.decided", _("An exception decided")
    BUDGET_ALLOCATED = "budget.allocated", _("A budget allocated")
    KPI_SNAPSHOT_TAKEN = "kpi.snapshot_taken", _("A KPI snapshot taken")


class EndpointState(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("webhooks", "Active")
    PAUSED = "paused", pgettext_lazy("webhooks", "Paused")


class WebhookEndpoint(models.Model):
    """Where SKAM posts the events an administrator chose. The secret signs every delivery:
    SKAM makes it and shows it once, when the endpoint is registered (and again only when it is
    replaced); it is kept as it is, since signing needs it."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(
        pgettext_lazy("webhooks", "URL"),
        max_length=500,
        help_text=_("Only this address is posted to: no redirect."),
    )
    secret = models.CharField(pgettext_lazy("webhooks", "secret"), max_length=100, editable=False)
    events = models.JSONField(pgettext_lazy("webhooks", "events"), default=list)
    state = models.CharField(
        _("state"), max_length=8, choices=EndpointState.choices, default=EndpointState.ACTIVE
    )
    # Failed tries in a row, of any of its deliveries; a success sets it back to 0. At
    # ``SKAM_WEBHOOK_PAUSE_AFTER`` the endpoint is paused and the administrators told.
    consecutive_failures = models.PositiveIntegerField(
        pgettext_lazy("webhooks", "failures in a row"), default=0
    )
    paused_at = models.DateTimeField(pgettext_lazy("webhooks", "paused"), null=True, blank=True)
    created_at = models.DateTimeField(
        pgettext_lazy("webhooks", "registered"), default=timezone.now, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("webhooks", "registered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return event_type in self.events


class WebhookEvent(models.Model):
    """Something that happened, as the endpoints are told of it: codes and ids, never prose.
    Its id is the one a receiver deduplicates on: every delivery and resend of it carries it."""

    id = models.UUIDField(
        pgettext_lazy("webhooks", "event id"), primary_key=True, default=uuid.uuid4, editable=False
    )
    type = models.CharField(
        pgettext_lazy("webhooks", "event"), max_length=40, choices=WebhookEventType.choices
    )
    payload = models.JSONField(pgettext_lazy("webhooks", "payload"), encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(pgettext_lazy("webhooks", "happened"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class DeliveryState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    DELIVERED = "delivered", pgettext_lazy("webhooks", "Delivered")
    GAVE_UP = "gave_up", _("Gave up")


class WebhookDelivery(models.Model):
    """One event to one endpoint: sent when ``next_attempt_at`` comes, marked delivered once the
    endpoint answered 2xx. The delivery log the administrator reads, and resends from."""

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=pgettext_lazy("webhooks", "endpoint"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event = models.ForeignKey(
        WebhookEvent,
        verbose_name=pgettext_lazy("webhooks", "event"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    state = models.CharField(
        _("state"), max_length=9, choices=DeliveryState.choices, default=DeliveryState.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    queued_at = models.DateTimeField(_("queued"), default=timezone.now)
    # Also the claim of a delivery in progress, as in the mail outbox.
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_attempt_at = models.DateTimeField(
        pgettext_lazy("webhooks", "last attempt"), null=True, blank=True
    )
    last_status_code = models.PositiveSmallIntegerField(
        pgettext_lazy("webhooks", "response code"), null=True, blank=True
    )
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(
        pgettext_lazy("webhooks", "delivered"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-queued_at", "-pk"]
        permissions = [("resend_webhookdelivery", _("Can resend a webhook delivery"))]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="one_delivery_per_endpoint")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="queued"),
                name="webhook_delivery_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}"
