"""REST endpoints of exceptional situations: the playbook (read-only) and incidents."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import ReadsOrOwn
from governance.models import (
    Incident,
    IncidentUpdate,
    SituationType,
)
from governance.permissions import ADD_INCIDENT, VIEW_SITUATION_TYPE
from governance.shell.filters import IncidentFilter
from governance.shell.incidents import (
    incident_close,
    incident_declare,
    incident_note,
    incident_take,
    incidents_visible_to,
    may_see_incidents,
)

# The playbook and incidents -------------------------------------------------------------------


class SituationTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = SituationType
        fields = ["id", "name", "procedure", "owner", "response_hours", "is_active"]
        read_only_fields = fields


class SituationTypeViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SituationTypeSerializer
    permission_classes = [ReadsOrOwn]
    read_perms = (VIEW_SITUATION_TYPE,)
    queryset = SituationType.objects.order_by("name")


class IncidentUpdateSerializer(serializers.ModelSerializer):
    text = serializers.CharField(
        source="text_said",
        read_only=True,
        help_text='As typed; "Taken in hand." said in the request\'s language (Accept-'
        "Language) for an incident taken in hand with nothing typed.",
    )

    class Meta:
        model = IncidentUpdate
        fields = ["author", "text", "created_at"]
        read_only_fields = fields


class IncidentSerializer(serializers.ModelSerializer):
    updates = IncidentUpdateSerializer(many=True, read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "situation",
            "client",
            "declared_by",
            "owner",
            "description",
            "state",
            "declared_at",
            "respond_by",
            "taken_at",
            "closed_at",
            "resolution",
            "updates",
        ]
        read_only_fields = [
            "id",
            "declared_by",
            "owner",
            "state",
            "declared_at",
            "respond_by",
            "taken_at",
            "closed_at",
            "resolution",
            "updates",
        ]


class IncidentTakeSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, default="")


class IncidentTextSerializer(serializers.Serializer):
    """A resolution or a note: something must be said."""

    text = serializers.CharField()


class MaySeeIncidents(permissions.BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        return request.user.is_authenticated and may_see_incidents(request.user)


class IncidentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Incidents: a KAM declares one on their account with ``POST``; its owner (or the
    committee) acts with ``POST {id}/take/``, ``{id}/close/`` (``text`` is the resolution) and
    ``{id}/note/``; 409 when it moved meanwhile."""

    serializer_class = IncidentSerializer
    permission_classes = [MaySeeIncidents]
    filterset_class = IncidentFilter

    def get_queryset(self) -> QuerySet[Incident]:
        return (
            incidents_visible_to(self.request.user)
            .prefetch_related("updates")
            .order_by("-declared_at", "-pk")
        )

    def create(self, request: Request) -> Response:
        if not request.user.has_perm(ADD_INCIDENT):
            raise exceptions.PermissionDenied()
        data = IncidentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = incident_declare(
            kam=request.user,
            client_id=data.validated_data["client"].pk,
            situation=data.validated_data["situation"],
            description=data.validated_data["description"],
        )
        return Response(IncidentSerializer(incident).data, status=201)

    def _act(
        self,
        request: Request,
        step: object,
        serializer: type[serializers.Serializer] = IncidentTextSerializer,
    ) -> Response:
        incident = self.get_object()
        data = serializer(data=request.data)
        data.is_valid(raise_exception=True)
        step(incident, data.validated_data["text"])
        return Response(IncidentSerializer(self.get_queryset().get(pk=incident.pk)).data)

    @extend_schema(request=IncidentTakeSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def take(self, request: Request, pk: str | None = None) -> Response:
        return self._act(
            request,
            lambda incident, text: incident_take(incident=incident, by=request.user, text=text),
            IncidentTakeSerializer,
        )

    @extend_schema(request=IncidentTextSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        def step(incident: Incident, text: str) -> object:
            return incident_close(incident=incident, by=request.user, resolution=text)

        return self._act(request, step)

    @extend_schema(request=IncidentTextSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def note(self, request: Request, pk: str | None = None) -> Response:
        return self._act(
            request,
            lambda incident, text: incident_note(incident=incident, by=request.user, text=text),
        )
