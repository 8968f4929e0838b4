"""Which configuration a verdict is judged with: the approved one, read from the store's ledger.

:func:`read_ledger` reads the ``configuration`` and ``configuration_approval`` records (the
evidence experiment's organization-level runs) and resolves the approved chain
(:func:`aims_mlops.ledger.resolve_ledger`); :func:`configuration_state` compares the working copy
with it. A verdict uses the configuration approved and in force at the moment judged; with no
approved configuration, or with ``--draft``, it uses the working copy and says it is a draft.
:func:`rejudge` holds a captured record to the thresholds of the configuration judged with
(re-judged from its metrics), so a record captured under a loosened working copy counts for what
it measured, not for the bar it was held to.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aims_mlops.collectors._fairness import name_worst_feature
from aims_mlops.collectors._thresholds import judge_thresholds
from aims_mlops.config._diff import config_changes
from aims_mlops.evidence import load_public_key
from aims_mlops.ledger import LEDGER_KINDS, Ledger, Link, Snapshot, resolve_ledger

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig
    from aims_mlops.evidence import EvidenceRecord, IntegrityFinding
    from aims_mlops.store import EvidenceStore

#: Public key files (separated by the OS path separator) an auditor pins as the chain's root.
ENV_TRUSTED_KEYS = "AIMS_TRUSTED_KEYS"

NOTE_DRAFT_NO_APPROVAL = (
    "DRAFT: no approved configuration in this store; every verdict is a draft until "
    "`aims config approve --by NAME --key FILE` (a person of top_management)"
)
NOTE_DRAFT_ASKED = (
    "DRAFT: judged with the working copy of aims.yaml (--draft), not the approved one"
)
NOTE_DRAFT_BEFORE = "DRAFT: no configuration was approved by {moment}; judged with the working copy"
NOTE_APPROVED = (
    "configuration: approved #{sequence} by {by} on {on} (key {key_id}; chain root key {root})"
)
NOTE_UNAPPROVED = "unapproved changes: {changes}"
NOTE_NOT_RECORDED = "the working copy of aims.yaml is not yet recorded in the store"
#: Changes named on one line before the rest are counted.
CHANGES_ON_A_LINE = 5

#: the check a fairness record fails when measured per attribute while the configuration
#: judged with requires intersectional groups
GROUPS_CHECK = "fairness_groups"
REASON_GROUPS_REQUIRED = (
    "measured per sensitive attribute (fairness_groups: each), but the configuration judged "
    "with requires intersectional groups (fairness_groups: intersection): measure it again "
    "over the combinations of {features}"
)
#: the check a fairness record fails when it measured fewer sensitive features than the
#: configuration judged with declares (a result over ``sex`` alone says nothing about ``race``)
FEATURES_CHECK = "sensitive_features"
REASON_FEATURES_MISSING = (
    "measured over {measured}, but the configuration judged with declares sensitive_features "
    "{declared}: {missing} not measured; measure it again over every declared feature"
)
#: kind -> the systems[] section whose thresholds a record of that kind is held to.
_THRESHOLD_SECTIONS = {"fairness": "fairness", "performance": "performance"}


@dataclass(frozen=True, kw_only=True)
class ConfigurationState:
    """Which configuration a verdict used and how the working copy relates to it."""

    #: judged with the working copy (no approved configuration, or ``--draft``)
    draft: bool
    #: why it is a draft (None: judged with an approved configuration)
    draft_reason: str | None = None
    #: the approved configuration in force at the moment judged (None: none was)
    in_force: Link | None = None
    #: the latest approved configuration (what the working copy is compared with)
    head: Link | None = None
    #: what the working copy changes against the latest approved configuration
    unapproved_changes: tuple[str, ...] = ()
    #: the key id of the chain's first approval (what an auditor pins)
    root_key: str | None = None
    #: whether the working copy's content is recorded in the store's ledger
    working_recorded: bool = False
    working_identity: str | None = None

    @property
    def approved(self) -> bool:
        return not self.draft and self.in_force is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "draft": self.draft,
            "draft_reason": self.draft_reason,
            "approved_configuration": self.in_force.to_dict() if self.in_force else None,
            "latest_approved": self.head.to_dict() if self.head else None,
            "unapproved_changes": list(self.unapproved_changes),
            "root_key": self.root_key,
            "working_copy": {
                "identity": self.working_identity,
                "recorded": self.working_recorded,
            },
        }

    def lines(self) -> list[str]:
        """What every text output says about the configuration it was judged with."""
        out: list[str] = []
        if self.draft:
            out.append(self.draft_reason or NOTE_DRAFT_ASKED)
        if self.in_force is not None and not self.draft:
            link = self.in_force
            out.append(
                NOTE_APPROVED.format(
                    sequence=link.sequence,
                    by=link.by,
                    on=link.approval.collected_at[:19],
                    key_id=link.key_id,
                    root=self.root_key,
                )
            )
        if self.unapproved_changes:
            out.append(unapproved_line(self.unapproved_changes))
        return out


def unapproved_line(changes: Sequence[str]) -> str:
    """``unapproved changes: a; b; ... (and N more)``."""
    shown = "; ".join(changes[:CHANGES_ON_A_LINE])
    more = len(changes) - CHANGES_ON_A_LINE
    if more > 0:
        shown += f" (and {more} more; `aims config status` lists them)"
    return NOTE_UNAPPROVED.format(changes=shown)


def pinned_key_ids(files: Iterable[str | os.PathLike[str]] | None = None) -> frozenset[str]:
    """The key ids of ``files`` (default: ``$AIMS_TRUSTED_KEYS``), the root keys an auditor
    pins; :class:`~aims_mlops.evidence.SigningKeyError` for a file that is not a public key."""
    if files is None:
        value = os.environ.get(ENV_TRUSTED_KEYS, "").strip()
        files = [p for p in value.split(os.pathsep) if p.strip()] if value else []
    return frozenset(load_public_key(Path(f)).key_id for f in files)


def read_ledger(
    store: EvidenceStore, *, pinned: Iterable[str] = (), working: Snapshot | None = None
) -> tuple[Ledger, list[Any]]:
    """The store's ledger (its records are the evidence experiment's organization-level
    ``configuration`` and ``configuration_approval`` records) and the read's own findings;
    ``working`` (the working copy) saves parsing a recorded text of the same identity."""
    read = store.read(kinds=LEDGER_KINDS, experiment_ids=[], organization_only=True)
    ledger_records = [r for r in read.records if r.kind in LEDGER_KINDS and r.system is None]
    known = (working,) if working is not None else ()
    return resolve_ledger(ledger_records, pinned=pinned, known=known), list(read.findings)


def configuration_state(
    ledger: Ledger,
    working: Snapshot,
    *,
    moment: Any = None,
    draft: bool = False,
) -> ConfigurationState:
    """How ``working`` relates to ``ledger`` when judging at ``moment`` (None: now)."""
    head = ledger.head
    in_force = ledger.at(moment)
    changes: tuple[str, ...] = ()
    if head is not None and head.snapshot.identity != working.identity:
        changes = tuple(
            config_changes(
                head.snapshot.config,
                working.config,
                old_keys=head.snapshot.key_ids(),
                new_keys=working.key_ids(),
            )
        ) or ("the text's layout and comments only",)
    reason = None
    if draft:
        reason = NOTE_DRAFT_ASKED
    elif in_force is None:
        reason = (
            NOTE_DRAFT_NO_APPROVAL
            if head is None or moment is None
            else NOTE_DRAFT_BEFORE.format(moment=moment.isoformat(timespec="seconds"))
        )
    return ConfigurationState(
        draft=reason is not None,
        draft_reason=reason,
        in_force=in_force,
        head=head,
        unapproved_changes=changes,
        root_key=ledger.root_key,
        working_recorded=ledger.recorded(working) is not None,
        working_identity=working.identity,
    )


def without_ledger_records(
    records: Iterable[EvidenceRecord], findings: Iterable[IntegrityFinding]
) -> tuple[list[EvidenceRecord], list[IntegrityFinding]]:
    """The ledger's records are judged by the chain, not by the evidence screen."""
    kinds = set(LEDGER_KINDS)
    return (
        [r for r in records if r.kind not in kinds],
        [f for f in findings if f.kind not in kinds],
    )


