"""REST endpoints of the committee. The contract integrators rely on:

* what SKAM says in words is given twice: as data (a code and its values) to act on, and as
  text said in the request's language (``Accept-Language``: English or Russian, the site's
  default otherwise) to show — a proposal's ``title`` (``title_is_auto``: said from its type
  and subject, not typed), its ``verdict`` (``code`` and values, with ``text``), a decision's
  ``summary`` (from ``kind`` and ``subject``);

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
from criteria.verdicts import CODES as VERDICT_CODES
from governance.committee.filters import DecisionFilter, ProposalFilter
from governance.committee.proposals import (
    decisions_visible_to,
    proposals_visible_to,
    proposals_with_tally,
    tally_of,
    vote_cast,
)
from governance.models import SUBJECTS, CommitteeRole, Decision, Proposal, VoteChoice

# Said in the request's language (Accept-Language).
IN_REQUEST_LANGUAGE = "Said in the request's language (Accept-Language: en or ru)."


class ProposalSerializer(serializers.ModelSerializer):
    tally = serializers.SerializerMethodField()
    title = serializers.CharField(
        read_only=True,
        help_text="The title as the proposer typed it; when none was typed, or the suggested "
        "one was kept (title_is_auto), said from the proposal's type and subject, or from the "
        "decision it revisits (supersedes). " + IN_REQUEST_LANGUAGE,
    )
    title_is_auto = serializers.BooleanField(
        read_only=True, help_text="True when the title is said by SKAM, not typed."
    )
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
            "title_is_auto",
            "rationale",
            "client",
            "client_name",
            "ruler",
            "nominee",
            "committee_role",
            "exception_request",
            "supersedes",
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


class GateSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="The criterion's code (criteria.CriterionKind).")
    direction = serializers.ChoiceField(choices=["at_least", "at_most"])
    threshold = serializers.DecimalField(max_digits=18, decimal_places=2)


class UnmetNeedSerializer(serializers.Serializer):
    need = serializers.CharField()
    weight = serializers.IntegerField()


class VerdictSerializer(serializers.Serializer):
    """The ruler's verdict frozen in the evidence: a code and its values, and the sentence."""

    code = serializers.ChoiceField(
        choices=list(VERDICT_CODES),
        help_text="meets_ruler, fails_ruler, not_scored; text: a sentence stored by an older "
        "SKAM, kept as written (only ``text`` is given).",
    )
    coverage = serializers.DecimalField(
        max_digits=5, decimal_places=1, required=False, help_text="Coverage of needs, %."
    )
    threshold = serializers.DecimalField(
        max_digits=5, decimal_places=1, required=False, help_text="The ruler's threshold, %."
    )
    short = serializers.BooleanField(required=False, help_text="Coverage below the threshold.")
    unmet = UnmetNeedSerializer(many=True, required=False)
    gates = GateSerializer(many=True, required=False, help_text="Gates not passed.")
    text = serializers.CharField(help_text="The verdict in words. " + IN_REQUEST_LANGUAGE)


class ProposalDetailSerializer(ProposalSerializer):
    needs_changed_since_evidence = serializers.SerializerMethodField()
    verdict = serializers.SerializerMethodField()
    evidence = serializers.SerializerMethodField()

    class Meta(ProposalSerializer.Meta):
        fields = [
            *ProposalSerializer.Meta.fields,
            "verdict",
            "evidence",
            "entitled",
            "version_content",
            "version_digest",
            "needs_changed_since_evidence",
        ]
        read_only_fields = fields

    @extend_schema_field(VerdictSerializer(allow_null=True))
    def get_verdict(self, proposal: Proposal) -> dict[str, object] | None:
        verdict = proposal.evidence.get("verdict")
        if not verdict:
            return None
        data = verdict if isinstance(verdict, dict) else {"code": "text", "text": verdict}
        return {**data, "text": proposal.verdict_text}

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": True,
            "description": "What the members saw when the vote opened, as data; each earlier "
            "decision (decisions[]) with its kind and subject, and its summary. "
            + IN_REQUEST_LANGUAGE,
        }
    )
    def get_evidence(self, proposal: Proposal) -> dict[str, object]:
        evidence = dict(proposal.evidence)
        if evidence.get("decisions"):
            evidence["decisions"] = [
                {**line, "summary": said["summary"]}
                for line, said in zip(
                    evidence["decisions"], proposal.evidence_decisions, strict=True
                )
            ]
        return evidence

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
        # The subjects a title is said from come joined: no query per proposal either.
        proposals = proposals_visible_to(self.request.user).select_related(*SUBJECTS)
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
    summary = serializers.CharField(
        read_only=True, help_text="The decision in words. " + IN_REQUEST_LANGUAGE
    )
    subject = serializers.JSONField(
        read_only=True,
        help_text='What was decided on, as it stood: {"client": name}, {"person": name}, '
        '{"ruler"|"policy": {"number", "title"}}, {"mandate": {"kam", "title"}}; '
        '{"text": …} for a sentence stored by an older SKAM.',
    )

    class Meta:
        model = Decision
        fields = [
            "id",
            "proposal",
            "client",
            "kind",
            "subject",
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
