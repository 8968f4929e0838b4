"""The ``system_card`` evidence record: proof that a system's documentation was produced.

``aims report SYSTEM`` writes the report and records this: the document's SHA-256, its format,
the model it describes and the score it showed. The catalog's ``system_card`` rule (technical
documentation, information for users) is met by a current such record.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from aims_mlops.catalog import catalog_record
from aims_mlops.config import config_digest
from aims_mlops.evidence import Subject
from aims_mlops.reports._content import JudgementLike, gather

if TYPE_CHECKING:
    from aims_mlops.evidence import EvidenceRecord

KIND = "system_card"
COLLECTOR = "aims_mlops.report"


def card_gaps(
    *,
    owner: str | None,
    intended_use: str | None,
    model: str | None,
    evidence: list[str],
) -> list[str]:
    """What a system card must tell its users and does not: who is accountable, what the system
    is for, which model (registered version or run) it describes, and the evidence behind its
    statements."""
    lacking = []
    if not (owner and owner.strip()):
        lacking.append("an accountable owner (systems[].owner)")
    if not (intended_use and intended_use.strip()):
        lacking.append("the intended use (systems[].intended_use)")
    if model is None:
        lacking.append("the model (registered version or run) it describes")
    if not evidence:
        lacking.append("any captured evidence behind its statements")
    return lacking


def system_card_record(
    judgement: JudgementLike,
    system: str,
    *,
    document: bytes,
    fmt: str,
    location: str | None = None,
    model_version: str | None = None,
    delivered_with: str | None = None,
) -> EvidenceRecord:
    """The ``system_card`` record of a rendered report of ``system`` (about its current model).
    ``delivered_with``: where its users get it (``models:/NAME/VERSION`` when it is logged with
    the registered model version); None: a file only, not delivered (A.8.2 stays open)."""
    content = gather(judgement, system, model_version=model_version)
    model = content.model
    subject = Subject(
        run_id=model.run_id if model else None,
        model_name=model.name if model else None,
        model_version=model.version if model else None,
        dataset_digests=tuple(model.dataset_digests) if model else (),
    )
    sc = content.system_config
    cited = sorted(
        {e for c in content.system.controls for e in c.evidence if not e.startswith("config:")}
    )
    lacking = card_gaps(
        owner=sc.owner,
        intended_use=sc.intended_use,
        model=model.describe() if model else None,
        evidence=cited,
    )
    return catalog_record(
        kind=KIND,
        system=system,
        outcome="fail" if lacking else "pass",
        collector=COLLECTOR,
        subject=subject,
        metrics={"score": content.score, "gaps": float(len(content.gaps))},
        details={
            "format": fmt,
            "document": location,
            "delivered_with": delivered_with,
            "document_sha256": hashlib.sha256(document).hexdigest(),
            "document_bytes": len(document),
            "model": model.describe() if model else None,
            "owner": sc.owner,
            "intended_use": sc.intended_use,
            "lifecycle_stage": sc.lifecycle_stage,
            "assessment_evaluated_at": content.evaluated_at,
            "counts": content.system.counts(),
            "evidence_cited": cited[:500],
            "lacking": lacking,
            **({"summary": "the system card lacks " + "; ".join(lacking)} if lacking else {}),
        },
        config_digest=config_digest(judgement.config),
    )
