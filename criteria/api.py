"""REST endpoints of the ruler: USPs, coverage of needs, ruler versions (drafted here, adopted
by the committee's decision), evaluations with their plain-words verdict, runs, review items and
fit ratings.

As in the register's API, every queryset is filtered by what the user may see (through the
client, ``clients_visible_to``) and every write needs the model permission of the user's role;
the decisions themselves are the services' and the evaluation engine's.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import RolePermissions, VisibleClientField
from accounts.models import Client, ClientNeed
from accounts.openapi import ERROR
from accounts.refusals import STATE, ChangedMeanwhile
from accounts.selectors import clients_visible_to
from criteria.evaluation import NoRulerInForce, run_start_or_resume
from criteria.models import (
    USP,
    Evaluation,
    EvaluationRun,
    NeedCoverage,
    ReviewItem,
    ReviewKind,
    RulerCriterion,
    RulerVersion,
    StrategicFitRating,
)
from criteria.selectors import Scorecard, scorecard_for
from criteria.services import (
    ADOPTED_IS_IMMUTABLE,
    RulerNotDraft,
    fit_rate,
    ruler_draft_change,
    ruler_draft_create,
)
from criteria.tasks import enqueue, reevaluate_all, resume_stalled_run

# --- Permissions -----------------------------------------------------------------------------


class USPPermissions(RolePermissions):
    """A USP is retired, never deleted: evaluations that used it keep their history."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method == "DELETE" and request.user.is_authenticated:
            raise exceptions.MethodNotAllowed(
                "DELETE",
                detail=_("A USP is retired, never deleted: set its retired_on date instead."),
            )
        return super().has_permission(request, view)


class RunPermissions(RolePermissions):
    """Starting a run is its own permission, not ``add_evaluationrun``."""

    perms_map = {**RolePermissions.perms_map, "POST": ["criteria.start_evaluationrun"]}


# --- Filters -----------------------------------------------------------------------------------


def _visible_clients(request: HttpRequest | None) -> QuerySet[Client]:
    """The clients a ``?client=`` filter accepts: another KAM's client is refused exactly like
    one that does not exist."""
    if request is None:
        return Client.objects.none()
    return clients_visible_to(request.user)


def _visible_needs(request: HttpRequest | None) -> QuerySet[ClientNeed]:
    return ClientNeed.objects.filter(client__in=_visible_clients(request))


class CoverageFilter(django_filters.FilterSet):
    client = django_filters.ModelChoiceFilter(field_name="need__client", queryset=_visible_clients)
    need = django_filters.ModelChoiceFilter(queryset=_visible_needs)

    class Meta:
        model = NeedCoverage
        fields = ["client", "need", "usp"]


class EvaluationFilter(django_filters.FilterSet):
    client = django_filters.ModelChoiceFilter(queryset=_visible_clients)

    class Meta:
        model = Evaluation
        fields = ["client", "run", "meets_ruler"]


class ReviewState:
    OPEN = "open"
    CLOSED = "closed"
    ALL = "all"
    CHOICES = (
        (OPEN, pgettext_lazy("review items", "open")),
        (CLOSED, pgettext_lazy("review items", "closed")),
        (ALL, pgettext_lazy("review items", "all")),
    )


class ReviewItemFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=ReviewState.CHOICES,
        method="by_state",
        empty_label=None,
        help_text=_("Open items unless asked otherwise."),
    )
    client = django_filters.ModelChoiceFilter(queryset=_visible_clients)
    kind = django_filters.ChoiceFilter(choices=ReviewKind.choices)

    class Meta:
        model = ReviewItem
        fields = ["state", "client", "kind"]

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # The committee's agenda is the open items: that is what a list shows unless asked.
        if data is not None and not data.get("state"):
            data = data.copy()
            data["state"] = ReviewState.OPEN
        super().__init__(data, *args, **kwargs)

    def by_state(
        self, queryset: QuerySet[ReviewItem], name: str, value: str
    ) -> QuerySet[ReviewItem]:
        if value == ReviewState.OPEN:
            return queryset.filter(closed_at__isnull=True)
        if value == ReviewState.CLOSED:
            return queryset.filter(closed_at__isnull=False)
        return queryset


