"""``GET /api/record/``: the record's entries, newest first, with the page's filters
(``table``, ``row``, ``actor``, ``since``, ``until``); the committee only."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import serializers, viewsets

from accounts.api import RolePermissions
from governance.models import RecordEntry
from governance.record.filters import RecordFilter
from governance.record.selectors import record_visible_to


class RecordEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = RecordEntry
        fields = [
            "id",
            "at",
            "table_name",
            "row_pk",
            "operation",
            "before",
            "after",
            "actor",
            "path",
            "origin",
            "request_id",
            "prev_hash",
            "hash",
        ]


class RecordEntryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RecordEntrySerializer
    permission_classes = [RolePermissions]
    filterset_class = RecordFilter
    ordering_fields = ["id", "at"]
    search_fields: list[str] = []

    def get_queryset(self) -> QuerySet[RecordEntry]:
        return record_visible_to(self.request.user).order_by("-pk")
