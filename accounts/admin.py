from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import ModelMultipleChoiceField
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.account import password_link_send
from accounts.choices import filter_choices_sync
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
from accounts.tokens import tokens_revoke


class PersonAddForm(forms.ModelForm):
    """A newcomer: who they are and the address their first password link goes to. Nobody
    sets a password for them: they are added with none that works and set it themselves."""

    class Meta:
        model = User
        fields = ("username", "first_name", "last_name", "email")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].help_text = _(
            "They choose their password themselves, through the link SKAM sends to this address."
        )

    def save(self, commit: bool = True) -> User:
        person = super().save(commit=False)
        person.set_unusable_password()
        if commit:
            person.save()
        return person


@admin.register(User)
class PeopleAdmin(UserAdmin):
    """The administrator keeps people: their names, whether they may sign in, and their roles
    below the committee. What would let anyone become someone else is offered to nobody here,
    superusers included: superuser or staff status, a user's own permissions, a committee role
    (seats are the committee's decision), anyone's password (a newcomer is added with none and
    sets it through the e-mailed link; only its owner changes it), and the address that link
    goes to once its owner has a password. Nobody changes their own roles or active flag, a
    committee member or a superuser."""

    add_form = PersonAddForm
    add_fieldsets = ((None, {"fields": ("username", "first_name", "last_name", "email")}),)
    fieldsets = (
        (None, {"fields": ("username",)}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email", "language")}),
        (_("Access"), {"fields": ("is_active", "groups", "sso_issuer", "sso_subject")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    # Set by the first sign-in through the company's provider (accounts/sso.py), by nobody here.
    readonly_fields = ("last_login", "date_joined", "sso_issuer", "sso_subject")
    list_display = ("username", "first_name", "last_name", "email", "is_active")
    list_filter = ("is_active", "groups")
    filter_horizontal = ("groups",)
    actions = ["send_password_link"]

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple:
        fields: tuple[str, ...] = self.readonly_fields
        if obj is not None and obj.has_usable_password():
            # Whoever chose the address the link goes to could choose the password.
            fields = (*fields, "email")
        if obj is not None and obj.pk == request.user.pk:
            fields = (*fields, "is_active", "groups")
        return fields

    def save_model(self, request: HttpRequest, obj: User, form: forms.Form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            tokens_revoke(user=obj)  # signed out everywhere: sessions by Django, tokens here

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and _above_administrator(obj):
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
        """The roles below the committee: a seat is nobody's to give here."""
        if db_field.name == "groups":
            kwargs["queryset"] = Group.objects.exclude(name__in=COMMITTEE_ROLES).order_by("name")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.action(description=_("Send them a link to set their password"))
    def send_password_link(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """The same letter as "Forgot your password?" on the sign-in page, to each one's own
        address: the administrator starts it and never sees the link."""
        sent = 0
        for person in queryset.filter(is_active=True, sso_subject="").exclude(email=""):
            password_link_send(person=person)
            sent += 1
        self.message_user(
            request,
            ngettext(
                "A link to set their password went to %(count)d person.",
                "A link to set their password went to %(count)d people.",
                sent,
            )
            % {"count": sent},
            messages.SUCCESS,
        )


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(GroupAdmin):
    """The roles and what each may do are code (accounts/roles.py, granted at every migrate):
    read here, changed by nobody, or a role could be widened into another."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return False


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
        "columns",
        "rows_total",
        "rows_with_errors",
        "applied_at",
    ]