class FitRatingFilter(django_filters.FilterSet):
    client = django_filters.ModelChoiceFilter(queryset=_visible_clients)

    class Meta:
        model = StrategicFitRating
        fields = ["client"]


# --- Serializers -------------------------------------------------------------------------------


class USPSerializer(serializers.ModelSerializer):
    class Meta:
        model = USP
        fields = ["id", "name", "description", "since", "retired_on", "is_active"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since = attrs.get("since", getattr(self.instance, "since", None))
        retired_on = attrs.get("retired_on", getattr(self.instance, "retired_on", None))
        if since and retired_on and retired_on < since:
            # Both dates sent: what was sent breaks the rule (400). One of them stored: the
            # same body would pass on another USP, so it is how things stand (409, ``state``).
            sent_both = "since" in attrs and "retired_on" in attrs
            raise serializers.ValidationError(
                {"retired_on": _("A USP cannot be retired before it was offered.")},
                code=None if sent_both else STATE,
            )
        return attrs


class VisibleNeedField(serializers.PrimaryKeyRelatedField):
    """A need of a client the requesting user may see; any other is refused like a missing one."""

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": _(
            "Need {pk_value} does not exist or belongs to an account you may not work on."
        ),
    }

    def get_queryset(self) -> QuerySet[ClientNeed]:
        return _visible_needs(self.context["request"])


class ActiveUSPField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": _("USP {pk_value} does not exist or has been retired."),
    }

    def get_queryset(self) -> QuerySet[USP]:
        return USP.objects.filter(retired_on__isnull=True)


DEGREE_IS_A_SHARE = _("A degree is a share from 0 to 1.")
KIND_ONCE = _("Each kind of criterion can appear only once in a ruler version.")
COVERAGE_ONCE = _("This USP already covers this need: change that coverage instead.")


class CoverageSerializer(serializers.ModelSerializer):
    need = VisibleNeedField()
    usp = ActiveUSPField()
    degree = serializers.DecimalField(
        max_digits=4,
        decimal_places=3,
        min_value=0,
        max_value=1,
        error_messages={"min_value": DEGREE_IS_A_SHARE, "max_value": DEGREE_IS_A_SHARE},
        help_text=_("0 = not at all, 0.5 = in part, 1 = fully."),
    )
    client = serializers.IntegerField(source="need.client_id", read_only=True)
    need_name = serializers.CharField(source="need.name", read_only=True)
    usp_name = serializers.CharField(source="usp.name", read_only=True)

    class Meta:
        model = NeedCoverage
        fields = ["id", "client", "need", "need_name", "usp", "usp_name", "degree", "updated_at"]
        validators = [
            serializers.UniqueTogetherValidator(
                queryset=NeedCoverage.objects.all(), fields=["need", "usp"], message=COVERAGE_ONCE
            )
        ]


class RulerCriterionSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = RulerCriterion
        fields = ["id", "kind", "direction", "threshold", "is_gate", "weight", "label"]


