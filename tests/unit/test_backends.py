"""pandas and Spark as backends of one collector: a backend computes numbers and hands them to
its kind's pure core; backends never import each other, the cores never import a backend, and
the one dispatch (``collectors/backends/__init__.py``) is the only module that picks one."""

from __future__ import annotations

import ast
from pathlib import Path

import aims_mlops.collectors.backends as backends

BACKENDS_DIR = Path(backends.__file__).parent
COLLECTORS_DIR = BACKENDS_DIR.parent
PACKAGE = "aims_mlops.collectors.backends"
CORES = ("_data_quality", "_monitoring", "_fairness")


def _imported(path: Path) -> set[str]:
    """Every module a file imports (module level and inside functions), with ``from X import
    Y`` counted as both ``X`` and ``X.Y`` (Y may be a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _backend_modules() -> dict[str, Path]:
    return {p.stem: p for p in sorted(BACKENDS_DIR.glob("_*.py")) if p.stem != "__init__"}


def test_there_is_a_pandas_and_a_spark_backend_per_kind() -> None:
    assert set(_backend_modules()) >= {
        "_pandas_quality",
        "_spark_quality",
        "_pandas_monitoring",
        "_spark_monitoring",
        "_pandas_fairness",
        "_spark_fairness",
    }


def test_the_backends_of_a_kind_offer_the_same_functions() -> None:
    from aims_mlops.collectors.backends import (
        FAIRNESS_INTERFACE,
        MONITORING_INTERFACE,
        QUALITY_INTERFACE,
        _pandas_fairness,
        _pandas_monitoring,
        _pandas_quality,
        _spark_fairness,
        _spark_monitoring,
        _spark_quality,
    )

    for interface, modules in (
        (QUALITY_INTERFACE, (_pandas_quality, _spark_quality)),
        (MONITORING_INTERFACE, (_pandas_monitoring, _spark_monitoring)),
        (FAIRNESS_INTERFACE, (_pandas_fairness, _spark_fairness)),
    ):
        for module in modules:
            missing = [name for name in interface if not callable(getattr(module, name, None))]
            assert missing == [], f"{module.__name__} lacks {missing}"


def test_backends_never_import_each_other() -> None:
    modules = _backend_modules()
    for name, path in modules.items():
        imported = _imported(path)
        others = {f"{PACKAGE}.{other}" for other in modules if other != name} | {PACKAGE}
        assert not imported & others, f"backends/{name}.py imports {sorted(imported & others)}"


def test_the_cores_never_import_a_backend() -> None:
    for core in CORES:
        imported = _imported(COLLECTORS_DIR / f"{core}.py")
        assert not {m for m in imported if m.startswith(PACKAGE)}, f"{core}.py imports a backend"


def test_each_backend_builds_no_record_itself() -> None:
    """The record is built once, in the core: no backend calls the record builders."""
    builders = {
        "new_record",
        "catalog_record",
        "record_from_summary",
        "quality_record",
        "monitoring_record",
        "fairness_record",
        "fairness_record_from_table",
        "measure_fairness",
    }
    for name, path in _backend_modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        called = {
            node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
        }
        assert not called & builders, f"backends/{name}.py builds a record: {called & builders}"


def test_the_detector_finds_an_import_between_backends(tmp_path: Path) -> None:
    bad = tmp_path / "_spark_x.py"
    bad.write_text(f"def f():\n    from {PACKAGE} import _pandas_quality\n")
    assert f"{PACKAGE}._pandas_quality" in _imported(bad)



def test_the_monitoring_core_builds_the_record_from_numbers_alone() -> None:
    """No frame: a hand-built measurement of one drifted feature gives a failing record with
    the backend's digests and row counts."""
    from aims_mlops.collectors._monitoring import (
        FeatureDrift,
        Measurement,
        _Measured,
        _thresholds,
        record_from_measurement,
    )

    drift = FeatureDrift(
        feature="age", kind="numeric", psi=0.5, test="ks", statistic=0.3, p_value=0.001,
        drifted=True, reason="age: PSI 0.5 above 0.2",
    )  # fmt: skip
    measurement = Measurement(
        measured=[_Measured(drift, {})], skipped=["notes"], identifier_columns=[],
        reference_rows=100, current_rows=80, reference_digest="sha256:r", current_digest="sha256:c",
    )  # fmt: skip
    record = record_from_measurement(
        measurement, limits=_thresholds(None), quality=None, system="s", model_version="3"
    )
    assert record.outcome == "fail"
    assert record.metrics["features_drifted"] == 1 and record.metrics["max_psi"] == 0.5
    assert (record.metrics["reference_rows"], record.metrics["current_rows"]) == (100, 80)
    assert record.subject.dataset_digests == ("sha256:r", "sha256:c")
    assert record.subject.model_version == "3"
    assert list(record.details["columns_skipped"]) == ["notes"]
    assert record.details["checks"][0]["reason"] == "age: PSI 0.5 above 0.2"
