"""REST endpoints of the committee. The contract integrators rely on:

* ``GET /api/proposals/?state=open``;
* ``GET /api/proposals/{id}/`` with ``state`` and ``tally`` as ``{"for": n, "against": n,
  "abstain": n}``;
* ``POST /api/proposals/{id}/vote/`` with ``{"choice": "for"|"against"|"abstain",
  "comment": "…"}`` casts or changes the caller's vote: 403 for a non-member or a recused
  member, 409 once the vote has closed.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import RolePermissions
from accounts.needs import need_changes_since
from governance.committee.filters import DecisionFilter, ProposalFilter
from governance.committee.proposals import (
    decisions_visible_to,
    proposals_visible_to,
    proposals_with_tally,
    tally_of,
    vote_cast,
)
from governance.models import CommitteeRole, Decision, Proposal, VoteChoice


class ProposalSerializer(serializers.ModelSerializer):
    tally = serializers.SerializerMethodField()
    # None for a proposal about no client; "" for one about no committee seat: said in the schema.
    client_name = serializers.CharField(
        source="client.name", read_only=True, default=None, allow_null=True
    )
    committee_role = serializers.ChoiceField(
        choices=CommitteeRole.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Proposal
        fields = [
            "id",
            "type",
            "title",
            "rationale",
            "client",
            "client_name",
            "ruler",
            "nominee",
            "committee_role",
            "review_date",
            "state",
            "opened_at",
            "deadline",
            "closed_at",
            "quorum_percent",
            "majority",
            "abstentions_count",
            "tally",
        ]
        read_only_fields = fields

    @extend_schema(
        responses=inline_serializer(
            "Tally",
            {
                "for": serializers.IntegerField(),
                "against": serializers.IntegerField(),
                "abstain": serializers.IntegerField(),
            },
        )
    )
    def get_tally(self, proposal: Proposal) -> dict[str, int]:
        return tally_of(proposal).as_dict()


class NeedChangeSerializer(serializers.Serializer):
    changed_by = serializers.CharField(source="changed_by.__str__")
    changed_at = serializers.DateTimeField()


class ProposalDetailSerializer(ProposalSerializer):
    needs_changed_since_evidence = serializers.SerializerMethodField()

    class Meta(ProposalSerializer.Meta):
        fields = [
            *ProposalSerializer.Meta.fields,
            "evidence",
            "entitled",
            "version_content",
            "version_digest",
            "needs_changed_since_evidence",
        ]
        read_only_fields = fields

    @extend_schema_field(NeedChangeSerializer(many=True))
    def get_needs_changed_since_evidence(self, proposal: Proposal) -> list[dict[str, object]]:
        """Who changed the client's needs after the evidence was frozen, and when."""
        if not (proposal.client_id and proposal.opened_at):
            return []
        changes = need_changes_since(client_id=proposal.client_id, since=proposal.opened_at)
        return NeedChangeSerializer(changes, many=True).data


class VoteSerializer(serializers.Serializer):
    choice = serializers.ChoiceField(choices=VoteChoice.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ProposalViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [RolePermissions]
    filterset_class = ProposalFilter

    def get_queryset(self) -> QuerySet[Proposal]:
        # The tally's counts come annotated: a list costs no query per proposal.
        proposals = proposals_visible_to(self.request.user).select_related("client")
        return proposals_with_tally(proposals).order_by("-pk")

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return ProposalDetailSerializer if self.action == "retrieve" else ProposalSerializer

    @extend_schema(request=VoteSerializer, responses=ProposalDetailSerializer)
    @action(detail=True, methods=["post"], permission_classes=[RolePermissions])
    def vote(self, request: Request, pk: str | None = None) -> Response:
        proposal = self.get_object()
        data = VoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        vote_cast(
            proposal=proposal,
            member=request.user,
            choice=data.validated_data["choice"],
            comment=data.validated_data["comment"],
        )
        proposal = self.get_queryset().get(pk=proposal.pk)  # fresh state and counts
        return Response(ProposalDetailSerializer(proposal).data)


class DecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Decision
        fields = [
            "id",
            "proposal",
            "client",
            "summary",
            "key_status",
            "effective_date",
            "review_date",
            "superseded_by",
            "digest",
        ]
        read_only_fields = fields


class DecisionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DecisionSerializer
    permission_classes = [RolePermissions]
    filterset_class = DecisionFilter

    def get_queryset(self) -> QuerySet[Decision]:
        return decisions_visible_to(self.request.user).order_by("-effective_date", "-pk")
