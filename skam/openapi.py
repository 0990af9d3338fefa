"""What the API's schema says beyond each view's success: the refusals every endpoint may answer,
in the shapes ``accounts.api.exception_handler`` gives them, so that a client (and the contract
test, ``tests/test_api_contract.py``) knows every status it can get. A drf-spectacular
post-processing hook (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``)."""

from __future__ import annotations

from typing import Any

# Every refusal but a broken rule: {"detail": "why"} (criteria.api names it "Error" too).
ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
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
    "409": "Someone changed it meanwhile, or its state forbids this, or it has a history "
    "that must stay.",
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
