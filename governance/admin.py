from django.contrib import admin

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
admin.site.register(EscalationTier)


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
