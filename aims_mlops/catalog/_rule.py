"""Evidence rules: the parts that together satisfy a catalog entry.

A rule is a list of parts and an entry is satisfied only when EVERY part holds:

- ``declared``: a declaration in ``aims.yaml`` the engine checks (``owner_named``, ...);
- ``evidence``: a current passing record of an evidence kind (a list: of any one of those kinds);
- ``attestation``: a named person vouches for a document;
- ``derived``: other catalog entries are satisfied (or not applicable), or, for the engine's
  derived checks such as ``risk_treatment``, the risk evaluation says so;
- ``any_of``: one of several parts (for example a delivered system card, or an attestation
  that the information was published).

In YAML a rule either lists ``parts:`` or uses the shorthand fields ``kinds`` (each item a part;
a nested list is one part of alternative kinds), ``config_check``, ``attestation`` and
``derived_from``, each of which becomes a part.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aims_mlops._errors import CatalogError
from aims_mlops.evidence import KindRegistry

DEFAULT_FRESH_DAYS = 365

PartKind = Literal["declared", "evidence", "attestation", "derived", "any_of"]

#: Declarations in ``aims.yaml`` that a rule may name; the engine implements each.
CONFIG_CHECKS: tuple[str, ...] = (
    "owner_named",
    "scope_declared",
    "intended_use_declared",
    "requirements_declared",
    "thresholds_declared",
    "impact_assessment",
    "risk_register",
    "risk_review",
    "risk_treatment",
    "nonconformities_raised",
    "soa_decided",
    "monitoring_declared",
    "log_retention_declared",
    "audit_programme",
    "people_trained",
    "policy_acknowledged",
    "document_index",
    "document_versions",
    "improvements_verified",
    "changes_approved",
)

#: Where a rule's freshness may come from instead of ``fresh_days``: an interval aims.yaml
#: declares for the AIMS processes (``audit_programme.interval_days``,
#: ``management_review.interval_days``).
INTERVAL_SOURCES: tuple[str, ...] = ("audit_programme", "management_review")

#: Checks the engine derives from its own verdicts (the risk evaluation), not from the text.
DERIVED_CHECKS: frozenset[str] = frozenset(
    {
        "risk_treatment",
        "nonconformities_raised",
        "people_trained",
        "policy_acknowledged",
        "document_index",
        "document_versions",
        "improvements_verified",
        "changes_approved",
    }
)

#: What each check requires, in words (the part's ``requirement``).
CHECK_REQUIREMENTS: dict[str, str] = {
    "people_trained": "every person in aims.yaml people has current training on record",
    "policy_acknowledged": (
        "every person in aims.yaml people acknowledged the current approved AI policy"
    ),
    "document_index": "the index of attested documents, each with its current SHA-256",
    "document_versions": (
        "each attested document of the set carries a version, one content per version"
    ),
    "improvements_verified": "implemented improvements: corrective actions verified effective",
    "changes_approved": "the approved configuration history (the change log of the AIMS)",
    "owner_named": "aims.yaml names the system's accountable owner",
    "scope_declared": "aims.yaml declares the AIMS scope and which systems are in it",
    "intended_use_declared": "aims.yaml declares the system's intended use",
    "requirements_declared": (
        "aims.yaml declares the system's intended use and its performance, fairness or data "
        "requirements"
    ),
    "thresholds_declared": "aims.yaml declares performance or fairness thresholds",
    "impact_assessment": (
        "a current impact assessment of the system (for the version in production)"
    ),
    "risk_register": "the system's risks are registered with likelihood and impact",
    "risk_review": "a current review of the system's risks (for the version in production)",
    "risk_treatment": (
        "every risk is within the appetite after treatment, or its acceptance is approved"
    ),
    "soa_decided": (
        "the Statement of Applicability is decided and no exclusion is contradicted by evidence"
    ),
    "nonconformities_raised": "every failing entry has a nonconformity raised for it",
    "monitoring_declared": "aims.yaml declares how the system is monitored",
    "log_retention_declared": "aims.yaml declares how long the system's request traces are kept",
    "audit_programme": (
        "aims.yaml declares the internal audit programme (interval and scope) and internal "
        "audits by independent auditors cover its scope within the interval"
    ),
}

_CHECK_ACTIONS: dict[str, str] = {
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
        "add an impact_assessments[] entry for the system in aims.yaml, with a recent assessed_on "
        "and the model_version it assessed"
    ),
    "risk_register": "list the system's risks[] with likelihood and impact in aims.yaml",
    "risk_review": (
        "add a risk_reviews[] entry for the system in aims.yaml (reviewed_by, reviewed_on, "
        "model_version)"
    ),
    "risk_treatment": (
        "treat every risk above risk_criteria.appetite with controls satisfied by evidence, or "
        "record its approved acceptance (risks[].acceptance)"
    ),
    "soa_decided": (
        "decide every Annex A control under soa[] in aims.yaml (exclusions need a justification "
        "and no evidence may contradict them)"
    ),
    "nonconformities_raised": (
        "`aims nonconformities` raises one for every failing entry; then `aims nc update` with "
        "the root cause and action"
    ),
    "monitoring_declared": "declare systems[].monitoring in aims.yaml",
    "log_retention_declared": "declare systems[].genai.traces.retention_days in aims.yaml",
    "audit_programme": (
        "declare audit_programme (interval_days, scope) in aims.yaml and record an internal "
        'audit of its scope within the interval: `aims record internal-audit --auditor "<name>" '
        "--scope IDS --report REPORT`"
    ),
    "people_trained": (
        'record each person\'s training: `aims record training --person "<name>" --topic '
        '"<topic>" --date YYYY-MM-DD [--evidence FILE]`'
    ),
    "policy_acknowledged": (
        "attest the AI policy (AIMS-05, `aims docs init`) and have each person acknowledge it: "
        '`aims record acknowledgement --person "<name>" --document AIMS-05`'
    ),
    "document_index": (
        "write the document set (`aims docs init`), complete and attest its documents "
        "(`aims attest`): the index is generated from the attestations"
    ),
    "document_versions": (
        "give each document of the set a version in its header and raise it on every change "
        "before attesting again"
    ),
    "improvements_verified": (
        "carry a corrective action through: `aims nc update` (action), then `aims nc verify` "
        "(effectiveness)"
    ),
    "changes_approved": (
        "approve each change of aims.yaml (the configuration history), or attest the log of "
        "planned changes (AIMS-09)"
    ),
}

ERROR_BAD_FIELD = "catalog entry {id}: {field} must be {expected}; got {value!r}"
ERROR_UNKNOWN_FIELD = "catalog entry {id}: unknown field {field!r}; allowed: {allowed}"
ERROR_UNKNOWN_KIND = "catalog entry {id}: unknown evidence kind {kind!r}; known kinds: {known}"
ERROR_UNKNOWN_CONFIG_CHECK = (
    "catalog entry {id}: unknown config_check {name!r}; known checks: {known}"
)
ERROR_BAD_FRESH_DAYS = (
    "catalog entry {id}: fresh_days must be a whole number of days greater than 0; got {value!r}"
)
ERROR_NO_EVIDENCE_PATH = (
    "catalog entry {id}: its evidence rule names no kinds, derived_from, config_check or "
    "attestation, so it could never be satisfied"
)
ERROR_BAD_PART = (
    "catalog entry {id}: each part must be one of {{declared: CHECK}}, {{evidence: KIND or "
    "[KINDS]}}, {{attestation: DOCUMENT}}, {{derived: [IDS]}} or {{any_of: [PARTS]}}; got {value!r}"
)
ERROR_PARTS_AND_SHORTHAND = (
    "catalog entry {id}: give either parts or the shorthand fields {fields}, not both"
)

RULE_FIELDS = (
    "parts",
    "kinds",
    "derived_from",
    "config_check",
    "attestation",
    "fresh_days",
    "follows_monitoring_interval",
    "interval_from",
    "coverage",
    "how_to_close",
)
_SHORTHAND = ("kinds", "derived_from", "config_check", "attestation")


@dataclass(frozen=True, kw_only=True)
class RulePart:
    """One part of a rule. ``kind`` says which field holds its content."""

    kind: PartKind
    check: str | None = None  # declared, or derived from the engine's risk evaluation
    kinds: tuple[str, ...] = ()  # evidence: any one of these kinds
    document: str | None = None  # attestation
    entries: tuple[str, ...] = ()  # derived from these catalog entries
    options: tuple[RulePart, ...] = ()  # any_of
    holding: tuple[str, ...] = ()  # evidence: what the record must hold for this part too
    #: evidence: the assessment was done (a current record, whatever its result: the result is
    #: judged by the entries that verify it)
    done: bool = False

    @property
    def json_kind(self) -> str:
        """The part's kind as reported: a derived check reports ``derived``."""
        if self.kind == "declared" and self.check in DERIVED_CHECKS:
            return "derived"
        return self.kind

    def requirement(self) -> str:
        """What the part requires, in words."""
        if self.kind == "declared":
            return CHECK_REQUIREMENTS[str(self.check)]
        if self.kind == "evidence":
            held = f" holding {', '.join(self.holding)}" if self.holding else ""
            if self.done:
                return f"a current {' or '.join(self.kinds)} record{held} (the assessment done)"
            return f"a current passing {' or '.join(self.kinds)} record{held}"
        if self.kind == "attestation":
            return f"an attestation of {self.document}"
        if self.kind == "derived":
            return f"{', '.join(self.entries)} satisfied (or not applicable)"
        return "one of: " + "; or ".join(o.requirement() for o in self.options)

    def walk(self) -> Iterator[RulePart]:
        """This part and, for ``any_of``, every option within it."""
        yield self
        for option in self.options:
            yield from option.walk()

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "declared":
            return {self.json_kind: self.check}
        if self.kind == "evidence":
            data: dict[str, Any] = {"evidence": list(self.kinds)}
            if self.holding:
                data["holding"] = list(self.holding)
            if self.done:
                data["done"] = True
            return data
        if self.kind == "attestation":
            return {"attestation": self.document}
        if self.kind == "derived":
            return {"derived": list(self.entries)}
        return {"any_of": [o.to_dict() for o in self.options]}


