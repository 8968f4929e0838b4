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
- :func:`build_pack` / :func:`verify_pack`: the audit pack (one verifiable zip).
"""

from aims_mlops.reports._card import system_card_record
from aims_mlops.reports._content import (
    ERROR_MODEL_VERSION,
    ERROR_NOT_ASSESSED,
    JudgementLike,
    ReportError,
)
from aims_mlops.reports._html import render_html
from aims_mlops.reports._markdown import render_markdown
from aims_mlops.reports._pack import PackError, build_pack, verify_pack
from aims_mlops.reports._readiness import readiness_report, readiness_text
from aims_mlops.reports._xlsx import soa_workbook

__all__ = [
    "ERROR_MODEL_VERSION",
    "ERROR_NOT_ASSESSED",
    "JudgementLike",
    "PackError",
    "ReportError",
    "build_pack",
    "readiness_report",
    "readiness_text",
    "render_html",
    "render_markdown",
    "soa_workbook",
    "system_card_record",
    "verify_pack",
]
