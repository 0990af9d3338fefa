"""REST endpoints for the register. Querysets come from the selectors, so a KAM's API shows
exactly what their pages show; writes need the model permission of the user's role."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Model, ProtectedError, QuerySet, RestrictedError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.fields import get_error_detail
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.choices import filter_choices_sync
from accounts.filtering import StrictFilterBackend
from accounts.filters import ClientFigureFilter, ClientFilter, ClientNeedFilter
from accounts.models import AccountTeamMember, Client, ClientFigure, ClientNeed
from accounts.money import CurrencyField
from accounts.needs import needs_recorded
from accounts.pagination import KeysetPagination
from accounts.refusals import STATE, ChangedMeanwhile
from accounts.selectors import clients_visible_to, figures_visible_to, kams, needs_visible_to


class RolePermissions(permissions.DjangoModelPermissions):
    """Django model permissions, reads included: a role without ``view_*`` sees nothing."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


class AccountTeamMemberSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.__str__", read_only=True)

    class Meta:
        model = AccountTeamMember
        fields = ["user", "user_name", "role"]


class ClientSerializer(serializers.ModelSerializer):
    owner_kam = serializers.PrimaryKeyRelatedField(queryset=kams(), allow_null=True, required=False)
    owner_kam_name = serializers.SerializerMethodField()
    team = AccountTeamMemberSerializer(source="team_members", many=True, read_only=True)

    class Meta:
        model = Client
        fields = [
            "id",
            "name",
            "registration_number",
            "segment",
            "industry",
            "region",
            "owner_kam",
            "owner_kam_name",
            "team",
            "is_key",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["is_key", "created_at", "updated_at"]

    def get_owner_kam_name(self, client: Client) -> str | None:
        return str(client.owner_kam) if client.owner_kam_id else None


class VisibleClientField(serializers.PrimaryKeyRelatedField):
    """A client reference limited to the clients the requesting user may see. Another KAM's
    client is refused with the same message as one that does not exist."""

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": _(
            "Client {pk_value} does not exist or is not one of the accounts you may work on."
        ),
    }

    def get_queryset(self) -> QuerySet[Client]:
        return clients_visible_to(self.context["request"].user)


class ClientNeedSerializer(serializers.ModelSerializer):
    client = VisibleClientField()

    class Meta:
        model = ClientNeed
        fields = ["id", "client", "name", "description", "weight"]
        validators = [
            serializers.UniqueTogetherValidator(
                queryset=ClientNeed.objects.all(),
                fields=["client", "name"],
                message="This client already has a need with this name.",
            )
        ]


class ClientFigureSerializer(serializers.ModelSerializer):
    client = VisibleClientField()
    period_label = serializers.CharField(read_only=True)
    # No digit limit: a tiny revenue against a large margin gives a huge percentage, which must
    # be shown, not fail the whole list. No revenue, no percentage: null.
    margin_percent = serializers.DecimalField(
        max_digits=None, decimal_places=1, read_only=True, allow_null=True
    )

    currency = CurrencyField(amounts="revenue, gross_margin and potential_revenue")

    class Meta:
        model = ClientFigure
        fields = [
            "id",
            "client",
            "period",
            "period_label",
            "revenue",
            "gross_margin",
            "margin_percent",
            "potential_revenue",
            "currency",
            "share_of_wallet",
        ]
        validators = [
            serializers.UniqueTogetherValidator(
                queryset=ClientFigure.objects.all(),
                fields=["client", "period"],
                message="This client already has figures for this quarter.",
            )
        ]


class ClientViewSet(viewsets.ModelViewSet):
    serializer_class = ClientSerializer
    permission_classes = [RolePermissions]
    # By cursor along the list's ordering: a deep page costs what the first does.
    pagination_class = KeysetPagination
    # The register's own filter set (search ``q``, filters, ``ordering``), as on the list page.
    filter_backends = [StrictFilterBackend]
    filterset_class = ClientFilter

    # Every write keeps the filter's industries and regions (``accounts.choices``) up to date.
    def perform_create(self, serializer: ClientSerializer) -> None:
        with transaction.atomic():
            client = serializer.save()
            filter_choices_sync(industries=[client.industry], regions=[client.region])

    def perform_update(self, serializer: ClientSerializer) -> None:
        before = serializer.instance.industry, serializer.instance.region
        with transaction.atomic():
            client = serializer.save()
            filter_choices_sync(
                industries=[before[0], client.industry], regions=[before[1], client.region]
            )

    def perform_destroy(self, instance: Client) -> None:
        with transaction.atomic():
            instance.delete()
            filter_choices_sync(industries=[instance.industry], regions=[instance.region])

    def get_queryset(self) -> QuerySet[Client]:
        return (
            clients_visible_to(self.request.user)
            .select_related("owner_kam")
            .prefetch_related("team_members__user")
            .order_by("name", "pk")
        )


