from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import ModelMultipleChoiceField
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from accounts.choices import filter_choices_sync
from accounts.models import (
    AccountTeamMember,
    Client,
    ClientFigure,
    ClientNeed,
    ImportBatch,
    User,
)
from accounts.roles import COMMITTEE_ROLES


@admin.register(User)
class PeopleAdmin(UserAdmin):
    """The administrator keeps people: their names, e-mail, whether they may sign in, and their
    roles. What would let anyone become someone else is not offered to anybody here: superuser
    status, staff status and a user's own permissions (``createsuperuser`` makes the first
    administrator), and an existing user's password (only its owner changes it). Nobody changes
    their own roles or active flag; only a superuser gives a committee role, or changes a
    superuser or a committee member."""

    fieldsets = (
        (None, {"fields": ("username",)}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Access"), {"fields": ("is_active", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("last_login", "date_joined")
    list_display = ("username", "first_name", "last_name", "email", "is_active")
    list_filter = ("is_active", "groups")
    filter_horizontal = ("groups",)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple:
        if obj is not None and obj.pk == request.user.pk:
            return (*self.readonly_fields, "is_active", "groups")
        return self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and not request.user.is_superuser and _above_administrator(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        """People are deactivated, never deleted: their votes, decisions and requests stay."""
        return False

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        raise PermissionDenied

    def formfield_for_manytomany(
        self, db_field: object, request: HttpRequest, **kwargs: object
    ) -> ModelMultipleChoiceField:
        """The roles below the committee: a seat is not the administrator's to give."""
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.exclude(name__in=COMMITTEE_ROLES).order_by("name")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")


def _above_administrator(user: User) -> bool:
    """A superuser, or someone holding a committee seat's role."""
    return user.is_superuser or any(group.name in COMMITTEE_ROLES for group in user.groups.all())


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

    # Every write keeps the filter's industries and regions (``accounts.choices``) up to date.
    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        filter_choices_sync(
            industries=[form.initial.get("industry", ""), obj.industry],
            regions=[form.initial.get("region", ""), obj.region],
        )

    def delete_model(self, request: HttpRequest, obj: Client) -> None:
        super().delete_model(request, obj)
        filter_choices_sync(industries=[obj.industry], regions=[obj.region])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        values = list(queryset.values_list("industry", "region"))
        super().delete_queryset(request, queryset)
        filter_choices_sync(
            industries=[industry for industry, _region in values],
            regions=[region for _industry, region in values],
        )


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
