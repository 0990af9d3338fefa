from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import ModelMultipleChoiceField
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from accounts.models import (
    AccountTeamMember,
    Client,
    ClientFigure,
    ClientNeed,
    ImportBatch,
    User,
)
from accounts.needs import needs_recorded
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

    def save_related(
        self, request: HttpRequest, form: object, formsets: object, change: bool
    ) -> None:
        """The needs edited inline are recorded as any change of needs is."""
        with needs_recorded(client_ids=[form.instance.pk], by=request.user):
            super().save_related(request, form, formsets, change)


@admin.register(ClientNeed)
class ClientNeedAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "weight"]
    search_fields = ["name", "client__name", "client__registration_number"]
    list_select_related = ["client"]
    autocomplete_fields = ["client"]

    # Every change of needs is recorded with its author, here as on the page and in the API.
    def save_model(self, request: HttpRequest, obj: ClientNeed, form: object, change: bool) -> None:
        client_ids = [obj.client_id, *([form.initial.get("client")] if change else [])]
        with needs_recorded(client_ids=client_ids, by=request.user):
            super().save_model(request, obj, form, change)

    def delete_model(self, request: HttpRequest, obj: ClientNeed) -> None:
        with needs_recorded(client_ids=[obj.client_id], by=request.user):
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ClientNeed]) -> None:
        with needs_recorded(
            client_ids=queryset.values_list("client_id", flat=True), by=request.user
        ):
            super().delete_queryset(request, queryset)


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
