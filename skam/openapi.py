"""What the API's schema says beyond what drf-spectacular reads from each view: the refusals
every endpoint may answer, in the shapes ``accounts.api.exception_handler`` gives them, so that a
client (and the contract test, ``tests/test_api_contract.py``) knows every status it can get (a
post-processing hook, ``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``); and the values a field
takes exactly as the server reads them (``AutoSchema``): a decimal as the digits it accepts, a
quarter as its first day, text more than spaces, a body required when it has required fields."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core import validators
from drf_spectacular import openapi
from rest_framework import serializers

from accounts.filtering import MAX_ID
from accounts.periods import QUARTER_PATTERN, validate_quarter_start


def _power_of_ten(value: object) -> int | None:
    """k when ``value`` is 10**k (k >= 0), else None."""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    if number < 1:
        return None
    digits = str(int(number))
    if number != int(number) or digits.rstrip("0") != "1":
        return None
    return len(digits) - 1


def _bounds(field: serializers.DecimalField) -> tuple[object, object]:
    """The field's least and greatest values, as arguments or as validators (the model's)."""
    low, high = field.min_value, field.max_value
    for validator in field.validators:
        if isinstance(validator, validators.MinValueValidator) and low is None:
            low = validator.limit_value
        elif isinstance(validator, validators.MaxValueValidator) and high is None:
            high = validator.limit_value
    return low, high


def decimal_pattern(field: serializers.DecimalField) -> str:
    """The strings ``field`` reads: at least one digit; no more whole digits or places than it
    keeps; no sign when it takes nothing below zero; nothing above its maximum when that is a
    power of ten (1, 100); not zero when its minimum is its smallest step (0.01)."""
    whole = field.max_whole_digits
    places = field.decimal_places
    fraction = r"\d*" if places is None else rf"\d{{0,{places}}}"
    zeros = r"0*" if places is None else rf"0{{0,{places}}}"
    low, high = _bounds(field)
    minimum = None if low is None else Decimal(str(low))
    sign = "" if minimum is not None and minimum >= 0 else "-?"
    top = _power_of_ten(high) if high is not None else None
    if top is not None and minimum is not None and minimum >= 0:
        below = "0" if top == 0 else rf"\d{{1,{top}}}"
        only_fraction = r"\d+" if places is None else rf"\d{{1,{places}}}"
        ten = "1" + "0" * top
        number = rf"{below}(?:\.{fraction})?|\.{only_fraction}|{ten}(?:\.{zeros})?"
    elif places is not None and minimum is not None and minimum == Decimal(1).scaleb(-places):
        rest = r"\d*" if whole is None else rf"\d{{0,{max(whole - 1, 0)}}}"
        tails = "|".join(rf"0{{{i}}}[1-9]\d{{0,{places - 1 - i}}}" for i in range(places))
        number = rf"0*[1-9]{rest}(?:\.{fraction})?|0?\.(?:{tails})"
    else:
        digits = r"\d+" if whole is None else ("0" if whole == 0 else rf"\d{{1,{whole}}}")
        only_fraction = r"\d+" if places is None else rf"\d{{1,{places}}}"
        number = rf"{digits}(?:\.{fraction})?|\.{only_fraction}"
    return rf"^{sign}(?:{number})$"


# Text that is more than spaces: DRF trims it, and refuses what is left empty.
NOT_BLANK = r"\S"


class AutoSchema(openapi.AutoSchema):
    def _map_serializer_field(
        self, field: serializers.Field, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request" or not isinstance(schema, dict):
            return schema
        if (
            isinstance(field, serializers.PrimaryKeyRelatedField)
            and schema.get("type") == "integer"
        ):
            schema.update(minimum=1, maximum=MAX_ID)
        if schema.get("type") != "string":
            return schema
        if isinstance(field, serializers.DecimalField):
            schema["pattern"] = decimal_pattern(field)
        elif (
            isinstance(field, serializers.CharField)
            and not field.allow_blank
            and field.trim_whitespace
            and "pattern" not in schema
            and not any(isinstance(v, validators.RegexValidator) for v in field.validators)
        ):
            schema["pattern"] = NOT_BLANK
        elif isinstance(field, serializers.DateField) and any(
            validator is validate_quarter_start for validator in field.validators
        ):
            schema["pattern"] = QUARTER_PATTERN
        return schema


# Every refusal but a broken rule: {"detail": "why"}, and a 409's kind in ``code``
# (accounts.openapi.ERROR, as a schema).
ERROR = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "code": {
            "enum": ["state", "unique", "history"],
            "type": "string",
            "description": "A 409's kind: state (its state forbids this, or it changed "
            "meanwhile), unique (one like it exists already), history (it has a history that "
            "must stay).",
        },
    },
    "required": ["detail"],
}
# A broken rule: the reasons by field, each a list of messages; a nested field's are an object,
# a list's are a list of them. ``detail`` holds those of no one field.
VALIDATION_ERROR = {
    "type": "object",
    "description": "The reasons by field name; `detail` or `non_field_errors` for the others.",
    "additionalProperties": {
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
            {"type": "object"},
        ]
    },
}

UNSAFE = {"post", "put", "patch", "delete"}
WITH_BODY = {"post", "put", "patch"}

# Why each status may come, said once for every operation that can get it.
WHY = {
    "400": "The request breaks a rule: the reasons by field.",
    "401": "No valid token: send `Authorization: Token <token>`.",
    "403": "Not this person's to do.",
    "404": "No such thing for this person (or no such page of the list).",
    "409": "Someone changed it meanwhile, or its state forbids this, or one like it exists "
    "already, or it has a history that must stay: `code` says which.",
    "413": "The request body is larger than allowed.",
    "415": "The body's media type is not one this operation reads.",
    "429": "Too many writes (or failed sign-ins) for now: retry after `Retry-After` seconds.",
}


def _answer(status: str, schema_ref: str) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": WHY[status],
        "content": {"application/json": {"schema": {"$ref": schema_ref}}},
    }
    if status == "401":
        answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    if status == "429":
        answer["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return answer


def _statuses(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    """The refusals this operation can answer, besides those its view declares itself."""
    security = operation.get("security") or [{}]
    signed_in_only = all(requirement for requirement in security)
    parameters = operation.get("parameters", [])
    reads_query = any(p.get("in") == "query" for p in parameters)
    statuses = []
    if method in WITH_BODY or reads_query:
        statuses.append("400")
    if signed_in_only:
        statuses += ["401", "403"]
    elif method in UNSAFE:
        statuses.append("403")  # the token endpoint: as many tokens as allowed already
    # An object named in the path, a page past the end of a list, or a write naming what is not
    # there for this person (``NotYours``).
    if "{" in path or reads_query or (signed_in_only and method in UNSAFE):
        statuses.append("404")
    if method in UNSAFE and signed_in_only:
        statuses.append("409")
    if method in WITH_BODY:
        statuses += ["413", "415"]
    if method in UNSAFE:
        statuses.append("429")
    return statuses


FORMS = {"application/x-www-form-urlencoded", "multipart/form-data"}


# What a form sends for "none": a form cannot say null, so DRF reads an empty value of a field
# that takes null as null (``Field.get_value``), whatever the field's type.
EMPTY = {"type": "string", "maxLength": 0}
# The keys that describe a field rather than constrain its value.
DESCRIBING = ("title", "description")


def _form_field(value: dict[str, Any]) -> dict[str, Any]:
    """A field's schema in a form body: a field that takes null takes its value or empty."""
    if not value.get("nullable"):
        return value
    kept = {k: v for k, v in value.items() if k != "nullable" and k not in DESCRIBING}
    described = {k: v for k, v in value.items() if k in DESCRIBING}
    return {**described, "anyOf": [kept, EMPTY]}


