"""The code's shape holds: the import contracts (pyproject.toml, run by ``make test``) keep the
arrows one way, and they fail the build when someone adds an import against them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("skam", "accounts", "criteria", "governance")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
GOVERNANCE_MODULE_LINES = 600
CONTEXTS = "Contexts of governance"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": str(LINT_IMPORTS.parent)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the code, to add a forbidden import to."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_import(tree: Path, module: str, statement: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n{statement}\n")


def test_the_code_keeps_its_import_contracts(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "statement", "contract"),
    [
        # An app below importing one above it.
        ("accounts.models", "import governance.models", "Apps:"),
        ("criteria.selectors", "from governance.models import Decision", "Apps:"),
        ("governance.shell.mandates", "import skam.settings", "Apps:"),
        # A context importing one above it, or a leaf importing a context.
        ("governance.kpis.states", "import governance.committee.proposals", CONTEXTS),
        ("governance.shell.budgets", "import governance.committee.meetings", CONTEXTS),
        ("governance.drift", "import governance.kpis.snapshots", CONTEXTS),
        ("governance.mail", "import governance.shell.notifications", CONTEXTS),
        ("governance.recipients", "import governance.committee.proposals", CONTEXTS),
        # Two modules of one context importing each other.
        ("governance.shell.mandates", "import governance.shell.budgets", "No import cycles"),
    ],
)
def test_a_forbidden_import_breaks_the_build(
    tree: Path, module: str, statement: str, contract: str
) -> None:
    add_import(tree, module, statement)
    result = lint_imports(tree)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(contract in line for line in broken), result.stdout


def test_no_module_of_governance_is_longer_than_a_reader_can_hold() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in (ROOT / "governance").rglob("*.py")
        if "migrations" not in path.parts
        and (lines := len(path.read_text().splitlines())) > GOVERNANCE_MODULE_LINES
    }
    assert long == {}
