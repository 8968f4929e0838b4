"""What keeps the first command and the first capture fast, checked for sameness, not timed:
libyaml reads the same data with the same error texts, the catalog is parsed once, and
`aims validate` proves the example's expectations without importing Great Expectations."""

from __future__ import annotations

import importlib.resources
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from aims_mlops import ConfigError, _yaml
from aims_mlops.catalog import load_catalog
from aims_mlops.config import _loader, example_config_text, parse_config

pytestmark = pytest.mark.skipif(not _yaml.HAS_LIBYAML, reason="PyYAML built without libyaml")


def _shipped_yaml() -> list[tuple[str, str]]:
    files = []
    for package in ("aims_mlops.catalog", "aims_mlops.config", "aims_mlops.genai"):
        root = importlib.resources.files(package)
        for path in sorted(Path(str(root)).rglob("*.yaml")):
            files.append((path.name, path.read_text(encoding="utf-8")))
    return files


@pytest.mark.parametrize(("name", "text"), _shipped_yaml(), ids=lambda v: v[:30])
def test_libyaml_reads_every_shipped_file_as_the_pure_python_loader_does(
    name: str, text: str
) -> None:
    assert _yaml.c_loader_fits(text)
    assert _yaml.safe_load(text) == yaml.safe_load(text)


def test_a_document_nested_deeper_than_the_limit_is_left_to_the_pure_python_loader() -> None:
    deep = "a: " + "[" * (_yaml.MAX_C_DEPTH + 1) + "]" * (_yaml.MAX_C_DEPTH + 1)
    assert not _yaml.c_loader_fits(deep)
    assert _yaml.c_loader_fits("a: " + "[" * 10 + "]" * 10)


def test_a_yaml_error_reads_as_the_pure_python_loader_words_it() -> None:
    broken = "a: [1, 2\nb: 3\n"
    with pytest.raises(yaml.YAMLError) as pure:
        yaml.safe_load(broken)
    with pytest.raises(yaml.YAMLError) as ours:
        _yaml.safe_load(broken)
    assert str(ours.value) == str(pure.value)


BROKEN_CONFIGS = [
    "version: 1\norganization: {name: x\n",  # a YAML syntax error
    "version: 1\nversion: 1\n",  # a duplicate key
    "- a\n- b\n",  # not a mapping
    "version: 1\norganization:\n  name: Org\n  aims_scope: 3\n",  # a field error with its line
    "version: 1\n\tb: 2\n",  # a tab
    "a: &x [1, 2]\nb: *x\nc: *y\n",  # an unknown alias
]


@pytest.mark.parametrize("text", BROKEN_CONFIGS)
def test_aims_yaml_errors_are_the_same_with_and_without_libyaml(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError) as fast:
        parse_config(text, source="aims.yaml")
    monkeypatch.setattr(_loader, "_FAST_LOADER", _loader._Loader)
    with pytest.raises(ConfigError) as pure:
        parse_config(text, source="aims.yaml")
    assert fast.value.problems == pure.value.problems


def test_the_example_reads_the_same_with_and_without_libyaml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = example_config_text()
    fast = parse_config(text)
    root_fast, _, _ = _loader._read_yaml(text, "aims.yaml")
    monkeypatch.setattr(_loader, "_FAST_LOADER", _loader._Loader)
    pure = parse_config(text)
    root_pure, _, _ = _loader._read_yaml(text, "aims.yaml")
    assert fast == pure
    # the same line for every location: errors found after loading point at the same lines
    for loc in [("systems", 0, "owner"), ("risks", 2, "controls", 1), ("soa", 3, "control")]:
        assert _loader._line_of(root_fast, loc) == _loader._line_of(root_pure, loc)
    assert _loader._line_of(root_fast, ("systems", 0, "owner")) > 1


def test_the_catalog_is_parsed_once_per_process() -> None:
    assert load_catalog() is load_catalog()


def test_aims_validate_proves_the_example_without_importing_great_expectations(
    tmp_path: Path,
) -> None:
    (tmp_path / "aims.yaml").write_text(example_config_text(), encoding="utf-8")
    script = (
        "import sys\n"
        "from aims_mlops.cli import cli\n"
        "try:\n"
        "    cli(['validate'], standalone_mode=False)\n"
        "finally:\n"
        "    print('GE imported' if 'great_expectations' in sys.modules else 'GE not imported')\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    assert "valid" in completed.stdout
    assert completed.stdout.strip().endswith("GE not imported")
