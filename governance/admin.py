from django.contrib import admin

from governance.models import CommitteeMember, Policy, PolicyRule, PolicyStatus


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