@dataclass(frozen=True, kw_only=True)
class EvidenceRule:
    """What satisfies a catalog entry: every one of its ``parts``."""

    parts: tuple[RulePart, ...] = ()
    fresh_days: int = DEFAULT_FRESH_DAYS
    follows_monitoring_interval: bool = False
    #: an interval aims.yaml declares that replaces ``fresh_days`` (``INTERVAL_SOURCES``)
    interval_from: str | None = None
    #: report (and, when the system sets ``monitoring.min_coverage``, enforce) how many of the
    #: expected monitoring intervals ran
    coverage: bool = False
    how_to_close: str = ""
    #: the action that closes each part, aligned with ``parts``
    part_actions: tuple[str, ...] = ()

    def actions_for(self, open_parts: Sequence[int]) -> str:
        """The actions that close the parts at these positions (all: ``how_to_close``)."""
        actions = list(dict.fromkeys(self.part_actions[i] for i in open_parts))
        return "; and ".join(actions) if actions else self.how_to_close

    def _all(self) -> Iterator[RulePart]:
        for part in self.parts:
            yield from part.walk()

    @property
    def kinds(self) -> tuple[str, ...]:
        """Every evidence kind some part names."""
        return tuple(dict.fromkeys(k for p in self._all() if p.kind == "evidence" for k in p.kinds))

    @property
    def derived_from(self) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(e for p in self._all() if p.kind == "derived" for e in p.entries)
        )

    @property
    def config_checks(self) -> tuple[str, ...]:
        return tuple(p.check for p in self._all() if p.kind == "declared" and p.check)

    @property
    def config_check(self) -> str | None:
        """The first declared check (rules rarely have more than one)."""
        return next(iter(self.config_checks), None)

    @property
    def attestations(self) -> tuple[str, ...]:
        return tuple(p.document for p in self._all() if p.kind == "attestation" and p.document)

    @property
    def attestation(self) -> str | None:
        """The document a person may attest to (None: not attestable)."""
        return next(iter(self.attestations), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "parts": [p.to_dict() for p in self.parts],
            "kinds": list(self.kinds),
            "derived_from": list(self.derived_from),
            "config_check": self.config_check,
            "attestation": self.attestation,
            "fresh_days": self.fresh_days,
            "follows_monitoring_interval": self.follows_monitoring_interval,
            "interval_from": self.interval_from,
            "coverage": self.coverage,
            "how_to_close": self.how_to_close,
        }