def _form_schema(schemas: dict[str, Any], name: str) -> str:
    """The component a form body of ``name`` follows: the same fields, none of them null; a
    field that takes null takes an empty value instead, which is how a form says none."""
    component = schemas.get(name, {})
    nullable = [
        key for key, value in component.get("properties", {}).items() if value.get("nullable")
    ]
    if not nullable:
        return name
    form_name = f"{name}Form"
    if form_name not in schemas:
        properties = {key: _form_field(value) for key, value in component["properties"].items()}
        schemas[form_name] = {**component, "properties": properties}
    return form_name


def require_bodies(result: dict[str, Any], **kwargs: object) -> dict[str, Any]:
    """A request body whose schema has required fields is required: sending none is a 400.
    A form body follows a schema without nulls."""
    schemas = result.get("components", {}).get("schemas", {})
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if not body:
                continue
            for media_type, media in body.get("content", {}).items():
                reference = media.get("schema", {}).get("$ref", "")
                name = reference.rsplit("/", 1)[-1]
                if schemas.get(name, {}).get("required"):
                    body["required"] = True
                if media_type in FORMS and reference:
                    media["schema"] = {
                        "$ref": f"#/components/schemas/{_form_schema(schemas, name)}"
                    }
    return result


def document_refusals(result: dict[str, Any], **kwargs: object) -> dict[str, Any]:
    """Add to every operation the refusals it can answer (400, 401, 403, 404, 409, 413, 415,
    429), each with its body's schema; a status a view documents itself is kept as it is."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas["ValidationError"] = VALIDATION_ERROR
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status in _statuses(path, method, operation):
                reference = "ValidationError" if status == "400" else "Error"
                responses.setdefault(status, _answer(status, f"#/components/schemas/{reference}"))
    return result
