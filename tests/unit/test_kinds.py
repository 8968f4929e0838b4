"""Evidence kinds and crosswalks: one registry, one source of which controls a kind serves."""

from __future__ import annotations

import ast
import importlib
import re
import sys
from pathlib import Path

import pytest

from aims_mlops import CatalogError, EvidenceError
from aims_mlops.catalog import _crosswalk as X
from aims_mlops.catalog import load_catalog, parse_catalog
from aims_mlops.evidence import (
    DEFAULT_KINDS,
    ENTRY_POINT_GROUP,
    EvidenceKind,
    KindRegistry,
    build_registry,
    load_kinds,
)
from aims_mlops.evidence import _kinds as K

PACKAGE = Path(__file__).resolve().parents[2] / "aims_mlops"
CONTROL_ID = re.compile(r"^(?:A\.(?:[2-9]|10)(?:\.\d+){1,2}|(?:[4-9]|10)(?:\.\d+){1,2})$")

#: Control ids that code outside the catalog may name, and why: none of them says which
#: controls a kind of evidence serves.
ALLOWED_ID_LITERALS: dict[tuple[str, str], str] = {
    ("demo.py", "A.2.2"): "the demo, acting as a user, attests to the AI policy",
    ("demo.py", "5.2"): "the demo, acting as a user, attests to the AI policy",
    ("engine/_derived.py", "5.2"): "awareness (7.3) is of the AI policy, which 5.2 approves",
    ("reports/_audit.py", "9.3.1"): "the management review pack is about clause 9.3",
    ("reports/_audit.py", "9.3.2"): "the management review pack is about clause 9.3",
    ("reports/_audit.py", "9.3.3"): "the management review pack is about clause 9.3",
    ("judgement/_ledger.py", "7.5.3"): "a deletion or rewrite of the record history is a "
    "failure to protect documented information (7.5.3), whatever kind the record was",
}


def _resolve(dotted: str) -> object:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_every_built_in_kind_has_a_producer_and_is_used_by_the_catalog() -> None:
    catalog = load_catalog()
    for kind in DEFAULT_KINDS:
        assert callable(_resolve(kind.producer)), kind.name
        assert kind.description and kind.action, kind.name
        if kind.role in ("evidence", "duty"):
            assert catalog.controls_for_kind(kind.name), f"no catalog rule names {kind.name}"
    assert set(catalog.rule_kinds) == {
        k.name for k in DEFAULT_KINDS if k.role in ("evidence", "duty")
    }


def test_controls_for_kind_is_what_the_rules_say() -> None:
    catalog = load_catalog()
    for kind in catalog.rule_kinds:
        expected = tuple(e.id for e in catalog if kind in e.rule.kinds)
        assert catalog.controls_for_kind(kind) == expected
    assert catalog.controls_for_kind("lineage.model") == ("A.7.5",)
    assert "A.7.3" in catalog.controls_for_kind("lineage.datasets")
    assert catalog.controls_for_kind("no.such.kind") == ()


def test_no_code_outside_the_catalog_names_a_control_id() -> None:
    found: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("catalog/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and CONTROL_ID.match(node.value)
                and (relative, node.value) not in ALLOWED_ID_LITERALS
            ):
                found.append(f"{relative}:{node.lineno}: {node.value!r}")
    assert not found, "control ids belong to the catalog's rules:\n" + "\n".join(found)


def test_a_registry_refuses_a_name_it_holds() -> None:
    registry = build_registry(entry_points=False)
    twin = EvidenceKind(
        name="fairness", producer="x.y", description="d", action="a", source="other-plugin"
    )
    with pytest.raises(EvidenceError) as err:
        registry.register(twin)
    assert str(err.value) == K.ERROR_DUPLICATE_KIND.format(
        name="fairness", existing="aims_mlops", source="other-plugin"
    )
    assert registry.get("fairness").source == "aims_mlops"


def test_kind_names_are_checked() -> None:
    with pytest.raises(EvidenceError) as err:
        EvidenceKind(name="Data Quality", producer="x.y", description="d", action="a")
    assert str(err.value) == K.ERROR_BAD_KIND_NAME.format(name="Data Quality")
    with pytest.raises(EvidenceError) as err:
        KindRegistry().get("nope")
    assert str(err.value) == K.ERROR_UNKNOWN_KIND.format(name="nope", known="")


def _install_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    """A real installed distribution with an ``aims_mlops.evidence_kinds`` entry point."""
    (tmp_path / "aims_toy_plugin.py").write_text(body)
    dist = tmp_path / "aims_toy_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: aims-toy-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\ntoy = aims_toy_plugin:KINDS\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "aims_toy_plugin", raising=False)


