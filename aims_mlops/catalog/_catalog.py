"""The control catalog: ISO/IEC 42001 clauses and Annex A controls with their evidence rules."""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import yaml

from aims_mlops._errors import CatalogError
from aims_mlops.catalog._crosswalk import ERROR_UNKNOWN_FRAMEWORK, Crosswalk, load_crosswalks
from aims_mlops.evidence import KindRegistry, load_kinds

CATALOG_RESOURCE = "iso42001.yaml"
DEFAULT_FRESH_DAYS = 365

#: Declarations in ``aims.yaml`` that a rule may name; the engine implements each.
CONFIG_CHECKS: tuple[str, ...] = (
    "owner_named",
    "scope_declared",
    "intended_use_declared",
    "requirements_declared",
    "thresholds_declared",
    "impact_assessment",
    "risk_register",
    "risk_treatment",
    "soa_decided",
    "monitoring_declared",
)

ERROR_MALFORMED = "{source}: not a catalog document: {problem}"
ERROR_BAD_ID = (
    "catalog entry #{index}: id must be a quoted string like '4.1' or 'A.6.2.4'; got {value!r}"
)
ERROR_MISSING_FIELD = "catalog entry {id}: missing required field {field!r}"
ERROR_UNKNOWN_FIELD = "catalog entry {id}: unknown field {field!r}; allowed: {allowed}"
ERROR_BAD_FIELD = "catalog entry {id}: {field} must be {expected}; got {value!r}"
ERROR_DUPLICATE_ID = "catalog id {id!r} appears more than once"
ERROR_UNKNOWN_GROUP = "catalog entry {id}: its group {group!r} has no title under 'groups'"
ERROR_BAD_SCOPE = "catalog entry {id}: scope must be 'organization' or 'system'; got {value!r}"
ERROR_UNKNOWN_KIND = "catalog entry {id}: unknown evidence kind {kind!r}; known kinds: {known}"
ERROR_UNKNOWN_CONFIG_CHECK = (
    "catalog entry {id}: unknown config_check {name!r}; known checks: {known}"
)
ERROR_UNKNOWN_DERIVED_FROM = (
    "catalog entry {id}: derived_from names {ref!r}, which is not an id in the catalog"
)
ERROR_DERIVED_CYCLE = "catalog entry {id}: derived_from leads back to itself ({path})"
ERROR_BAD_FRESH_DAYS = (
    "catalog entry {id}: fresh_days must be a whole number of days greater than 0; got {value!r}"
)
ERROR_NO_EVIDENCE_PATH = (
    "catalog entry {id}: its evidence rule names no kinds, derived_from, config_check or "
    "attestation, so it could never be satisfied"
)
ERROR_UNKNOWN_ID = "unknown catalog id {id!r}; did you mean {matches}?"
ERROR_UNKNOWN_ID_NO_MATCH = (
    "unknown catalog id {id!r}; clause ids look like '4.1', Annex A control ids like 'A.6.2.4'"
)

_CLAUSE_ID = re.compile(r"^(?:[4-9]|10)(?:\.\d+){1,2}$")
_CONTROL_ID = re.compile(r"^A\.(?:[2-9]|10)(?:\.\d+){1,2}$")
_ENTRY_FIELDS = ("id", "title", "scope", "description", "evidence", "not_excludable_when")
#: Conditions a catalog entry may name under ``not_excludable_when``: while one holds for a
#: system, the SoA cannot exclude the entry for it (``aims validate`` reports the exclusion).
EXCLUSION_CONDITIONS: tuple[str, ...] = ("external_model_supplier",)
_RULE_FIELDS = (
    "kinds",
    "derived_from",
    "config_check",
    "attestation",
    "fresh_days",
    "follows_monitoring_interval",
    "how_to_close",
)

_CONFIG_ACTIONS: dict[str, str] = {
    "owner_named": "declare systems[].owner in aims.yaml",
    "scope_declared": (
        "declare organization.aims_scope and each system's in_scope (with scope_reason when "
        "false) in aims.yaml"
    ),
    "intended_use_declared": "declare systems[].intended_use in aims.yaml",
    "requirements_declared": (
        "declare systems[].intended_use and systems[].performance thresholds in aims.yaml"
    ),
    "thresholds_declared": (
        "declare systems[].performance and systems[].fairness thresholds in aims.yaml"
    ),
    "impact_assessment": (
        "add an impact_assessments[] entry for the system in aims.yaml, with a recent assessed_on"
    ),
    "risk_register": "list the system's risks[] with likelihood and impact in aims.yaml",
    "risk_treatment": (
        "give every risks[] entry above risk_criteria.appetite a treatment, treating controls "
        "and residual in aims.yaml"
    ),
    "soa_decided": (
        "decide every Annex A control under soa[] in aims.yaml (exclusions need a justification)"
    ),
    "monitoring_declared": "declare systems[].monitoring in aims.yaml",
}