# ------------------------------------------------------------------------------------ parsing
def _bad(entry_id: str, field: str, expected: str, value: Any) -> CatalogError:
    return CatalogError(
        ERROR_BAD_FIELD.format(id=entry_id, field=field, expected=expected, value=value)
    )


def text_field(entry_id: str, raw: Mapping[str, Any], field: str) -> str | None:
    """A whitespace-normalized string field, or None when absent."""
    if raw.get(field) is None:
        return None
    value = raw[field]
    if not isinstance(value, str) or not value.strip():
        raise _bad(entry_id, field, "a non-empty string", value)
    return " ".join(value.split())


def _strings(entry_id: str, field: str, value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        raise _bad(entry_id, field, "a kind or a non-empty list of them", value)
    return tuple(items)


class _PartParser:
    def __init__(self, entry_id: str, kinds: KindRegistry) -> None:
        self.entry_id = entry_id
        self.evidence_kinds = [
            k.name for k in (*kinds.with_role("evidence"), *kinds.with_role("duty"))
        ]

    def evidence(self, value: Any) -> RulePart:
        names = _strings(self.entry_id, "kinds", value)
        for kind in names:
            if kind not in self.evidence_kinds:
                raise CatalogError(
                    ERROR_UNKNOWN_KIND.format(
                        id=self.entry_id, kind=kind, known=", ".join(self.evidence_kinds)
                    )
                )
        return RulePart(kind="evidence", kinds=names)

    def declared(self, value: Any) -> RulePart:
        if not isinstance(value, str) or value not in CONFIG_CHECKS:
            raise CatalogError(
                ERROR_UNKNOWN_CONFIG_CHECK.format(
                    id=self.entry_id, name=value, known=", ".join(CONFIG_CHECKS)
                )
            )
        return RulePart(kind="declared", check=value)

    def attestation(self, value: Any) -> RulePart:
        text = text_field(self.entry_id, {"attestation": value}, "attestation")
        return RulePart(kind="attestation", document=text)

    def derived(self, value: Any) -> RulePart:
        if isinstance(value, str) and value in DERIVED_CHECKS:
            return RulePart(kind="declared", check=value)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise _bad(self.entry_id, "derived_from", "a list of catalog ids", value)
        return RulePart(kind="derived", entries=tuple(value))

    def part(self, raw: Any) -> RulePart:
        if isinstance(raw, Mapping) and "evidence" in raw and set(raw) - {"evidence"} and (
            set(raw) <= {"evidence", "holding", "done"}
        ):
            base = self.evidence(raw["evidence"])
            holding = (
                _strings(self.entry_id, "holding", raw["holding"]) if "holding" in raw else ()
            )
            done = raw.get("done", False)
            if not isinstance(done, bool):
                raise _bad(self.entry_id, "done", "true or false", done)
            return RulePart(kind="evidence", kinds=base.kinds, holding=holding, done=done)
        if not isinstance(raw, Mapping) or len(raw) != 1:
            raise CatalogError(ERROR_BAD_PART.format(id=self.entry_id, value=raw))
        ((key, value),) = raw.items()
        if key == "any_of":
            if not isinstance(value, list) or len(value) < 2:
                raise CatalogError(ERROR_BAD_PART.format(id=self.entry_id, value=raw))
            return RulePart(kind="any_of", options=tuple(self.part(v) for v in value))
        method = {
            "declared": self.declared,
            "evidence": self.evidence,
            "attestation": self.attestation,
            "derived": self.derived,
        }.get(key)
        if method is None:
            raise CatalogError(ERROR_BAD_PART.format(id=self.entry_id, value=raw))
        return method(value)

    def shorthand(self, raw: Mapping[str, Any]) -> list[RulePart]:
        parts: list[RulePart] = []
        kinds = raw.get("kinds") or []
        if not isinstance(kinds, list):
            raise _bad(self.entry_id, "kinds", "a list of kinds", kinds)
        parts.extend(self.evidence(item) for item in kinds)
        if raw.get("config_check") is not None:
            parts.append(self.declared(raw["config_check"]))
        if raw.get("derived_from"):
            parts.append(self.derived(raw["derived_from"]))
        if raw.get("attestation") is not None:
            parts.append(self.attestation(raw["attestation"]))
        return parts


def parse_rule(entry_id: str, scope: str, raw: Any, kinds: KindRegistry) -> EvidenceRule:
    """The rule of one catalog entry from its ``evidence`` mapping."""
    if not isinstance(raw, Mapping):
        raise _bad(entry_id, "evidence", "a mapping", raw)
    for field in raw:
        if field not in RULE_FIELDS:
            raise CatalogError(
                ERROR_UNKNOWN_FIELD.format(id=entry_id, field=field, allowed=", ".join(RULE_FIELDS))
            )
    parser = _PartParser(entry_id, kinds)
    if "parts" in raw:
        if any(raw.get(f) is not None for f in _SHORTHAND):
            raise CatalogError(
                ERROR_PARTS_AND_SHORTHAND.format(id=entry_id, fields=", ".join(_SHORTHAND))
            )
        if not isinstance(raw["parts"], list):
            raise _bad(entry_id, "parts", "a list of parts", raw["parts"])
        parts = [parser.part(p) for p in raw["parts"]]
    else:
        parts = parser.shorthand(raw)
    if not parts:
        raise CatalogError(ERROR_NO_EVIDENCE_PATH.format(id=entry_id))
    fresh_days = raw.get("fresh_days", DEFAULT_FRESH_DAYS)
    if isinstance(fresh_days, bool) or not isinstance(fresh_days, int) or fresh_days <= 0:
        raise CatalogError(ERROR_BAD_FRESH_DAYS.format(id=entry_id, value=fresh_days))
    follows = raw.get("follows_monitoring_interval", False)
    if not isinstance(follows, bool):
        raise _bad(entry_id, "follows_monitoring_interval", "true or false", follows)
    interval = raw.get("interval_from")
    if interval is not None and interval not in INTERVAL_SOURCES:
        raise _bad(entry_id, "interval_from", f"one of {', '.join(INTERVAL_SOURCES)}", interval)
    coverage = raw.get("coverage", False)
    if not isinstance(coverage, bool):
        raise _bad(entry_id, "coverage", "true or false", coverage)
    rule = EvidenceRule(
        parts=tuple(parts), fresh_days=fresh_days, follows_monitoring_interval=follows
    )
    how_to_close = text_field(entry_id, raw, "how_to_close")
    return EvidenceRule(
        parts=rule.parts,
        fresh_days=fresh_days,
        follows_monitoring_interval=follows,
        interval_from=interval,
        coverage=coverage,
        how_to_close=how_to_close or how_to_close_text(entry_id, scope, rule, kinds),
        part_actions=tuple(_action(p, entry_id, scope, kinds) for p in rule.parts),
    )


def _action(part: RulePart, entry_id: str, scope: str, kinds: KindRegistry) -> str:
    if part.kind == "declared":
        return _CHECK_ACTIONS[str(part.check)]
    if part.kind == "evidence":
        return " or ".join(dict.fromkeys(kinds.get(k).action for k in part.kinds))
    if part.kind == "attestation":
        target = "--system SYSTEM" if scope == "system" else "--org"
        return (
            f'`aims attest {entry_id} {target} --by "<name>" --document <url-or-path>`'
            f" ({part.document})"
        )
    if part.kind == "derived":
        return "close " + ", ".join(part.entries) + " for the system"
    return " or ".join(_action(o, entry_id, scope, kinds) for o in part.options)


def how_to_close_text(entry_id: str, scope: str, rule: EvidenceRule, kinds: KindRegistry) -> str:
    """The actions that would close a gap on this rule: every part's, joined by "; and "."""
    actions: list[str] = []
    produced: set[str] = set()  # single actions already listed
    for part in rule.parts:
        if part.kind == "evidence":
            singles = {kinds.get(k).action for k in part.kinds}
            if singles & produced:
                continue  # an action already listed produces this evidence too
            produced |= singles
        action = _action(part, entry_id, scope, kinds)
        if action not in actions:
            actions.append(action)
    return "; and ".join(actions)
