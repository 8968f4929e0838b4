"""Compliance reports: documents a person reads, prints or hands to an auditor.

A report lays out the conformity engine's judgement of an AI system, never a verdict of its
own, and every claim in it names the evidence it rests on (a record id with its content hash, or a
declaration in ``aims.yaml``):

- :func:`render_html`: one self-contained HTML file per system (inline CSS and SVG charts, no
  scripts or external assets, printable): system card with lineage, conformity score, every
  clause and control with status, reasons and evidence, the risk register with a heatmap, data
  quality and fairness results, the gaps with owners, and an appendix of the evidence records;
- :func:`render_markdown`: the same content in Markdown;
- :func:`soa_workbook`: the Statement of Applicability as an ``.xlsx`` workbook;
- :func:`readiness_report` / :func:`readiness_text`: certification readiness per clause and
  Annex A objective, evidence freshness and a prioritised remediation list;
- :func:`system_card_record`: the ``system_card`` evidence record of a rendered report;
- :func:`build_pack` / :func:`verify_pack`: the audit pack (one verifiable zip);
- :func:`assessment_results`: OSCAL Assessment Results for GRC platforms;
- :func:`audit_plan`, :func:`review_pack`: the internal audit checklist with the auditor's own
  sample, and the management review inputs;
- :func:`record_internal_audit`, :func:`record_management_review`: the records those processes
  leave (auditor independence checked, documents hashed, the review pack attached);
- the nonconformity register as records: :func:`sync_register` (opens on failing entries,
  regressions, audit and integrity findings; closes when satisfied again and verified),
  :func:`update_nonconformity`, :func:`verify_nonconformity`, :func:`register_rows`.
"""

from aims_mlops.reports._annex_iv import annex_iv, write_annex_iv
from aims_mlops.reports._annex_iv import render as render_annex_iv
from aims_mlops.reports._audit import (
    RegisterError,
    audit_plan,
    audit_plan_markdown,
    default_register_path,
    nonconformities,
    read_register,
    review_pack,
    review_pack_markdown,
    update_nonconformity_register,
)
from aims_mlops.reports._card import system_card_record
from aims_mlops.reports._content import (
    ERROR_MODEL_VERSION,
    ERROR_NOT_ASSESSED,
    JudgementLike,
    ReportError,
)
from aims_mlops.reports._html import render_html
from aims_mlops.reports._markdown import render_markdown
from aims_mlops.reports._oscal import assessment_results
from aims_mlops.reports._pack import PackError, PackManifest, PackMember, build_pack, verify_pack
from aims_mlops.reports._people import record_acknowledgement, record_training
from aims_mlops.reports._readiness import readiness_report, readiness_text
from aims_mlops.reports._records import (
    ProcessRecordError,
    RecordedAudit,
    record_internal_audit,
    record_management_review,
    sync_register,
    update_nonconformity,
    verify_nonconformity,
)
from aims_mlops.reports._register import (
    NcCandidate,
    NonconformityError,
    SyncPlan,
    integrity_candidates,
    plan_sync,
    register_rows,
)
from aims_mlops.reports._xlsx import soa_workbook

__all__ = [
    "ERROR_MODEL_VERSION",
    "ERROR_NOT_ASSESSED",
    "JudgementLike",
    "NcCandidate",
    "NonconformityError",
    "PackError",
    "PackManifest",
    "PackMember",
    "ProcessRecordError",
    "RecordedAudit",
    "RegisterError",
    "ReportError",
    "SyncPlan",
    "annex_iv",
    "assessment_results",
    "audit_plan",
    "audit_plan_markdown",
    "build_pack",
    "default_register_path",
    "integrity_candidates",
    "nonconformities",
    "plan_sync",
    "read_register",
    "readiness_report",
    "readiness_text",
    "record_acknowledgement",
    "record_internal_audit",
    "record_management_review",
    "record_training",
    "register_rows",
    "render_annex_iv",
    "render_html",
    "render_markdown",
    "review_pack",
    "review_pack_markdown",
    "soa_workbook",
    "sync_register",
    "system_card_record",
    "update_nonconformity",
    "update_nonconformity_register",
    "verify_nonconformity",
    "verify_pack",
    "write_annex_iv",
]