def _verdicts(checks: Any) -> list[tuple[Any, Any]]:
    if not isinstance(checks, list | tuple):
        return []
    return [(c.get("metric"), c.get("passed")) for c in checks if hasattr(c, "get")]


def _fairness_groups(
    record: EvidenceRecord, system: Any, outcome: str, held: list[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]]]:
    """A fairness record's outcome and checks under the groups the configuration requires: a
    record measured per attribute (``details.fairness_groups: each``) fails when intersectional
    groups are required; its reasons name the worst attribute when ``each`` is allowed. An
    intersectional record counts under ``each`` as it is (the values it was judged on bound the
    per-attribute ones)."""
    if record.details.get("fairness_groups") != "each":
        return outcome, held
    if system.fairness_groups == "intersection":
        features = record.details.get("sensitive_features") or ["the sensitive features"]
        refused = {
            "check": GROUPS_CHECK,
            "metric": None,
            "passed": False,
            "reason": REASON_GROUPS_REQUIRED.format(features=" x ".join(map(str, features))),
        }
        return "fail", [refused, *held]
    by_feature = record.details.get("by_feature")
    worst = record.details.get("worst_feature")
    if isinstance(by_feature, Mapping) and isinstance(worst, Mapping):
        held = name_worst_feature(held, by_feature, worst)
    return outcome, held


