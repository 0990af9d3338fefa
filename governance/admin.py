from django.contrib import admin

from governance.models import (
    Budget,
    BudgetSpend,
    CommitteeMember,
    DepartmentObligation,
    EscalationTier,
    Mandate,
    MandateAccount,
    MandateStatus,
    MandateTeamMember,
    Policy,
    PolicyRule,
    PolicyStatus,
    RelationshipMethod,
)


@admin.register(CommitteeMember)
class CommitteeMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "committee_role", "is_chair", "active_from", "active_to"]
    list_filter = ["committee_role", "is_chair"]
    list_select_related = ["user"]


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
        if obj is not None and obj.status != PolicyStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)


class MandateAccountInline(admin.TabularInline):
    model = MandateAccount
    extra = 0
    autocomplete_fields = ["client"]


class MandateTeamInline(admin.TabularInline):
    model = MandateTeamMember
    extra = 0


@admin.register(Mandate)
class MandateAdmin(admin.ModelAdmin):
    """Drafts are prepared here; a draft is put in force only by the committee's vote."""

    list_display = ["kam", "title", "status", "valid_from", "valid_to"]
    list_filter = ["status"]
    readonly_fields = ["status", "adopted_at"]
    filter_horizontal = ["methods"]
    inlines = [MandateAccountInline, MandateTeamInline]

    def has_change_permission(self, request: object, obj: Mandate | None = None) -> bool:
        if obj is not None and obj.status != MandateStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)


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
class BudgetAdmin(admin.ModelAdmin):
    """The committee's allocations, recorded by the administrator."""

    list_display = ["client", "period", "allocated"]
    list_filter = ["period"]
    autocomplete_fields = ["client"]
    inlines = [BudgetSpendInline]


@admin.register(DepartmentObligation)
class DepartmentObligationAdmin(admin.ModelAdmin):
    list_display = ["department", "title", "owner", "response_hours"]
    list_filter = ["department"]
