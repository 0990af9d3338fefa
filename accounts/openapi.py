"""The API's response components shared by every app: one class per component, since
drf-spectacular tells two components of one name apart by the class, and warns when they differ."""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

# Every refusal but a broken rule: {"detail": "why"}; a 409 also says its kind in ``code``.
ERROR = inline_serializer(
    "Error",
    fields={
        "detail": serializers.CharField(),
        "code": serializers.ChoiceField(
            choices=["state", "unique", "history"],
            required=False,
            help_text="A 409's kind: state (its state forbids this, or it changed meanwhile), "
            "unique (one like it exists already), history (it has a history that must stay).",
        ),
    },
)