def _features_covered(
    record: EvidenceRecord, system: Any, outcome: str, held: list[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]]]:
    """A fairness record fails when it leaves out a sensitive feature the system declares, or
    names none (a record that cannot show what it measured shows nothing: missing is never
    better than failing; arrays without names are named ``sensitive_feature_<i>``)."""
    declared = [str(f) for f in system.sensitive_features]
    measured = record.details.get("sensitive_features")
    measured = [str(f) for f in measured] if isinstance(measured, list | tuple) else []
    missing = [f for f in declared if f not in measured]
    if not missing:
        return outcome, held
    refused = {
        "check": FEATURES_CHECK,
        "metric": None,
        "passed": False,
        "reason": REASON_FEATURES_MISSING.format(
            measured=", ".join(measured) or "no named feature",
            declared=", ".join(declared),
            missing=", ".join(missing),
        ),
    }
    return "fail", [refused, *held]


def _kept_checks(record: EvidenceRecord) -> list[dict[str, Any]]:
    """The record's failing checks that no threshold judges (an undefined or degenerate
    measurement, groups it could not measure): the approved thresholds re-judge the metrics, they
    never clear what the metrics cannot show."""
    checks = record.details.get("checks")
    if not isinstance(checks, list | tuple):
        return []
    return [
        dict(c)
        for c in checks
        if isinstance(c, Mapping) and c.get("metric") is None and c.get("passed") is False
    ]


def rejudge(records: Iterable[EvidenceRecord], config: AimsConfig) -> list[EvidenceRecord]:
    """Each fairness and performance record judged again from its metrics against the
    thresholds ``config`` declares for its system (the outcome the record claims is replaced
    when the configuration judged with holds it to another bar)."""
    systems = {s.id: s for s in config.systems}
    out: list[EvidenceRecord] = []
    for record in records:
        section = _THRESHOLD_SECTIONS.get(record.kind)
        system = systems.get(record.system) if isinstance(record.system, str) else None
        if section is None or system is None or record.outcome not in ("pass", "fail", "info"):
            out.append(record)
            continue
        declared = getattr(system, section) or {}
        thresholds = {name: bound.as_bound() for name, bound in declared.items()}
        if not thresholds:
            out.append(record)
            continue
        checks = judge_thresholds(dict(record.metrics), thresholds)
        held = [*_kept_checks(record), *(c.to_dict() for c in checks)]
        outcome = "pass" if all(c.get("passed") for c in held) else "fail"
        if record.kind == "fairness":
            outcome, held = _fairness_groups(record, system, outcome, held)
            outcome, held = _features_covered(record, system, outcome, held)
        if outcome == record.outcome and _verdicts(held) == _verdicts(record.details.get("checks")):
            out.append(record)
            continue
        details = {
            **record.details,
            "checks": held,
            "captured_outcome": record.outcome,
            "judged_against": "the thresholds of the configuration judged with",
        }
        out.append(replace(record, outcome=outcome, details=details))
    return out
