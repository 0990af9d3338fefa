from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from governance.models import (
    Absence,
    Budget,
    BudgetSpend,
    CommitteeMember,
    DepartmentObligation,
    EscalationTier,
    Incident,
    IncidentUpdate,
    Kpi,
    KpiEntry,
    KpiSnapshot,
    KpiTarget,
    Mandate,
    MandateAccount,
    MandateTeamMember,
    OutgoingMail,
    Policy,
    PolicyRule,
    PolicyStatus,
    RelationshipMethod,
    SituationType,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from governance.permissions import RESEND_WEBHOOK_DELIVERY
from governance.webhooks import (
    EVENT_HEADER,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    secret_make,
    url_check,
    webhook_deliveries_resend,
    webhook_endpoints_pause,
    webhook_endpoints_resume,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by SKAM's own services: shown, never edited here."""

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(CommitteeMember)
class CommitteeMemberAdmin(ReadOnlyAdmin):
    """Seats are read here, by everyone, superusers included: they change only by the
    committee's decisions (a proposal to give a seat, end one or hand the chair), and the first
    set-up by ``manage.py committee_setup``, which records who ran it."""

    list_display = [
        "user", "committee_role", "is_chair", "active_from", "active_to", "given_by", "set_up_by",
    ]  # fmt: skip
    list_filter = ["committee_role", "is_chair"]
    list_select_related = ["user", "given_by", "set_up_by"]


class PolicyRuleInline(admin.TabularInline):
    model = PolicyRule
    extra = 0


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    """Drafts are prepared here; a draft is put in force only by the committee's vote."""

    list_display = ["number", "title", "status", "key_clients_min", "key_clients_max", "adopted_at"]
    readonly_fields = ["status", "adopted_at"]
    inlines = [PolicyRuleInline]

    def has_change_permission(self, request: object, obj: Policy | None = None) -> bool:
        if obj is not None and (obj.status != PolicyStatus.DRAFT or obj.under_vote):
            return False  # in force, superseded, or before the committee: frozen
        return super().has_change_permission(request, obj)


class ReadOnlyInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


class MandateAccountInline(ReadOnlyInline):
    model = MandateAccount


class MandateTeamInline(ReadOnlyInline):
    model = MandateTeamMember


class KpiTargetInline(ReadOnlyInline):
    model = KpiTarget


@admin.register(Mandate)
class MandateAdmin(ReadOnlyAdmin):
    """Read here: the committee drafts mandates on its drafting page
    (``governance:mandate-drafts``), and only its vote puts one in force."""

    list_display = ["kam", "title", "status", "valid_from", "valid_to"]
    list_filter = ["status"]
    inlines = [MandateAccountInline, MandateTeamInline, KpiTargetInline]


admin.site.register(RelationshipMethod)


@admin.register(EscalationTier)
class EscalationTierAdmin(ReadOnlyAdmin):
    """Who decides an exception past a KAM's limits, by the deal's value: the escalation rule
    of every mandate. Read here by everyone, superusers included: moving a tier's bound or its
    approver decides who decides, which is the committee's, not the administrator's."""

    list_display = ["order", "up_to_deal_value", "approver"]


class BudgetSpendInline(admin.TabularInline):
    model = BudgetSpend
    extra = 0
    can_delete = False
    readonly_fields = [
        "amount", "category", "spent_on", "description", "exception", "recorded_by", "recorded_at",
    ]  # fmt: skip

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False  # the KAM records spending on My mandate, through its checks


@admin.register(Budget)
class BudgetAdmin(ReadOnlyAdmin):
    """The committee's allocations, made on the budgets page or the API (``budget_allocate``:
    key clients only, never below what is spent, never by who works the client); read here."""

    list_display = ["client", "period", "allocated"]
    list_filter = ["period"]
    inlines = [BudgetSpendInline]


@admin.register(DepartmentObligation)
class DepartmentObligationAdmin(admin.ModelAdmin):
    list_display = ["department", "title", "owner", "response_hours"]
    list_filter = ["department"]


@admin.register(Absence)
class AbsenceAdmin(ReadOnlyAdmin):
    """A member records and ends their own absence on the absences page; nobody does it for
    them, here or anywhere."""

    list_display = ["user", "starts_on", "ends_on", "deputy"]
    list_select_related = ["user", "deputy"]


@admin.register(SituationType)
class SituationTypeAdmin(admin.ModelAdmin):
    """The playbook of exceptional situations, kept by the committee."""

    list_display = ["name", "owner", "response_hours", "is_active"]
    list_filter = ["is_active"]


class IncidentUpdateInline(admin.TabularInline):
    model = IncidentUpdate
    extra = 0
    can_delete = False
    readonly_fields = ["author", "text", "created_at"]

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False  # steps are recorded on the incident's page, through its checks


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    """Incidents are declared, taken and closed on their pages and the API, through the
    services' checks (the owner or the committee handles, never who declared); read here."""

    list_display = ["situation", "client", "declared_by", "owner", "state", "respond_by"]
    list_filter = ["state", "situation"]
    list_select_related = ["situation", "client", "declared_by", "owner"]
    inlines = [IncidentUpdateInline]


@admin.register(Kpi)
class KpiAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "unit", "direction", "source", "watch_band_percent"]
    list_filter = ["source", "unit"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(KpiEntry)
class KpiEntryAdmin(ReadOnlyAdmin):
    list_display = ["kpi", "period", "kam", "client", "value", "entered_by", "entered_at"]
    list_filter = ["kpi", "period"]
    list_select_related = ["kpi", "kam", "client", "entered_by"]


@admin.register(KpiSnapshot)
class KpiSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["kpi", "period", "scope_key", "value", "computed_at"]
    list_filter = ["scope", "period", "kpi"]
    list_select_related = ["kpi"]


@admin.register(OutgoingMail)
class OutgoingMailAdmin(ReadOnlyAdmin):
    """The outbox, read-only: what was sent, what waits for its next attempt and why, and
    what was given up. Letters are written by the events and sent by the worker alone."""

    list_display = ["queued_at", "to", "subject", "state", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["state"]
    search_fields = ["to", "subject", "key"]
    date_hierarchy = "queued_at"
    readonly_fields = [field.name for field in OutgoingMail._meta.fields]


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        label=pgettext_lazy("webhooks", "URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Only this address is posted to: no redirect."),
    )
    events = forms.MultipleChoiceField(
        label=pgettext_lazy("webhooks", "events"),
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "events"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        url_check(url)
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Where SKAM posts its events: the administrator's alone (``accounts.roles``). The secret
    is made by SKAM and shown once, on the page that answers the registration; never again."""

    form = WebhookEndpointForm
    list_display = ["name", "url", "state", "consecutive_failures", "paused_at", "created_at"]
    list_filter = ["state"]
    readonly_fields = ["state", "consecutive_failures", "paused_at", "created_at", "created_by"]
    actions = ["pause", "resume"]

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: forms.ModelForm, change: bool
    ) -> None:
        if not change:
            obj.secret = secret_make()
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def response_add(
        self, request: HttpRequest, obj: WebhookEndpoint, post_url_continue: str | None = None
    ) -> HttpResponse:
        """The one page that shows the secret: rendered in answer to the registration, not
        kept in a message or a session."""
        response = TemplateResponse(
            request,
            "admin/governance/webhookendpoint/secret.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Webhook endpoint registered"),
                "opts": self.model._meta,
                "endpoint": obj,
                "headers": [EVENT_HEADER, EVENT_ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER],
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Pause the selected endpoints"), permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        paused = webhook_endpoints_pause(endpoints=queryset)
        self.message_user(
            request,
            ngettext("%(count)d endpoint paused.", "%(count)d endpoints paused.", paused)
            % {"count": paused},
            messages.SUCCESS,
        )

    @admin.action(description=_("Resume the selected endpoints"), permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        resumed = webhook_endpoints_resume(endpoints=queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d endpoint resumed: what waited is sent now.",
                "%(count)d endpoints resumed: what waited is sent now.",
                resumed,
            )
            % {"count": resumed},
            messages.SUCCESS,
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log, read-only: what was delivered, what waits for its next attempt and
    why, what was given up; a delivery is resent from here, with the same event id."""

    list_display = [
        "queued_at", "endpoint", "event_type", "event_id", "state", "attempts",
        "last_status_code", "last_attempt_at", "next_attempt_at", "delivered_at",
    ]  # fmt: skip
    list_filter = ["state", "endpoint", "event__type"]
    list_select_related = ["endpoint", "event"]
    search_fields = ["event__id"]
    date_hierarchy = "queued_at"
    readonly_fields = [
        *(field.name for field in WebhookDelivery._meta.fields),
        "event_type",
        "payload",
    ]
    actions = ["resend"]

    @admin.display(description=pgettext_lazy("webhooks", "event"), ordering="event__type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.display(description=pgettext_lazy("webhooks", "payload"))
    def payload(self, obj: WebhookDelivery) -> object:
        return obj.event.payload

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RESEND_WEBHOOK_DELIVERY)

    @admin.action(description=_("Resend the selected deliveries"), permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        resent = webhook_deliveries_resend(deliveries=queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be sent again.",
                "%(count)d deliveries will be sent again.",
                resent,
            )
            % {"count": resent},
            messages.SUCCESS,
        )
