from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import (
    AccountTeamMember,
    Client,
    ClientFigure,
    ClientNeed,
    ImportBatch,
    User,
)

admin.site.register(User, UserAdmin)


class TeamInline(admin.TabularInline):
    model = AccountTeamMember
    extra = 0
    autocomplete_fields = ["user"]


class NeedInline(admin.TabularInline):
    model = ClientNeed
    extra = 0


class FigureInline(admin.TabularInline):
    model = ClientFigure
    extra = 0


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "registration_number",
        "segment",
        "industry",
        "region",
        "owner_kam",
        "is_key",
    ]
    list_filter = ["segment", "is_key", "region", "industry"]
    search_fields = ["name", "registration_number"]
    list_select_related = ["owner_kam"]
    readonly_fields = ["is_key", "created_at", "updated_at"]
    autocomplete_fields = ["owner_kam"]
    inlines = [TeamInline, NeedInline, FigureInline]


@admin.register(ClientNeed)
class ClientNeedAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "weight"]
    search_fields = ["name", "client__name", "client__registration_number"]
    list_select_related = ["client"]
    autocomplete_fields = ["client"]


@admin.register(ClientFigure)
class ClientFigureAdmin(admin.ModelAdmin):
    list_display = [
        "client",
        "period",
        "revenue",
        "gross_margin",
        "potential_revenue",
        "share_of_wallet",
    ]
    list_filter = ["period"]
    search_fields = ["client__name", "client__registration_number"]
    list_select_related = ["client"]
    autocomplete_fields = ["client"]


@admin.register(AccountTeamMember)
class AccountTeamMemberAdmin(admin.ModelAdmin):
    list_display = ["client", "user", "role"]
    list_filter = ["role"]
    list_select_related = ["client", "user"]
    autocomplete_fields = ["client", "user"]


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = [
        "filename",
        "kind",
        "status",
        "rows_total",
        "rows_with_errors",
        "uploaded_by",
        "created_at",
    ]
    list_filter = ["kind", "status"]
    exclude = ["content"]
    readonly_fields = [
        "kind",
        "filename",
        "uploaded_by",
        "status",
        "report",
        "rows_total",
        "rows_with_errors",
        "applied_at",
    ]