class ClientNeedViewSet(viewsets.ModelViewSet):
    serializer_class = ClientNeedSerializer
    permission_classes = [RolePermissions]
    filterset_class = ClientNeedFilter
    search_fields = ["name"]
    ordering_fields = ["weight", "name"]

    def get_queryset(self) -> QuerySet[ClientNeed]:
        return needs_visible_to(self.request.user).order_by("client_id", "-weight", "name", "pk")

    # Every write is recorded with its author: the needs feed the ruler.
    def perform_create(self, serializer: serializers.Serializer) -> None:
        with needs_recorded(
            client_ids=[serializer.validated_data["client"].pk], by=self.request.user
        ):
            serializer.save()

    def perform_update(self, serializer: serializers.Serializer) -> None:
        client_ids = [serializer.instance.client_id]
        if "client" in serializer.validated_data:
            client_ids.append(serializer.validated_data["client"].pk)
        with needs_recorded(client_ids=client_ids, by=self.request.user):
            serializer.save()

    def perform_destroy(self, instance: ClientNeed) -> None:
        with needs_recorded(client_ids=[instance.client_id], by=self.request.user):
            instance.delete()


class ClientFigureViewSet(viewsets.ModelViewSet):
    serializer_class = ClientFigureSerializer
    permission_classes = [RolePermissions]
    filterset_class = ClientFigureFilter
    ordering_fields = ["period", "revenue"]

    def get_queryset(self) -> QuerySet[ClientFigure]:
        return figures_visible_to(self.request.user).order_by("client_id", "-period", "pk")


class ReadsOrOwn(permissions.BasePermission):
    """Every call needs the model's ``view`` permission or the KAM's own-mandate permission
    (the queryset then narrows to their own); a write also needs what its action names."""

    def has_permission(self, request: Request, view: object) -> bool:
        user = request.user
        if not user.is_authenticated:
            return False
        if not any(user.has_perm(perm) for perm in view.read_perms):
            return False
        needed = getattr(view, "write_perms", {}).get(view.action)
        return needed is None or user.has_perm(needed)


class Conflict(exceptions.APIException):
    """A 409, with a machine code beside the reason (``code``): ``state`` (its state forbids
    this, or it changed meanwhile), ``unique`` (one like it exists already), ``history`` (it
    has a history that must stay)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = STATE


def _history(rows: Iterable[Model]) -> str:
    kinds = sorted({str(row._meta.verbose_name_plural) for row in rows})
    return _("It has a history that must stay (%(kinds)s): it cannot be deleted.") % {
        "kinds": ", ".join(kinds)
    }


# The codes of a rule's reasons that say how things stand, not what was sent: a refusal made
# only of them is a 409. ``unique`` is DRF's and Django's for a value another row holds.
CONFLICT_CODES = (STATE, "unique")
# The code of a reference to a row that is not there for this person.
MISSING = "does_not_exist"
# Where the reasons of no one field are kept: DRF's, Django's, and this handler's own.
NO_FIELD = {"non_field_errors", NON_FIELD_ERRORS, "detail"}


def exception_handler(exc: Exception, context: dict[str, object]) -> Response | None:
    """The API's answer to every refusal of the domain (``accounts.refusals``): a change made
    meanwhile is a 409, and so is a well-formed request that the state of things refuses (a
    rule's reasons all coded ``state``: a client that is not key, a budget spent already), one
    that repeats what exists (all coded ``unique``: a registration number taken), and deleting
    what has a history that must stay (a client with proposals, a user with votes); each 409
    names its kind in ``code``. A rule broken by what was sent is a 400 with the reasons by
    field, except a request whose only fault is naming rows that are not there for this person
    (another KAM's client, an id that does not exist), a 404 that says which;
    ``NotAllowed`` and ``NotYours`` are Django's 403 and 404, which DRF answers with their
    message."""
    if isinstance(exc, ChangedMeanwhile):
        exc = Conflict(str(exc), code=STATE)
    elif isinstance(exc, ProtectedError):
        exc = Conflict(_history(exc.protected_objects), code="history")
    elif isinstance(exc, RestrictedError):
        exc = Conflict(_history(exc.restricted_objects), code="history")
    elif isinstance(exc, DjangoValidationError):
        detail = get_error_detail(exc)
        exc = serializers.ValidationError(
            detail if isinstance(detail, dict) else {"detail": detail}
        )
    if isinstance(exc, serializers.ValidationError):
        codes = exc.get_codes()
        reasons = " ".join(_messages(exc.detail))
        if _only(codes, CONFLICT_CODES):
            exc = Conflict(reasons, code="unique" if _only(codes, ("unique",)) else STATE)
        elif _only(codes, (MISSING, *CONFLICT_CODES)):
            # Rows that are not there, maybe beside a conflict: the missing rows first.
            exc = exceptions.NotFound(reasons)
    response = drf_exception_handler(exc, context)
    if isinstance(exc, Conflict) and response is not None:
        response.data["code"] = exc.get_codes()
    return response


def _only(codes: object, kinds: tuple[str, ...]) -> bool:
    """Whether every reason's code is one of ``kinds``."""
    if isinstance(codes, dict):
        return bool(codes) and all(_only(code, kinds) for code in codes.values())
    if isinstance(codes, list):
        return bool(codes) and all(_only(code, kinds) for code in codes)
    return codes in kinds


def _messages(detail: object, name: str = "") -> list[str]:
    """Each reason, after the field it is about ("client: …"); those of no one field alone."""
    if isinstance(detail, dict):
        return [
            message
            for key, value in detail.items()
            for message in _messages(
                value,
                name if key in NO_FIELD else (f"{name}.{key}" if name else str(key)),
            )
        ]
    if isinstance(detail, list):
        return [message for value in detail for message in _messages(value, name)]
    return [f"{name}: {detail}" if name else str(detail)]
