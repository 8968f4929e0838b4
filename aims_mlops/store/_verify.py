"""Verification of the live store: every evidence tag parsed (the reader's parse), checked
against the trust policy (:func:`aims_mlops.evidence.check_record`: signature with the trusted
public keys, well-formed, known kind and outcome, not from the future, on its own run) and, for
tags holding the record inline, its artifact present and equal to the tag; then the local
documents of the current attestations re-hashed (a changed or vanished document is a problem; a
URL one is noted as not verifiable by hash).

Slow by design: it downloads every run's ``aims/evidence`` folder.
"""

from __future__ import annotations

import glob
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from aims_mlops._errors import EvidenceError, StoreError
from aims_mlops.evidence import NO_TRUST, EvidenceRecord, TrustPolicy, check_record, load_kinds
from aims_mlops.evidence._documents import DocumentScope, document_findings
from aims_mlops.ledger import store_problem
from aims_mlops.store import _contract as contract
from aims_mlops.store import _search as search
from aims_mlops.store._connection import Connection

if TYPE_CHECKING:
    from mlflow.entities import Run


@dataclass(frozen=True)
class VerifyReport:
    """Integrity of stored evidence; each problem names the record id, run id and the fault.

    ``notes`` say what could not be checked (an attested URL is not verifiable by hash)."""

    checked: int
    intact: int
    problems: tuple[str, ...]
    #: the policy the records were checked against (no keys: the evidence is unsigned)
    trust: TrustPolicy = field(default=NO_TRUST)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Downloaded:
    """A run's downloaded ``aims/evidence`` folder (``root`` None: the run has none)."""

    root: Path | None

    def fetch(self, path: str) -> bytes | None:
        """The bytes of ``aims/evidence/...`` ``path``; None when absent or outside the folder."""
        prefix = f"{contract.EVIDENCE_ARTIFACT_DIR}/"
        if self.root is None or not path.startswith(prefix):
            return None
        relative = path[len(prefix) :]
        try:
            file = contract.contained(self.root, relative, record_id=path)
        except StoreError:
            return None
        if not file.is_file():
            return None
        return search.read_capped(file, shown=path)

    def find(self, record_id: str) -> str | None:
        """The artifact path of ``record_id`` under any kind folder (the tag named no kind)."""
        if self.root is None or not contract.SAFE_ID_RE.match(record_id):
            return None
        matches = sorted(self.root.glob(f"*/{glob.escape(record_id)}.json"))
        if not matches:
            return None
        return f"{contract.EVIDENCE_ARTIFACT_DIR}/{matches[0].relative_to(self.root).as_posix()}"


def _artifact_problems(stored: contract.StoredRecord, folder: _Downloaded) -> list[str]:
    """Faults of the artifact behind a tag that holds its record inline (or nothing readable):
    missing, unreadable, or not equal to the tag."""
    where = {"id": stored.record_id, "run_id": stored.run_id}
    decoded = stored.decoded
    try:
        path = (
            contract.artifact_path(decoded)
            if decoded is not None
            else folder.find(stored.record_id)
        )
    except StoreError as exc:  # a kind or id that would lead out of the folder: never read
        return [contract.PROBLEM_REFUSED.format(part="artifact path", error=exc, **where)]
    shown = path or f"{contract.EVIDENCE_ARTIFACT_DIR}/<kind>/{stored.record_id}.json"
    try:
        data = folder.fetch(path) if path is not None else None
    except contract.ArtifactTooLarge as exc:
        return [contract.PROBLEM_REFUSED.format(part=f"artifact {shown}", error=exc, **where)]
    if data is None:
        return [contract.PROBLEM_ARTIFACT_MISSING.format(path=shown, **where)]
    try:
        artifact = EvidenceRecord.from_json(data.decode("utf-8"))
    except (EvidenceError, AttributeError, UnicodeDecodeError) as exc:
        return [contract.PROBLEM_ARTIFACT_UNREADABLE.format(path=shown, error=exc, **where)]
    if decoded is not None and artifact.to_json() != decoded.to_json():
        return [contract.PROBLEM_ARTIFACT_DIFFERS.format(path=shown, **where)]
    return []


#: A record that parsed but fails the trust check.
PROBLEM_UNTRUSTED = "record {id} on run {run_id}: failed verification: {why}"


