"""Governance names its permissions once, in ``governance/permissions.py``: every constant there
is a permission that exists, the module imports nothing (so every context may use it), and no
module of governance spells a permission out instead of using the constant."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

from governance import permissions

GOVERNANCE = Path(permissions.__file__).resolve().parent
# A permission's name ("governance.view_decision"), not a model's label ("governance.Decision").
PERMISSION_LITERAL = re.compile(r"""["']governance\.[a-z][a-z_]*["']""")


def constants() -> dict[str, str]:
    return {name: value for name, value in vars(permissions).items() if name.isupper()}


@pytest.mark.django_db
def test_every_constant_names_a_permission_that_exists() -> None:
    existing = {
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.values_list(
            "content_type__app_label", "codename"
        )
    }

    assert set(constants().values()) - existing == set()
    assert len(set(constants().values())) == len(constants())


def test_the_module_imports_nothing() -> None:
    tree = ast.parse(Path(permissions.__file__).read_text())

    assert [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)] == []


def test_no_module_of_governance_spells_a_permission_out() -> None:
    spelled = [
        f"{path.relative_to(GOVERNANCE)}: {match}"
        for path in sorted(GOVERNANCE.rglob("*.py"))
        if "migrations" not in path.parts and path != Path(permissions.__file__).resolve()
        for match in PERMISSION_LITERAL.findall(path.read_text())
    ]

    assert spelled == []