class RulerVersionSerializer(serializers.ModelSerializer):
    criteria = RulerCriterionSerializer(many=True, required=False)
    title = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text=_(
            "The title as typed, or the one SKAM gave the draft, said in the request's "
            "language. Left out on creation: SKAM titles the draft."
        ),
    )
    title_kind = serializers.CharField(
        read_only=True, help_text=_("The kind of title SKAM gave the draft; blank when typed.")
    )
    title_values = serializers.JSONField(
        read_only=True, help_text=_("The values the automatic title is said with.")
    )
    based_on = serializers.PrimaryKeyRelatedField(
        queryset=RulerVersion.objects.all(),
        write_only=True,
        required=False,
        allow_null=True,
        help_text=_("On creation: copy the threshold, horizon and criteria of this version."),
    )

    class Meta:
        model = RulerVersion
        fields = [
            "id",
            "number",
            "title",
            "title_kind",
            "title_values",
            "status",
            "coverage_threshold",
            "horizon_months",
            "concession_rate",
            "notes",
            "criteria",
            "based_on",
            "created_at",
            "adopted_at",
            "adopted_by",
        ]
        read_only_fields = ["number", "status", "created_at", "adopted_at", "adopted_by"]

    def validate_criteria(self, criteria: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each kind once: a repeated kind is refused on the item that repeats it, as a
        criterion's own fields are."""
        seen: set[str] = set()
        errors: list[dict[str, list[str]]] = []
        for criterion in criteria:
            repeated = criterion["kind"] in seen
            seen.add(criterion["kind"])
            errors.append({"kind": [KIND_ONCE]} if repeated else {})
        if any(errors):
            raise serializers.ValidationError(errors)
        return criteria

    def validate_title(self, title: str) -> str:
        title = title.strip()
        if not title and self.instance is not None and not self.instance.title_kind:
            raise serializers.ValidationError(_("Give the version a title."))
        return title

    def validate_based_on(self, based_on: RulerVersion | None) -> RulerVersion | None:
        if based_on is not None and self.instance is not None:
            raise serializers.ValidationError(
                _("A version can only be based on another when it is created.")
            )
        return based_on


class BreakdownRowSerializer(serializers.Serializer):
    need = serializers.IntegerField()
    name = serializers.CharField()
    weight = serializers.IntegerField()
    degree = serializers.DecimalField(max_digits=4, decimal_places=3)
    usps = serializers.ListField(child=serializers.IntegerField())


class EvaluationSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)
    breakdown = serializers.SerializerMethodField(
        help_text=_("The client's needs as they were: weight, degree met, USPs meeting it.")
    )

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "client",
            "client_name",
            "run",
            "ruler",
            "coverage_ratio",
            "weight_total",
            "score",
            "meets_ruler",
            "was_key",
            "potential_revenue",
            "revenue_4q",
            "gross_margin_percent",
            "revenue_growth",
            "share_of_wallet",
            "strategic_fit",
            "breakdown",
            "created_at",
        ]

    @extend_schema_field(BreakdownRowSerializer(many=True))
    def get_breakdown(self, evaluation: Evaluation) -> list[dict[str, Any]]:
        return BreakdownRowSerializer(
            [
                {"need": need, "name": name, "weight": weight, "degree": degree, "usps": usps or []}
                for need, name, weight, degree, usps in evaluation.breakdown
            ],
            many=True,
        ).data


class CriterionResultSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    is_gate = serializers.BooleanField()
    weight = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    passed = serializers.BooleanField()


