"""The API's response components shared by every app: one class per component, since
drf-spectacular tells two components of one name apart by the class, and warns when they differ."""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

# Every refusal but a broken rule: {"detail": "why"}.
ERROR = inline_serializer("Error", fields={"detail": serializers.CharField()})
