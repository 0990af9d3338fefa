from django.contrib import admin

from governance.models import CommitteeMember


@admin.register(CommitteeMember)
class CommitteeMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "committee_role", "is_chair", "active_from", "active_to"]
    list_filter = ["committee_role", "is_chair"]
    list_select_related = ["user"]
