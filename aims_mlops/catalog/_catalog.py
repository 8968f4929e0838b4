"""The control catalog: ISO/IEC 42001 clauses and Annex A controls with their evidence rules."""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from aims_mlops._errors import CatalogError
from aims_mlops._yaml import safe_load
from aims_mlops.catalog._crosswalk import ERROR_UNKNOWN_FRAMEWORK, Crosswalk, load_crosswalks
from aims_mlops.catalog._rule import (
    ERROR_BAD_FIELD,
    ERROR_UNKNOWN_FIELD,
    EvidenceRule,
    RulePart,
    parse_rule,
    text_field,
)
from aims_mlops.evidence import KindRegistry, load_kinds

CATALOG_RESOURCE = "iso42001.yaml"

ERROR_MALFORMED = "{source}: not a catalog document: {problem}"
ERROR_BAD_ID = (
    "catalog entry #{index}: id must be a quoted string like '4.1' or 'A.6.2.4'; got {value!r}"
)
ERROR_MISSING_FIELD = "catalog entry {id}: missing required field {field!r}"
ERROR_DUPLICATE_ID = "catalog id {id!r} appears more than once"
ERROR_UNKNOWN_GROUP = "catalog entry {id}: its group {group!r} has no title under 'groups'"
ERROR_BAD_SCOPE = "catalog entry {id}: scope must be 'organization' or 'system'; got {value!r}"
ERROR_UNKNOWN_DERIVED_FROM = (
    "catalog entry {id}: derived_from names {ref!r}, which is not an id in the catalog"
)
ERROR_DERIVED_CYCLE = "catalog entry {id}: derived_from leads back to itself ({path})"
ERROR_UNKNOWN_ID = "unknown catalog id {id!r}; did you mean {matches}?"
ERROR_UNKNOWN_ID_NO_MATCH = (
    "unknown catalog id {id!r}; clause ids look like '4.1', Annex A control ids like 'A.6.2.4'"
)

_CLAUSE_ID = re.compile(r"^(?:[4-9]|10)(?:\.\d+){1,2}$")
_CONTROL_ID = re.compile(r"^A\.(?:[2-9]|10)(?:\.\d+){1,2}$")
_ENTRY_FIELDS = (
    "id",
    "title",
    "scope",
    "description",
    "evidence",
    "not_excludable",
    "blocks_certification",
    "not_excludable_when",
    "authority",
)
#: The condition of entries about suppliers: the lineage shows a third party's data or models.
THIRD_PARTY_LINEAGE = "third_party_lineage"
#: Conditions a catalog entry may name under ``not_excludable_when``: while one holds for a
#: system, the SoA cannot exclude the entry for it (``aims validate`` reports the exclusion).
EXCLUSION_CONDITIONS: tuple[str, ...] = (
    "external_model_supplier",
    # an in-scope high-risk system the organization provides: EU AI Act Art. 73 binds it to
    # report serious incidents externally
    "eu_ai_act_incident_reporting",
    # the evidence's lineage shows data or models from a third party (judged by the engine,
    # which also holds an attested supplier register to cover each of them)
    THIRD_PARTY_LINEAGE,
)


@dataclass(frozen=True, kw_only=True)
class CatalogEntry:
    """One ISO/IEC 42001 clause or Annex A control, described in this project's own words."""

    id: str
    title: str
    kind: Literal["clause", "control"]
    group: str
    group_title: str
    description: str
    scope: Literal["organization", "system"]
    rule: EvidenceRule
    #: why the Statement of Applicability may not exclude this control (None: it may)
    not_excludable: str | None = None
    #: why a certification audit cannot pass while this entry is not satisfied (None: it can)
    blocks_certification: str | None = None
    #: conditions of :data:`EXCLUSION_CONDITIONS` under which the SoA may not exclude the entry
    not_excludable_when: tuple[str, ...] = ()
    #: the role (aims.yaml ``people:``) whoever attests, approves, chairs or accepts for this
    #: entry must hold, checked at the act and again at judgement (None: no role needed)
    authority: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "group": self.group,
            "group_title": self.group_title,
            "description": self.description,
            "scope": self.scope,
            "rule": self.rule.to_dict(),
            "not_excludable": self.not_excludable,
            "blocks_certification": self.blocks_certification,
        }
        if self.not_excludable_when:
            data["not_excludable_when"] = list(self.not_excludable_when)
        if self.authority:
            data["authority"] = self.authority
        return data