class EvaluationDetailSerializer(EvaluationSerializer):
    explanation = serializers.SerializerMethodField(
        help_text=_("The verdict in plain words, with what decides it.")
    )
    criteria = serializers.SerializerMethodField()

    class Meta(EvaluationSerializer.Meta):
        fields = [*EvaluationSerializer.Meta.fields, "explanation", "criteria"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scorecards: dict[int, Scorecard] = {}

    def _scorecard(self, evaluation: Evaluation) -> Scorecard:
        """One scorecard per evaluation, for both the explanation and the criteria."""
        if evaluation.pk not in self._scorecards:
            self._scorecards[evaluation.pk] = scorecard_for(evaluation)
        return self._scorecards[evaluation.pk]

    def get_explanation(self, evaluation: Evaluation) -> str:
        return self._scorecard(evaluation).verdict_text()

    @extend_schema_field(CriterionResultSerializer(many=True))
    def get_criteria(self, evaluation: Evaluation) -> list[dict[str, Any]]:
        return CriterionResultSerializer(
            [
                {
                    "kind": line.criterion.kind,
                    "label": str(line.criterion),
                    "is_gate": line.criterion.is_gate,
                    "weight": line.criterion.weight,
                    "value": line.value,
                    "passed": line.passed,
                }
                for line in self._scorecard(evaluation).criteria
            ],
            many=True,
        ).data


class EvaluationRunSerializer(serializers.ModelSerializer):
    ruler_number = serializers.IntegerField(source="ruler.number", read_only=True)
    duration_seconds = serializers.SerializerMethodField()
    error_text = serializers.CharField(
        read_only=True,
        help_text="Why the run failed, in words: said in the request's language (Accept-"
        "Language) where SKAM says it (error: superseded), a chunk's exception as raised.",
    )

    class Meta:
        model = EvaluationRun
        fields = [
            "id",
            "ruler",
            "ruler_number",
            "status",
            "requested_by",
            "as_of",
            "created_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "chunks_total",
            "chunks_done",
            "progress_percent",
            "clients_evaluated",
            "verdict_changes",
            "error",
            "error_text",
            "progressed_at",
        ]
        read_only_fields = fields

    def get_duration_seconds(self, run: EvaluationRun) -> float | None:
        return None if run.duration is None else run.duration.total_seconds()


class ReviewItemSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    is_open = serializers.SerializerMethodField()

    class Meta:
        model = ReviewItem
        fields = [
            "id",
            "client",
            "client_name",
            "kind",
            "kind_label",
            "opened_by_run",
            "opened_at",
            "closed_at",
            "is_open",
        ]

    def get_is_open(self, item: ReviewItem) -> bool:
        return item.closed_at is None


RATING_IS_ONE_TO_FIVE = _("A rating is a whole number from 1 to 5.")


class FitRatingSerializer(serializers.ModelSerializer):
    client = VisibleClientField()
    rating = serializers.IntegerField(
        min_value=1,
        max_value=5,
        error_messages={"min_value": RATING_IS_ONE_TO_FIVE, "max_value": RATING_IS_ONE_TO_FIVE},
    )
    rated_by_name = serializers.CharField(source="rated_by.__str__", read_only=True)

    class Meta:
        model = StrategicFitRating
        fields = ["id", "client", "rating", "comment", "rated_by", "rated_by_name", "rated_at"]
        read_only_fields = ["rated_by", "rated_at"]


# --- Viewsets ----------------------------------------------------------------------------------


class USPViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """USPs: everyone with a role reads them, the administrator keeps them. A USP is retired
    (``retired_on``), never deleted."""

    queryset = USP.objects.order_by("name", "pk")
    serializer_class = USPSerializer
    permission_classes = [USPPermissions]
    search_fields = ["name"]


class CoverageViewSet(viewsets.ModelViewSet):
    """How far each USP meets each client need; seen through the client, kept by the committee
    and the administrator."""

    serializer_class = CoverageSerializer
    permission_classes = [RolePermissions]
    filterset_class = CoverageFilter
    ordering_fields = ["degree", "updated_at"]

    def get_queryset(self) -> QuerySet[NeedCoverage]:
        return (
            NeedCoverage.objects.filter(need__client__in=clients_visible_to(self.request.user))
            .select_related("need", "usp")
            .order_by("need__client_id", "need_id", "usp__name", "pk")
        )

    def perform_create(self, serializer: CoverageSerializer) -> None:
        self._save_once(serializer)

    def perform_update(self, serializer: CoverageSerializer) -> None:
        self._save_once(serializer)

    def _save_once(self, serializer: CoverageSerializer) -> None:
        # The validator's look is a courtesy; two requests at once meet in the constraint.
        try:
            with transaction.atomic():
                serializer.save()
        except IntegrityError as error:
            raise serializers.ValidationError(
                {"non_field_errors": [COVERAGE_ONCE]}, code="unique"
            ) from error


class RulerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Versions of the ruler with their criteria. The committee and the administrator draft and
    change drafts; only the committee's decision puts a draft in force (a proposal to adopt it).
    An adopted version is fixed."""

    serializer_class = RulerVersionSerializer
    permission_classes = [RolePermissions]
    # JSON only: a form cannot carry the nested criteria, and a form-encoded draft would be
    # created without them (415 instead).
    parser_classes = [JSONParser]
    filterset_fields = ["status"]

    def get_queryset(self) -> QuerySet[RulerVersion]:
        return RulerVersion.objects.prefetch_related("criteria").order_by("-number")

    def perform_create(self, serializer: RulerVersionSerializer) -> None:
        changes = dict(serializer.validated_data)
        title = changes.pop("title", "")
        based_on = changes.pop("based_on", None)
        criteria = changes.pop("criteria", None)
        with transaction.atomic():
            draft = ruler_draft_create(title=title, based_on=based_on)
            if changes or criteria is not None:
                draft = ruler_draft_change(ruler=draft, changes=changes, criteria=criteria)
        serializer.instance = draft

    @extend_schema(responses={200: RulerVersionSerializer, 409: OpenApiResponse(ERROR)})
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ruler = self.get_object()
        if not ruler.is_draft:
            raise ChangedMeanwhile(ADOPTED_IS_IMMUTABLE)
        serializer = self.get_serializer(ruler, data=request.data, partial=kwargs.get("partial"))
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        criteria = changes.pop("criteria", None)
        changes.pop("based_on", None)
        try:
            ruler = ruler_draft_change(ruler=ruler, changes=changes, criteria=criteria)
        except RulerNotDraft as error:
            raise ChangedMeanwhile(str(error)) from error
        return Response(self.get_serializer(ruler).data)

    @extend_schema(responses={200: RulerVersionSerializer, 409: OpenApiResponse(ERROR)})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)


class EvaluationViewSet(viewsets.ReadOnlyModelViewSet):
    """Evaluations of the clients the user may see; one opens with its verdict in plain words."""

    permission_classes = [RolePermissions]
    filterset_class = EvaluationFilter
    ordering_fields = ["score", "coverage_ratio", "created_at"]

    def get_queryset(self) -> QuerySet[Evaluation]:
        return (
            Evaluation.objects.filter(client__in=clients_visible_to(self.request.user))
            .select_related("client", "ruler")
            .order_by("-run_id", "client__name", "pk")
        )

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return EvaluationDetailSerializer if self.action == "retrieve" else EvaluationSerializer


class EvaluationRunViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Runs of the re-evaluation and their progress; the committee and the administrator start
    one."""

    queryset = EvaluationRun.objects.select_related("ruler").order_by("-created_at", "-pk")
    serializer_class = EvaluationRunSerializer
    permission_classes = [RunPermissions]
    filterset_fields = ["status"]

    @extend_schema(
        request=None,
        responses={
            201: OpenApiResponse(EvaluationRunSerializer, description=_("A new run started.")),
            200: OpenApiResponse(
                EvaluationRunSerializer, description=_("A run was in progress already.")
            ),
            409: OpenApiResponse(ERROR, description=_("No ruler version is in force.")),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Start a re-evaluation of every client, or answer with the run in progress (and
        resume it when it has stalled)."""
        with transaction.atomic():
            try:
                run, created = run_start_or_resume(requested_by=request.user)
            except NoRulerInForce as error:
                raise ChangedMeanwhile(
                    _("No ruler version is in force yet: adopt one first.")
                ) from error
            if created:
                user_id = request.user.pk
                transaction.on_commit(lambda: enqueue(reevaluate_all, user_id))
            elif run.stalled_since(at=timezone.now()):  # its chunks were lost: queue them again
                run_id = run.pk
                transaction.on_commit(lambda: enqueue(resume_stalled_run, run_id))
        return Response(
            self.get_serializer(run).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ReviewItemViewSet(viewsets.ReadOnlyModelViewSet):
    """The committee's agenda: clients whose verdict disagrees with their key status."""

    serializer_class = ReviewItemSerializer
    permission_classes = [RolePermissions]
    filterset_class = ReviewItemFilter

    def get_queryset(self) -> QuerySet[ReviewItem]:
        return (
            ReviewItem.objects.filter(client__in=clients_visible_to(self.request.user))
            .select_related("client")
            .order_by("-opened_at", "-pk")
        )

    def filter_queryset(self, queryset: QuerySet[ReviewItem]) -> QuerySet[ReviewItem]:
        # The filters (open items by default) narrow a list; an item opens by its id whatever
        # its state.
        if self.action == "retrieve":
            return queryset
        return super().filter_queryset(queryset)


class FitRatingViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The committee's ratings of strategic fit, seen through the client. A rating is history:
    a new one is added, none is changed; the latest counts."""

    serializer_class = FitRatingSerializer
    permission_classes = [RolePermissions]
    filterset_class = FitRatingFilter

    def get_queryset(self) -> QuerySet[StrategicFitRating]:
        return (
            StrategicFitRating.objects.filter(client__in=clients_visible_to(self.request.user))
            .select_related("rated_by")
            .order_by("client_id", "-rated_at", "-pk")
        )

    def perform_create(self, serializer: FitRatingSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = fit_rate(
            client=data["client"],
            rating=data["rating"],
            by=self.request.user,
            comment=data.get("comment", ""),
        )