@dataclass(frozen=True, kw_only=True)
class EvidenceRule:
    """What satisfies a catalog entry: any one of the ways it names (they are alternatives).

    ``kinds``: every kind the rule names; ``kind_groups``: what this way needs, a current passing
    record for each group, of any one kind of the group (a group of one: that kind).
    ``derived_from``: each named entry must be satisfied.
    ``config_check``: a declaration in ``aims.yaml`` the engine checks.
    ``attestation``: the document a named person must attest to (``None``: not attestable).
    """

    kinds: tuple[str, ...] = ()
    kind_groups: tuple[tuple[str, ...], ...] = ()
    derived_from: tuple[str, ...] = ()
    config_check: str | None = None
    attestation: str | None = None
    fresh_days: int = DEFAULT_FRESH_DAYS
    follows_monitoring_interval: bool = False
    how_to_close: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kinds": [list(g) if len(g) > 1 else g[0] for g in self.kind_groups],
            "derived_from": list(self.derived_from),
            "config_check": self.config_check,
            "attestation": self.attestation,
            "fresh_days": self.fresh_days,
            "follows_monitoring_interval": self.follows_monitoring_interval,
            "how_to_close": self.how_to_close,
        }


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
    #: conditions of :data:`EXCLUSION_CONDITIONS` under which the SoA may not exclude the entry
    not_excludable_when: tuple[str, ...] = ()

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
        }
        if self.not_excludable_when:
            data["not_excludable_when"] = list(self.not_excludable_when)
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

        A rule is satisfied by any one of its ways (evidence kinds, a config declaration, the
        entries it derives from, an attestation), so an entry is automatable when it has a way
        other than attestation: evidence kinds, a config check, or derived entries that are all
        automatable themselves.
        """
        rule = self.get(id).rule
        if rule.kinds or rule.config_check:
            return True
        return bool(rule.derived_from) and all(self.is_automatable(r) for r in rule.derived_from)

    def automatable(self) -> tuple[CatalogEntry, ...]:
        """The Annex A controls satisfiable without a person's attestation."""
        return tuple(e for e in self.controls if self.is_automatable(e.id))


def _how_to_close(entry_id: str, scope: str, rule: EvidenceRule, kinds: KindRegistry) -> str:
    """The action(s) that would close a gap on this rule: the ways to satisfy it, joined by "or"
    (any one way satisfies the rule; within the evidence way every group of kinds is needed)."""
    ways: list[str] = []
    if rule.derived_from:
        ways.append("close " + ", ".join(rule.derived_from) + " for the system")
    kind_actions: list[str] = []
    for group in rule.kind_groups:
        actions = list(dict.fromkeys(kinds.get(k).action for k in group))
        if not any(a in kind_actions for a in actions):
            kind_actions.append(" or ".join(actions))
    if kind_actions:
        ways.append("; then ".join(kind_actions))
    if rule.config_check is not None:
        ways.append(_CONFIG_ACTIONS[rule.config_check])
    if rule.attestation is not None:
        target = "--system SYSTEM" if scope == "system" else "--org"
        ways.append(
            f'`aims attest {entry_id} {target} --by "<name>" --document <url-or-path>`'
            f" ({rule.attestation})"
        )
    return "; or ".join(ways)


def _identify(index: int, entry_id: Any) -> tuple[str, Literal["clause", "control"], str]:
    """(id, kind, group) of an entry: the kind and group follow from the id's shape."""
    if isinstance(entry_id, str) and _CLAUSE_ID.match(entry_id):
        return entry_id, "clause", entry_id.split(".")[0]
    if isinstance(entry_id, str) and _CONTROL_ID.match(entry_id):
        return entry_id, "control", ".".join(entry_id.split(".")[:2])
    raise CatalogError(ERROR_BAD_ID.format(index=index, value=entry_id))


def _required_text(entry_id: str, raw: Mapping[str, Any], field: str) -> str:
    text = _text(entry_id, raw, field)
    if text is None:
        raise CatalogError(ERROR_MISSING_FIELD.format(id=entry_id, field=field))
    return text


