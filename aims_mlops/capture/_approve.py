"""``aims config approve``: a person of top management signs the working copy of aims.yaml.

The working copy is recorded (a ``configuration`` record, signed with the pipeline key) unless
the store already holds that content, then approved (a ``configuration_approval`` record signed
with the approver's own key, following the latest approval). Before anything is written the
approval is checked as the ledger will check it: the first approval in a store (trust on first
use) by a person the configuration names with the role ``top_management``, with one of their
keys; every later one with a key the *previous* approved configuration lists for a person of
top management. A refused approval writes nothing.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from aims_mlops._errors import AimsError
from aims_mlops.capture._acts import act_context, act_signing_key
from aims_mlops.capture._context import CaptureContext
from aims_mlops.capture._writer import emit
from aims_mlops.catalog import load_catalog
from aims_mlops.config import load_config
from aims_mlops.config._diff import config_changes
from aims_mlops.config._models import ROLE_TOP_MANAGEMENT, named_person
from aims_mlops.engine._programme import same_person
from aims_mlops.engine._risk import ACCEPTANCE_NO_DOCUMENT, acceptor_problem, treatment_entries
from aims_mlops.evidence import new_record
from aims_mlops.judgement._configuration import read_ledger
from aims_mlops.ledger import approval_record, configuration_record, snapshot_of
from aims_mlops.store import make_store

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig, Risk
    from aims_mlops.evidence import EvidenceRecord, SigningKey
    from aims_mlops.ledger import Link, Snapshot
    from aims_mlops.store import EvidenceStore

ERROR_NOT_AUTHORISED = (
    "refused, nothing recorded: {name} with key {key_id} is not trusted for top management by "
    "{basis}; {hint}"
)
BASIS_FIRST = "the configuration being approved (the store's first approval)"
BASIS_PREVIOUS = "the previously approved configuration (#{sequence}, approved by {by})"
HINT_FIRST = "the first approval is by a person listed in people: with the role top_management"
HINT_PREVIOUS = (
    "a change (of trust: and people: too) takes effect only when approved with a key the "
    "previous approved configuration trusts for top management"
)


class ApprovalError(AimsError):
    """The approval would not count: refused before anything is written."""


@dataclass(frozen=True, kw_only=True)
class Approval:
    """What ``aims config approve`` did."""

    approval: EvidenceRecord | None
    configuration: EvidenceRecord
    sequence: int
    by: str
    key_id: str
    changes: tuple[str, ...]
    #: True for the store's first approval: its key is the chain's root (an auditor pins it)
    root: bool
    #: True when the working copy was already the latest approved configuration
    unchanged: bool = False
    #: ``SHA256:<hex>`` of the approver's public key
    fingerprint: str = ""


def fingerprint(key: SigningKey) -> str:
    """``SHA256:<hex>`` of the raw public key (the key id is its first 16 hex digits)."""
    return "SHA256:" + hashlib.sha256(key.public_key.raw).hexdigest()


def _authorised(basis: Snapshot, name: str, key_id: str) -> bool:
    person = named_person(basis.config, name)
    if person is None or not person.has_role(ROLE_TOP_MANAGEMENT):
        return False
    return any(basis.keys[p].key_id == key_id for p in person.public_keys if p in basis.keys)


def approve_configuration(
    *,
    config_path: str | os.PathLike[str],
    by: str | None,
    key: SigningKey | str | os.PathLike[str] | None,
    store: EvidenceStore | None = None,
    now: datetime | None = None,
) -> Approval:
    """Record and approve the working copy at ``config_path`` (see the module docstring)."""
    path = Path(config_path)
    working = snapshot_of(path)
    cfg = working.config
    evidence_store = store or make_store(cfg)
    ledger, _ = read_ledger(evidence_store, working=working)
    head: Link | None = ledger.head
    name, signing = act_signing_key(cfg, config_path=path, by=by, key=key)
    if signing is None or name is None:
        raise ApprovalError(
            ERROR_NOT_AUTHORISED.format(
                name=by or "nobody", key_id="(none)", basis=BASIS_FIRST, hint=HINT_FIRST
            )
        )
    basis = head.snapshot if head is not None else working
    if not _authorised(basis, name, signing.key_id):
        basis_text = (
            BASIS_PREVIOUS.format(sequence=head.sequence, by=head.by)
            if head is not None
            else BASIS_FIRST
        )
        raise ApprovalError(
            ERROR_NOT_AUTHORISED.format(
                name=name,
                key_id=signing.key_id,
                basis=basis_text,
                hint=HINT_PREVIOUS if head is not None else HINT_FIRST,
            )
        )
    recorded = ledger.recorded(working)
    if head is not None and head.snapshot.identity == working.identity:
        return Approval(
            approval=None,
            configuration=head.configuration,
            sequence=head.sequence,
            by=head.by,
            key_id=head.key_id,
            changes=(),
            root=False,
            unchanged=True,
        )
    pipeline = CaptureContext.from_config(cfg, store=evidence_store, config_path=path)
    if recorded is None:
        recorded = emit(pipeline, configuration_record(working, now=now))
    changes = (
        tuple(
            config_changes(
                head.snapshot.config,
                cfg,
                old_keys=head.snapshot.key_ids(),
                new_keys=working.key_ids(),
            )
        )
        if head is not None
        else ("first approved configuration",)
    )
    approval = approval_record(
        configuration=recorded, by=name, previous=head, changes=changes, now=now
    )
    # the writer signs it with the approver's key; the checkpoint is the pipeline's
    stored = emit(replace(pipeline, act_key=signing), approval)
    return Approval(
        approval=stored,
        configuration=recorded,
        sequence=head.sequence + 1 if head is not None else 1,
        by=name,
        key_id=signing.key_id,
        changes=changes,
        root=head is None,
        fingerprint=fingerprint(signing),
    )


ERROR_NO_ACCEPTANCE = (
    "risk {risk!r} declares no acceptance in aims.yaml (risks[].acceptance: {{by, on}}); "
    "declare it, have the configuration approved, then sign it"
)
ERROR_ACCEPTANCE_REFUSED = "risk {risk!r} is not accepted, nothing was recorded: {problem}"
ERROR_NOT_THE_ACCEPTOR = (
    "risk {risk!r} is accepted by {declared} in aims.yaml; {name} cannot sign that acceptance"
)


def acceptance_refusal(cfg: AimsConfig, risk: Risk) -> str | None:
    """Why judgement would refuse ``risk``'s declared acceptance whatever its signature (None:
    it would not): the acceptor lacks the authority of the risk-treatment entries, or the
    acceptance keeps a risk above the appetite and names no document."""
    acceptance = risk.acceptance
    if acceptance is None:
        return None
    catalog = load_catalog()
    entries = treatment_entries(catalog)
    problem = acceptor_problem(
        cfg, acceptance.by, entries=entries, roles={e: catalog.get(e).authority for e in entries}
    )
    if problem is not None:
        return problem
    kept = risk.score if risk.treatment == "accept" else risk.residual_score
    if not cfg.risk_criteria.accepts(kept) and not (acceptance.document or "").strip():
        return ACCEPTANCE_NO_DOCUMENT.format(by=acceptance.by)
    return None


def accept_risk(
    risk_id: str,
    *,
    config_path: str | os.PathLike[str],
    key: SigningKey | str | os.PathLike[str] | None,
    by: str | None = None,
    store: EvidenceStore | None = None,
) -> EvidenceRecord:
    """Record the signed acceptance of ``risk_id`` by the person aims.yaml names in its
    ``acceptance.by`` (their own key): once people list keys, an acceptance above the appetite
    counts only with this record."""
    cfg = load_config(config_path)
    risk = next((r for r in cfg.risks if r.id == risk_id), None)
    if risk is None:
        known = ", ".join(r.id for r in cfg.risks) or "none"
        raise AimsError(f"unknown risk {risk_id!r}; declared risks: {known}")
    acceptance = risk.acceptance
    if acceptance is None:
        raise AimsError(ERROR_NO_ACCEPTANCE.format(risk=risk_id))
    problem = acceptance_refusal(cfg, risk)
    if problem is not None:
        raise AimsError(ERROR_ACCEPTANCE_REFUSED.format(risk=risk_id, problem=problem))
    name, context = act_context(
        config_path, by=by or acceptance.by, key=key, system=risk.system, store=store
    )
    if name is None or not same_person(name, acceptance.by):
        raise AimsError(
            ERROR_NOT_THE_ACCEPTOR.format(risk=risk_id, declared=acceptance.by, name=name)
        )
    record = new_record(
        kind="risk_acceptance",
        system=risk.system,
        outcome="info",
        collector="aims_mlops.accept_risk",
        details={
            "risk": risk.id,
            "by": name,
            "acted_by": name,
            "on": acceptance.on.isoformat(),
            "until": acceptance.until.isoformat() if acceptance.until else None,
            "document": acceptance.document,
            "residual_score": risk.residual_score,
            "appetite": cfg.risk_criteria.appetite,
        },
        config_digest=context.config_digest,
    )
    return emit(context, record)