TOY_KIND = """
from aims_mlops.evidence import EvidenceKind
KINDS = [EvidenceKind(name="toy.audit_log", producer="aims_toy_plugin.collect",
                      description="a toy", action="`toy collect`", source="aims-toy-plugin")]
def collect(): ...
"""


def test_a_third_party_kind_registers_through_its_entry_point_and_rules_may_name_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_plugin(tmp_path, monkeypatch, TOY_KIND)
    registry = build_registry()
    assert registry.get("toy.audit_log").source == "aims-toy-plugin"
    text = """
groups: {"A.6": AI system life cycle}
entries:
  - id: "A.6.2.8"
    title: AI system recording of event logs
    scope: system
    description: Event logs are kept.
    evidence: {kinds: [toy.audit_log]}
"""
    catalog = parse_catalog(text, source="toy.yaml", kinds=registry)
    assert catalog.controls_for_kind("toy.audit_log") == ("A.6.2.8",)
    assert "`toy collect`" in catalog.get("A.6.2.8").rule.how_to_close
    with pytest.raises(CatalogError):
        parse_catalog(text, source="toy.yaml", kinds=build_registry(entry_points=False))


def test_a_third_party_kind_cannot_replace_a_built_in_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_plugin(tmp_path, monkeypatch, TOY_KIND.replace("toy.audit_log", "fairness"))
    with pytest.raises(EvidenceError) as err:
        build_registry()
    assert "already registered (by aims_mlops)" in str(err.value)


def test_the_shipped_registry_holds_the_defaults_in_order() -> None:
    assert load_kinds().names[: len(DEFAULT_KINDS)] == tuple(k.name for k in DEFAULT_KINDS)


# ----------------------------------------------------------------------------- crosswalks
VOCABULARY = """
id: toy-framework
title: Toy Framework 1
source: made up for a test
last_checked: "2026-12-01"
groups: {G: Governance}
items:
  - {id: T1, title: First, group: G}
  - {id: T2}
"""


def _crosswalk(text: str) -> X.Crosswalk:
    return X.parse_crosswalk(
        text,
        source="crosswalks/toy.yaml",
        framework=X.parse_vocabulary(VOCABULARY, source="frameworks/toy-framework.yaml"),
        catalog_ids=["4.1", "A.5.4"],
        control_ids=["A.5.4"],
        kinds=["fairness"],
    )


def test_a_crosswalk_maps_framework_items_onto_catalog_entries() -> None:
    crosswalk = _crosswalk(
        "framework: toy-framework\nevery_control: true\nitems:\n"
        "  - {id: T1, maps_to: ['A.5.4', '4.1'], kinds: [fairness]}\n"
        "  - {id: T2, maps_to: ['4.1']}\n"
    )
    assert crosswalk.items_for("4.1") == ("T1", "T2")
    assert crosswalk.to_dict()["items"][0] == {
        "id": "T1",
        "title": "First",
        "group": "G",
        "maps_to": ["A.5.4", "4.1"],
        "kinds": ["fairness"],
    }


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (
            "  - {id: T9, maps_to: ['4.1']}\n",
            X.ERROR_UNKNOWN_ITEM.format(
                source="crosswalks/toy.yaml",
                item="T9",
                framework="Toy Framework 1",
                vocabulary="frameworks/toy-framework.yaml",
            ),
        ),
        (
            "  - {id: T1, maps_to: ['A.9.9']}\n",
            X.ERROR_UNKNOWN_TARGET.format(source="crosswalks/toy.yaml", item="T1", target="A.9.9"),
        ),
        (
            "  - {id: T1, maps_to: ['A.5.4'], kinds: [bias]}\n",
            X.ERROR_UNKNOWN_CROSSWALK_KIND.format(
                source="crosswalks/toy.yaml", item="T1", kind="bias"
            ),
        ),
        (
            "  - {id: T1, maps_to: ['4.1']}\n",
            X.ERROR_CONTROL_NOT_COVERED.format(
                source="crosswalks/toy.yaml", control="A.5.4", framework="Toy Framework 1"
            ),
        ),
        (
            "  - {id: T1, maps_to: []}\n",
            X.ERROR_EMPTY_MAPPING.format(source="crosswalks/toy.yaml", item="T1"),
        ),
    ],
)
def test_a_crosswalk_is_checked_against_its_vocabulary_and_the_catalog(
    items: str, expected: str
) -> None:
    with pytest.raises(CatalogError) as err:
        _crosswalk("framework: toy-framework\nevery_control: true\nitems:\n" + items)
    assert str(err.value) == expected


def test_unknown_framework_names_the_known_ones() -> None:
    with pytest.raises(CatalogError) as err:
        load_catalog().crosswalk("iso-27001")
    assert str(err.value) == X.ERROR_UNKNOWN_FRAMEWORK.format(
        framework="iso-27001", known="eu-ai-act, nist-ai-rmf"
    )