@dataclass(frozen=True, kw_only=True)
class _Check:
    """What every record of one verification is checked against."""

    trust: TrustPolicy
    clock: datetime
    #: this store's id and when it got it (None: it has none): records of another store fail
    store_id: str | None = None
    store_created_at: str | None = None


def verify_tag(
    run_id: str,
    record_id: str,
    value: str,
    folder: _Downloaded,
    check: _Check | None = None,
    *,
    intact_records: list[EvidenceRecord] | None = None,
) -> list[str]:
    """Every problem of one evidence tag and its artifact (an intact record is appended to
    ``intact_records`` when given)."""
    check = check or _Check(trust=NO_TRUST, clock=datetime.now(UTC))
    stored = contract.parse_stored(
        run_id=run_id, record_id=record_id, value=value, fetch=folder.fetch
    )
    problems = list(stored.problems)
    if stored.record is not None:
        why = check_record(
            stored.record,
            policy=check.trust,
            kinds=load_kinds(),
            clock=check.clock,
            run_id=run_id,
        )
        if why is None:
            why = store_problem(
                stored.record, store_id=check.store_id, created_at=check.store_created_at
            )
        if why is not None:
            problems.append(PROBLEM_UNTRUSTED.format(id=record_id, run_id=run_id, why=why))
    if not stored.pointer:  # a pointer's artifact was read and checked by the parse
        problems.extend(_artifact_problems(stored, folder))
    if not problems and stored.record is not None and intact_records is not None:
        intact_records.append(stored.record)
    return problems


def _verify_run(
    conn: Connection, run: Run, check: _Check, attestations: list[EvidenceRecord]
) -> tuple[int, int, list[str]]:
    """(checked, intact, problems) of one run's evidence tags."""
    tags = contract.evidence_tags(run.data.tags)
    if not tags:
        return 0, 0, []
    run_id = run.info.run_id
    problems: list[str] = []
    intact = 0
    with tempfile.TemporaryDirectory(prefix="aims-verify-") as tmp:
        folder = _Downloaded(search.download(conn, run_id, contract.EVIDENCE_ARTIFACT_DIR, tmp))
        for record_id, value in tags.items():
            intact_records: list[EvidenceRecord] = []
            found = verify_tag(
                run_id, record_id, value, folder, check, intact_records=intact_records
            )
            problems.extend(found)
            intact += not found
            attestations.extend(r for r in intact_records if r.kind == "attestation")
    return len(tags), intact, problems


def verify_store(
    conn: Connection,
    *,
    evidence_experiment: str,
    system: str | None = None,
    experiment_ids: Iterable[str] | None = None,
    trust: TrustPolicy = NO_TRUST,
    clock: datetime | None = None,
    documents: DocumentScope | None = None,
    store_id: str | None = None,
    store_created_at: str | None = None,
) -> VerifyReport:
    """Check every stored record of ``system`` (all when None) and the organization: the parse
    (hash, id), the trust check (signatures with ``trust``'s public keys) and the artifact;
    then the documents of the current intact attestations (changed or vanished: a problem; a
    URL: a note)."""
    check = _Check(
        trust=trust,
        clock=clock or datetime.now(UTC),
        store_id=store_id,
        store_created_at=store_created_at,
    )
    problems: list[str] = []
    attestations: list[EvidenceRecord] = []
    checked = intact = 0
    with conn.reading():
        runs = search.evidence_runs(
            conn,
            evidence_experiment=evidence_experiment,
            system=system,
            run_ids=None,
            include_org=True,
            max_runs=None,
            experiment_ids=experiment_ids,
        )
        for run in runs:
            run_checked, run_intact, run_problems = _verify_run(conn, run, check, attestations)
            checked += run_checked
            intact += run_intact
            problems.extend(run_problems)
    # documents are read only under aims.yaml's folder and roots (default: the working folder)
    scope = documents if documents is not None else DocumentScope.of(Path.cwd())
    documents_found = document_findings(attestations, scope=scope)
    problems.extend(f.message for f in documents_found if f.is_problem)
    notes = tuple(f.message for f in documents_found if not f.is_problem)
    return VerifyReport(
        checked=checked, intact=intact, problems=tuple(problems), trust=trust, notes=notes
    )
