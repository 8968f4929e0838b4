"""``import aims_mlops`` stays cheap: no heavy library is loaded until it is used."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "mlflow", "great_expectations", "fairlearn", "sklearn", "ipywidgets", "pandas", "scipy",
    "pyspark",
)  # fmt: skip


def loaded_after(statement: str) -> list[str]:
    code = (
        f"import sys, json; {statement}; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_loads_no_heavy_library() -> None:
    assert loaded_after("import aims_mlops") == []


def test_pure_core_loads_no_heavy_library() -> None:
    statement = (
        "import aims_mlops.evidence, aims_mlops.catalog, aims_mlops.config, aims_mlops.engine; "
        "aims_mlops.catalog.load_catalog()"
    )
    assert loaded_after(statement) == []


def test_public_api_is_listed_and_resolves() -> None:
    import aims_mlops

    for name in ("init", "summary", "attest", "check_data", "assess_fairness", "monitor"):
        assert name in dir(aims_mlops)
        assert callable(getattr(aims_mlops, name))


def test_unknown_attribute_is_an_attribute_error() -> None:
    import aims_mlops

    try:
        aims_mlops.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_presentation_is_light() -> None:
    assert loaded_after("import aims_mlops.presentation") == []


def test_demo_and_cli_do_not_import_each_other() -> None:
    """The demo prints with the presentation module, never through the CLI; the CLI loads the
    demo's module but none of its heavy libraries until ``aims demo`` runs."""

    def modules_after(statement: str) -> set[str]:
        code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        return set(json.loads(out.stdout.strip().splitlines()[-1]))

    assert "aims_mlops.cli" not in modules_after("import aims_mlops.demo")
    loaded = modules_after("import aims_mlops.cli")
    assert not {"sklearn", "mlflow", "pandas", "fairlearn", "great_expectations"} & loaded
