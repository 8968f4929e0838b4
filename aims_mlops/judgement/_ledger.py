"""The ledger at the judgement: records from another store and records a checkpoint listed that
are gone, altered or in a deleted run become findings; a broken checkpoint chain fails 7.5.3.

:func:`ledger_screen` takes what :func:`aims_mlops.judgement._integrity.screen` kept and returns
the records that still count, the findings (each failing every entry its record spoke to, and
7.5.3, the control of documented information) and a summary for the outputs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aims_mlops.evidence import EvidenceRecord, IntegrityFinding, TrustPolicy, finding_for
from aims_mlops.ledger import Scope, store_problem

if TYPE_CHECKING:
    from aims_mlops.store import EvidenceStore, ReadResult

#: The entry every ledger finding also fails: documented information protected from tampering.
DOCUMENTED_INFORMATION = "7.5.3"

NOTE_NO_CHECKPOINT = (
    "no checkpoint yet: a record deleted from the store would go unnoticed (run `aims checkpoint`)"
)
NOTE_CHECKPOINT = "checkpoint {n} lists {listed} records (root {root})"


@dataclass(frozen=True, kw_only=True)
class LedgerSummary:
    """What the outputs say about the ledger."""

    store_id: str | None
    checkpoint: int | None
    root: str | None
    listed: int
    findings: int
    problems: tuple[str, ...]
    #: the head checkpoint record (what an audit pack holds for ``aims verify --head``)
    head: EvidenceRecord | None = None

    def note(self) -> str:
        if self.checkpoint is None:
            return NOTE_NO_CHECKPOINT
        return NOTE_CHECKPOINT.format(
            n=self.checkpoint, listed=self.listed, root=(self.root or "")[:16]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "store_id": self.store_id,
            "checkpoint": self.checkpoint,
            "root": self.root,
            "listed": self.listed,
            "findings": self.findings,
            "problems": list(self.problems),
            "head": self.head.id if self.head is not None else None,
            "note": self.note(),
        }


def _with_documented_information(finding: IntegrityFinding) -> IntegrityFinding:
    controls = tuple(dict.fromkeys((*finding.controls, DOCUMENTED_INFORMATION)))
    return IntegrityFinding(
        record_id=finding.record_id,
        why=finding.why,
        run_id=finding.run_id,
        kind=finding.kind,
        system=finding.system,
        controls=controls,
    )


def ledger_screen(
    store: EvidenceStore,
    records: Iterable[EvidenceRecord],
    findings: Iterable[IntegrityFinding],
    *,
    trust: TrustPolicy,
    run_ids: dict[str, str] | None = None,
    scope: Scope | None = None,
) -> tuple[list[EvidenceRecord], list[IntegrityFinding], LedgerSummary]:
    """(records that still count, findings, summary): records of another store and listed
    records no longer as listed are findings; chain problems are findings on 7.5.3. ``scope``
    (:func:`read_scope`): check only what the verdict read (the newest checkpoints, the judged
    systems' records); None: the whole chain and store."""
    identity = store.identity()
    store_id = identity.store_id if identity is not None else None
    created = identity.created_at if identity is not None else None
    report = store.verify_ledger(trust=trust, scope=scope)
    kept: list[EvidenceRecord] = []
    found = list(findings)
    runs = run_ids or {}
    for record in records:
        why = store_problem(record, store_id=store_id, created_at=created)
        if why is not None:
            found.append(
                _with_documented_information(finding_for(record, why, run_id=runs.get(record.id)))
            )
        elif record.id in report.replaced:
            continue  # the copy read is not the one a checkpoint listed: its finding says so
        else:
            kept.append(record)
    found.extend(_with_documented_information(f) for f in report.findings)
    found.extend(
        IntegrityFinding(
            record_id=problem.record_id,
            why=problem.why,
            kind="checkpoint",
            controls=(DOCUMENTED_INFORMATION,),
        )
        for problem in report.problems
    )
    head = report.head
    summary = LedgerSummary(
        store_id=store_id,
        checkpoint=head.sequence if head is not None else None,
        root=head.root if head is not None else None,
        listed=report.listed,
        findings=len(report.findings),
        problems=tuple(f"{p.record_id}: {p.why}" for p in report.problems),
        head=head.record if head is not None else None,
    )
    return kept, list(dict.fromkeys(found)), summary


def read_scope(
    reads: Iterable[ReadResult],
    records: Iterable[EvidenceRecord],
    read_findings: Iterable[IntegrityFinding],
    *,
    systems: Iterable[str],
    current_runs: Iterable[str] = (),
) -> Scope:
    """What the verdict's reads saw (``records`` before any trust check or ``--as-of`` cut)."""
    runs_read: dict[str, tuple[str | None, int, bool]] = {}
    for read in reads:
        for run_id, seen in read.runs_read.items():
            runs_read[run_id] = (seen.system, seen.start_ms, seen.own)
    return Scope(
        present={r.id: r.content_hash for r in records},
        broken=frozenset(f.record_id for f in read_findings),
        runs_read=runs_read,
        deleted_runs=frozenset(),
        systems=frozenset(systems),
        current_runs=frozenset(current_runs),
    )
