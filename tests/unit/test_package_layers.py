"""What each package may import (docs/ARCHITECTURE.md, "What each package may import"): the
pure core never reaches up to capture, the store or the outputs; collectors never reach
capture or the outputs; readers never import the CLI. Imports inside functions count too."""

from __future__ import annotations

import ast
from pathlib import Path

import aims_mlops

ROOT = Path(aims_mlops.__file__).parent

OUTPUTS = {"views", "reports", "cli", "integrations"}
UPPER = {"capture", "judgement", "genai", "eu_ai_act", "documents", *OUTPUTS}
#: package -> the project packages it must never import (at module level or in a function).
NEVER = {
    **{
        core: {"capture", "collectors", "store", *UPPER}
        for core in ("evidence", "catalog", "config", "ledger", "engine", "presentation")
    },
    "collectors": {"capture", "engine", *UPPER},
    "store": {"capture", "collectors", "engine", *UPPER},
    "judgement": {"capture", *OUTPUTS},
    "eu_ai_act": {"capture", "store", *OUTPUTS},
    "genai": {"capture", *OUTPUTS},
    "reports": {"capture", "cli", "integrations", "views"},
    "views": {"capture", "cli", "integrations"},
    "capture": {"cli", "views", "integrations"},
}


def _package_imports(package: str) -> dict[str, set[str]]:
    """Imported project package -> the files of ``package`` that import it."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
                if node.module == "aims_mlops":
                    names += [f"aims_mlops.{alias.name}" for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "aims_mlops" and len(parts) > 1 and (ROOT / parts[1]).is_dir():
                    found.setdefault(parts[1], set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_package_in_the_table_exists() -> None:
    assert all((ROOT / package).is_dir() for package in NEVER)


def test_no_package_imports_what_its_layer_forbids() -> None:
    problems = [
        f"{package} imports {target} ({', '.join(sorted(files))})"
        for package, forbidden in sorted(NEVER.items())
        for target, files in sorted(_package_imports(package).items())
        if target in forbidden
    ]
    assert problems == []


def test_the_layer_check_sees_an_import_inside_a_function() -> None:
    imports = _package_imports("cli")
    assert "capture" in imports  # the CLI records through capture, so the walk must see it