def _text(entry_id: str, raw: Mapping[str, Any], field: str) -> str | None:
    """A whitespace-normalized string field, or None when absent."""
    if raw.get(field) is None:
        return None
    value = raw[field]
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(
            ERROR_BAD_FIELD.format(
                id=entry_id, field=field, expected="a non-empty string", value=value
            )
        )
    return " ".join(value.split())


def _names(entry_id: str, raw: Mapping[str, Any], field: str) -> tuple[str, ...]:
    value = raw.get(field) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(
            ERROR_BAD_FIELD.format(
                id=entry_id, field=field, expected="a list of strings", value=value
            )
        )
    return tuple(value)


def _kind_groups(entry_id: str, raw: Mapping[str, Any]) -> tuple[tuple[str, ...], ...]:
    """``kinds: [a, [b, c]]``: kind ``a``, and one of ``b`` or ``c``."""
    value = raw.get("kinds") or []
    groups: list[tuple[str, ...]] = []
    for item in value if isinstance(value, list) else [value]:
        group = (item,) if isinstance(item, str) else item
        if not isinstance(group, list | tuple) or not group or not all(
            isinstance(k, str) for k in group
        ):
            raise CatalogError(
                ERROR_BAD_FIELD.format(
                    id=entry_id,
                    field="kinds",
                    expected="a list of kinds (a nested list: any one of those kinds)",
                    value=value,
                )
            )
        groups.append(tuple(group))
    return tuple(groups)


def _check_fields(entry_id: str, raw: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for field in raw:
        if field not in allowed:
            raise CatalogError(
                ERROR_UNKNOWN_FIELD.format(id=entry_id, field=field, allowed=", ".join(allowed))
            )


def _parse_rule(entry_id: str, scope: str, raw: Any, kinds: KindRegistry) -> EvidenceRule:
    if not isinstance(raw, Mapping):
        raise CatalogError(
            ERROR_BAD_FIELD.format(id=entry_id, field="evidence", expected="a mapping", value=raw)
        )
    _check_fields(entry_id, raw, _RULE_FIELDS)
    kind_groups = _kind_groups(entry_id, raw)
    rule_kinds = tuple(dict.fromkeys(k for group in kind_groups for k in group))
    evidence_kinds = [k.name for k in kinds.with_role("evidence")]
    for kind in rule_kinds:
        if kind not in evidence_kinds:
            raise CatalogError(
                ERROR_UNKNOWN_KIND.format(id=entry_id, kind=kind, known=", ".join(evidence_kinds))
            )
    derived_from = _names(entry_id, raw, "derived_from")
    config_check = _text(entry_id, raw, "config_check")
    if config_check is not None and config_check not in CONFIG_CHECKS:
        raise CatalogError(
            ERROR_UNKNOWN_CONFIG_CHECK.format(
                id=entry_id, name=config_check, known=", ".join(CONFIG_CHECKS)
            )
        )
    attestation = _text(entry_id, raw, "attestation")
    fresh_days = raw.get("fresh_days", DEFAULT_FRESH_DAYS)
    if isinstance(fresh_days, bool) or not isinstance(fresh_days, int) or fresh_days <= 0:
        raise CatalogError(ERROR_BAD_FRESH_DAYS.format(id=entry_id, value=fresh_days))
    follows = raw.get("follows_monitoring_interval", False)
    if not isinstance(follows, bool):
        raise CatalogError(
            ERROR_BAD_FIELD.format(
                id=entry_id,
                field="follows_monitoring_interval",
                expected="true or false",
                value=follows,
            )
        )
    if not (rule_kinds or derived_from or config_check or attestation):
        raise CatalogError(ERROR_NO_EVIDENCE_PATH.format(id=entry_id))
    rule = EvidenceRule(
        kinds=rule_kinds,
        kind_groups=kind_groups,
        derived_from=derived_from,
        config_check=config_check,
        attestation=attestation,
        fresh_days=fresh_days,
        follows_monitoring_interval=follows,
    )
    how_to_close = _text(entry_id, raw, "how_to_close")
    return replace(rule, how_to_close=how_to_close or _how_to_close(entry_id, scope, rule, kinds))


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
    rule = _parse_rule(entry_id, scope, raw["evidence"], kinds)
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
        not_excludable_when=conditions,
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
        data = yaml.safe_load(text)
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