class Catalog:
    """The ordered, validated set of catalog entries (clauses first, then Annex A controls)."""

    __slots__ = ("_by_id", "_by_kind", "crosswalks", "entries")

    entries: tuple[CatalogEntry, ...]
    crosswalks: Mapping[str, Crosswalk]
    _by_id: dict[str, CatalogEntry]
    _by_kind: dict[str, tuple[str, ...]]

    def __init__(
        self, *, entries: Iterable[CatalogEntry], crosswalks: Mapping[str, Crosswalk] | None = None
    ) -> None:
        self.entries = tuple(entries)
        self.crosswalks = dict(crosswalks or {})
        self._by_id = {}
        for entry in self.entries:
            if entry.id in self._by_id:
                raise CatalogError(ERROR_DUPLICATE_ID.format(id=entry.id))
            self._by_id[entry.id] = entry
        for entry in self.entries:
            for ref in entry.rule.derived_from:
                if ref not in self._by_id:
                    raise CatalogError(ERROR_UNKNOWN_DERIVED_FROM.format(id=entry.id, ref=ref))
        for entry in self.entries:
            self._check_acyclic(entry.id, (entry.id,))
        by_kind: dict[str, list[str]] = {}
        for entry in self.entries:
            for kind in entry.rule.kinds:
                by_kind.setdefault(kind, []).append(entry.id)
        self._by_kind = {kind: tuple(ids) for kind, ids in by_kind.items()}

    def _check_acyclic(self, current: str, path: tuple[str, ...]) -> None:
        for ref in self._by_id[current].rule.derived_from:
            if ref == path[0]:
                raise CatalogError(
                    ERROR_DERIVED_CYCLE.format(id=path[0], path=" -> ".join((*path, ref)))
                )
            if ref not in path:
                self._check_acyclic(ref, (*path, ref))

    def get(self, id: str) -> CatalogEntry:
        """The entry with this id; :class:`CatalogError` naming close matches if there is none."""
        entry = self._by_id.get(id)
        if entry is not None:
            return entry
        matches = difflib.get_close_matches(str(id), list(self._by_id), n=3, cutoff=0.6)
        if matches:
            raise CatalogError(ERROR_UNKNOWN_ID.format(id=id, matches=", ".join(matches)))
        raise CatalogError(ERROR_UNKNOWN_ID_NO_MATCH.format(id=id))

    def __getitem__(self, id: str) -> CatalogEntry:
        return self.get(id)

    def __contains__(self, id: object) -> bool:
        return id in self._by_id

    def __iter__(self) -> Iterator[CatalogEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"Catalog({len(self.clauses)} clauses, {len(self.controls)} controls)"

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    @property
    def clauses(self) -> tuple[CatalogEntry, ...]:
        return tuple(e for e in self.entries if e.kind == "clause")

    @property
    def controls(self) -> tuple[CatalogEntry, ...]:
        return tuple(e for e in self.entries if e.kind == "control")

    def controls_for_kind(self, kind: str) -> tuple[str, ...]:
        """The ids of the entries whose evidence rule names ``kind``, in catalog order.

        This is the one answer to "which controls does this evidence speak to": collectors,
        capture, reports and the gate ask here instead of keeping their own lists."""
        return self._by_kind.get(kind, ())

    @property
    def rule_kinds(self) -> tuple[str, ...]:
        """Every evidence kind some rule names, in the order the catalog first names them."""
        return tuple(self._by_kind)

    def crosswalk(self, framework: str) -> Crosswalk:
        """The crosswalk to ``framework`` (e.g. ``"nist-ai-rmf"``); CatalogError when unknown."""
        found = self.crosswalks.get(framework)
        if found is None:
            known = ", ".join(self.crosswalks) or "none"
            raise CatalogError(ERROR_UNKNOWN_FRAMEWORK.format(framework=framework, known=known))
        return found

    def describe(self, id: str) -> dict[str, Any]:
        """An entry as JSON-ready data, with the framework items every crosswalk maps onto it."""
        return {
            **self.get(id).to_dict(),
            "crosswalks": {
                framework: list(crosswalk.items_for(id))
                for framework, crosswalk in self.crosswalks.items()
            },
        }

    def groups(self) -> dict[str, str]:
        """Group id (``"4"``..``"10"``, ``"A.2"``..``"A.10"``) -> title, in catalog order."""
        return {e.group: e.group_title for e in self.entries}

    def is_automatable(self, id: str) -> bool:
        """True when the entry can be satisfied from captured evidence and aims.yaml alone.

        Every part of a rule must hold, so an entry is automatable when no part needs a person's
        attestation (an ``any_of`` part: when one of its options needs none) and the entries it
        derives from are automatable themselves.
        """
        return all(self._part_automatable(p) for p in self.get(id).rule.parts)

    def _part_automatable(self, part: RulePart) -> bool:
        if part.kind == "attestation":
            return False
        if part.kind == "any_of":
            return any(self._part_automatable(o) for o in part.options)
        if part.kind == "derived":
            return all(self.is_automatable(r) for r in part.entries)
        return True

    def automatable(self) -> tuple[CatalogEntry, ...]:
        """The Annex A controls satisfiable without a person's attestation."""
        return tuple(e for e in self.controls if self.is_automatable(e.id))


def _identify(index: int, entry_id: Any) -> tuple[str, Literal["clause", "control"], str]:
    """(id, kind, group) of an entry: the kind and group follow from the id's shape."""
    if isinstance(entry_id, str) and _CLAUSE_ID.match(entry_id):
        return entry_id, "clause", entry_id.split(".")[0]
    if isinstance(entry_id, str) and _CONTROL_ID.match(entry_id):
        return entry_id, "control", ".".join(entry_id.split(".")[:2])
    raise CatalogError(ERROR_BAD_ID.format(index=index, value=entry_id))


def _required_text(entry_id: str, raw: Mapping[str, Any], field: str) -> str:
    text = text_field(entry_id, raw, field)
    if text is None:
        raise CatalogError(ERROR_MISSING_FIELD.format(id=entry_id, field=field))
    return text


def _names(entry_id: str, raw: Mapping[str, Any], field: str) -> tuple[str, ...]:
    value = raw.get(field) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(
            ERROR_BAD_FIELD.format(
                id=entry_id, field=field, expected="a list of strings", value=value
            )
        )
    return tuple(value)


def _check_fields(entry_id: str, raw: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for field in raw:
        if field not in allowed:
            raise CatalogError(
                ERROR_UNKNOWN_FIELD.format(id=entry_id, field=field, allowed=", ".join(allowed))
            )


def _parse_entry(
    index: int, raw: Any, group_titles: Mapping[str, str], kinds: KindRegistry
) -> CatalogEntry:
    if not isinstance(raw, Mapping):
        raise CatalogError(ERROR_BAD_ID.format(index=index, value=raw))
    entry_id, kind, group = _identify(index, raw.get("id"))
    _check_fields(entry_id, raw, _ENTRY_FIELDS)
    if group not in group_titles:
        raise CatalogError(ERROR_UNKNOWN_GROUP.format(id=entry_id, group=group))
    title = _required_text(entry_id, raw, "title")
    description = _required_text(entry_id, raw, "description")
    scope = raw.get("scope")
    if scope not in ("organization", "system"):
        raise CatalogError(ERROR_BAD_SCOPE.format(id=entry_id, value=scope))
    if "evidence" not in raw:
        raise CatalogError(ERROR_MISSING_FIELD.format(id=entry_id, field="evidence"))
    rule = parse_rule(entry_id, scope, raw["evidence"], kinds)
    conditions = _names(entry_id, raw, "not_excludable_when")
    for condition in conditions:
        if condition not in EXCLUSION_CONDITIONS:
            raise CatalogError(
                ERROR_BAD_FIELD.format(
                    id=entry_id,
                    field="not_excludable_when",
                    expected="conditions among " + ", ".join(EXCLUSION_CONDITIONS),
                    value=list(conditions),
                )
            )
    return CatalogEntry(
        id=entry_id,
        title=title,
        kind=kind,
        group=group,
        group_title=group_titles[group],
        description=description,
        scope=scope,
        rule=rule,
        not_excludable=text_field(entry_id, raw, "not_excludable"),
        blocks_certification=text_field(entry_id, raw, "blocks_certification"),
        not_excludable_when=conditions,
        authority=text_field(entry_id, raw, "authority"),
    )


def parse_catalog(
    text: str,
    *,
    source: str = CATALOG_RESOURCE,
    kinds: KindRegistry | None = None,
    crosswalks: bool = False,
) -> Catalog:
    """Build and validate a :class:`Catalog` from catalog YAML text (see ``iso42001.yaml``).

    Rules may name the evidence kinds of ``kinds`` (default: :func:`load_kinds`, the built-in
    kinds and those of installed entry points); ``crosswalks=True`` also loads and checks the
    crosswalk files shipped in the package against the entries."""
    registry = kinds if kinds is not None else load_kinds()
    try:
        data = safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(ERROR_MALFORMED.format(source=source, problem=exc)) from exc
    if not isinstance(data, Mapping):
        raise CatalogError(ERROR_MALFORMED.format(source=source, problem="expected a mapping"))
    groups = data.get("groups")
    if not isinstance(groups, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in groups.items()
    ):
        raise CatalogError(
            ERROR_MALFORMED.format(
                source=source, problem="'groups' must map quoted group ids to titles"
            )
        )
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list):
        raise CatalogError(
            ERROR_MALFORMED.format(source=source, problem="'entries' must be a list")
        )
    entries = [_parse_entry(i, raw, groups, registry) for i, raw in enumerate(raw_entries)]
    links = (
        load_crosswalks(
            catalog_ids=[e.id for e in entries],
            control_ids=[e.id for e in entries if e.kind == "control"],
            kinds=registry.names,
        )
        if crosswalks
        else {}
    )
    return Catalog(entries=entries, crosswalks=links)


@functools.cache
def load_catalog() -> Catalog:
    """The catalog shipped with aims_mlops (read once, then cached)."""
    resource = importlib.resources.files("aims_mlops.catalog").joinpath(CATALOG_RESOURCE)
    return parse_catalog(
        resource.read_text(encoding="utf-8"), source=CATALOG_RESOURCE, crosswalks=True
    )
