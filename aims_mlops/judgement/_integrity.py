"""Integrity at the store/judgement boundary: which read records count as evidence.

:func:`screen` applies :func:`aims_mlops.evidence.check_record` to every record a read returned
(with the run it was read from) and adds the read's own findings (altered, unreadable,
duplicated): the engine gets only records that passed, and a finding for every one that did
not. :func:`trust_policy` builds the policy from aims.yaml ``trust:``;
:func:`integrity_summary` is what the summary, the report and ``verify`` say about it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aims_mlops.evidence import (
    EvidenceRecord,
    IntegrityFinding,
    TrustPolicy,
    check_record,
    finding_for,
    load_kinds,
    load_public_key,
)
from aims_mlops.evidence._documents import DocumentScope
from aims_mlops.evidence._trust import resolve_key_path
from aims_mlops.ledger import policy_for

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig


def trust_policy(config: AimsConfig, config_path: str | Path) -> TrustPolicy:
    """The trust policy of ``config`` (key files relative to the folder of ``config_path``):
    the pipeline keys of ``trust:`` and the keys ``people:`` sign their own acts with."""
    base = Path(config_path).parent
    return policy_for(config, lambda path: load_public_key(resolve_key_path(path, base)))


def document_scope(config: AimsConfig, config_path: str | Path) -> DocumentScope:
    """Where ``config``'s attested documents may be read: the folder of ``config_path`` and its
    ``documents.roots``."""
    return DocumentScope.of(Path(config_path).parent, config.documents.roots)


def screen(
    records: Iterable[EvidenceRecord],
    *,
    policy: TrustPolicy,
    clock: datetime,
    run_ids: Mapping[str, str] | None = None,
    findings: Iterable[IntegrityFinding] = (),
) -> tuple[list[EvidenceRecord], list[IntegrityFinding]]:
    """(records that may count as evidence, findings): ``findings`` (the read's own) and one
    for every record that fails :func:`check_record` under ``policy`` at ``clock``."""
    kinds = load_kinds()
    runs = run_ids or {}
    kept: list[EvidenceRecord] = []
    found = list(findings)
    for record in records:
        run_id = runs.get(record.id)
        why = check_record(record, policy=policy, kinds=kinds, clock=clock, run_id=run_id)
        if why is None:
            kept.append(record)
        else:
            found.append(finding_for(record, why, run_id=run_id))
    return kept, list(dict.fromkeys(found))


def integrity_summary(
    policy: TrustPolicy, findings: Iterable[IntegrityFinding], *, system: str | None = None
) -> dict[str, Any]:
    """``{"signed", "require_signatures", "public_keys", "note", "findings"}``; with
    ``system``, only the findings about it (or naming no system)."""
    chosen = [f for f in findings if system is None or f.system in (None, system)]
    return {**policy.to_dict(), "findings": [f.to_dict() for f in chosen]}


def integrity_lines(
    policy: TrustPolicy, findings: Iterable[IntegrityFinding], *, system: str | None = None
) -> list[str]:
    """The integrity block of a text output: the note, then one line per finding."""
    chosen = [f for f in findings if system is None or f.system in (None, system)]
    head = "integrity: " + policy.note()
    if chosen:
        head += f"; {len(chosen)} record{'s' * (len(chosen) != 1)} failed verification"
    return [head, *(f"  {f.reason}" for f in chosen)]
