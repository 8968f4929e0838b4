"""The technical documentation of EU AI Act Art. 11 / Annex IV, filled from config and evidence.

Annex IV has nine sections. Each is built from ``aims.yaml`` and the evidence records the engine
judged, and says how complete it is: ``complete`` when every catalog entry behind it is
satisfied (or not applicable) and every declaration it needs is made, ``missing`` when none is,
``partial`` otherwise; ``missing`` lists what is lacking and ``evidence`` the record ids (and
``config:`` declarations) the engine cites for those entries. Which catalog entries stand behind
a section is read from the ``eu-ai-act`` crosswalk (the articles the section serves) and from the
catalog's evidence rules (kinds), never written here.

The dossier is documentation drawn from evidence, not a conformity assessment: the declaration
of conformity (section 8) and the harmonised standards applied (section 7) are for the provider
to complete.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from aims_mlops._escape import md_escape
from aims_mlops._files import write_atomically
from aims_mlops.evidence import EvidenceRecord
from aims_mlops.presentation import percent
from aims_mlops.reports._html import inline_code

FRAMEWORK = "eu-ai-act"
COMPLETE, PARTIAL, MISSING = "complete", "partial", "missing"
_OK = ("satisfied", "not_applicable")

#: Verification records: the "test logs and reports" of Annex IV point 2(g).
VERIFICATION_KINDS = ("performance", "data_quality", "fairness")

ERROR_NOT_ASSESSED = "{system!r} was not assessed in this judgement"
ERROR_FORMAT = "unknown Annex IV format {fmt!r}; use html, md or json"

STANDARD_APPLIED = "ISO/IEC 42001:2023 (AI management system), assessed by aims_mlops"


@dataclass(frozen=True, kw_only=True)
class SectionSpec:
    """One Annex IV section: its id, title and which articles / evidence kinds stand behind it."""

    number: int
    id: str
    title: str
    articles: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()


SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec(
        number=1,
        id="general-description",
        title="General description of the AI system",
        articles=("Art. 13",),
    ),
    SectionSpec(
        number=2,
        id="development-process",
        title="Detailed description of the elements of the AI system and of its development",
        articles=("Art. 10", "Art. 11"),
        kinds=VERIFICATION_KINDS,
    ),
    SectionSpec(
        number=3,
        id="monitoring-functioning-control",
        title="Monitoring, functioning and control of the AI system",
        articles=("Art. 14", "Art. 15"),
    ),
    SectionSpec(
        number=4,
        id="performance-metrics",
        title="Appropriateness of the performance metrics",
        kinds=("performance", "fairness"),
    ),
    SectionSpec(
        number=5,
        id="risk-management",
        title="The risk management system (Art. 9)",
        articles=("Art. 9",),
    ),
    SectionSpec(
        number=6,
        id="lifecycle-changes",
        title="Relevant changes made to the system through its lifecycle",
        articles=("Art. 12",),
        kinds=("lineage.model",),
    ),
    SectionSpec(
        number=7,
        id="standards",
        title="Harmonised standards and other specifications applied",
        articles=("Art. 17",),
    ),
    SectionSpec(
        number=8,
        id="declaration-of-conformity",
        title="A copy of the EU declaration of conformity (Art. 47)",
    ),
    SectionSpec(
        number=9,
        id="post-market-monitoring",
        title="The post-market monitoring system and plan (Art. 72)",
        articles=("Art. 72", "Art. 73"),
    ),
)


class _Section:
    """Collects one section's facts, tables, parts and evidence while it is built."""

    def __init__(self, spec: SectionSpec, verdicts: Sequence[Any]) -> None:
        self.spec = spec
        self.verdicts = list(verdicts)
        self.facts: dict[str, Any] = {}
        self.tables: dict[str, dict[str, Any]] = {}
        self.declared: list[tuple[bool, str, str | None]] = []  # (present, missing text, ref)

    def fact(self, label: str, value: Any) -> None:
        self.facts[label] = value

    def need(self, present: bool, missing: str, ref: str | None = None) -> None:
        self.declared.append((present, missing, ref))

    def table(self, name: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        self.tables[name] = {"columns": list(columns), "rows": [dict(r) for r in rows]}

    def to_dict(self) -> dict[str, Any]:
        ok_parts = [v for v in self.verdicts if v.status in _OK] + [
            d for d in self.declared if d[0]
        ]
        total = len(self.verdicts) + len(self.declared)
        if total and len(ok_parts) == total:
            status = COMPLETE
        elif not ok_parts:
            status = MISSING
        else:
            status = PARTIAL
        missing = [
            f"{v.id} {v.title}: {v.status}" + (f" ({v.reasons[0]})" if v.reasons else "")
            for v in self.verdicts
            if v.status not in _OK
        ] + [text for present, text, _ in self.declared if not present]
        evidence = [e for v in self.verdicts for e in v.evidence]
        evidence += [ref for present, _, ref in self.declared if present and ref]
        return {
            "id": self.spec.id,
            "number": self.spec.number,
            "title": self.spec.title,
            "status": status,
            "evidence": list(dict.fromkeys(evidence)),
            "missing": missing,
            "entries": [{"id": v.id, "title": v.title, "status": v.status} for v in self.verdicts],
            "articles": list(self.spec.articles),
            "facts": self.facts,
            "tables": self.tables,
        }


# ------------------------------------------------------------------------------- helpers
def _latest(records: Iterable[EvidenceRecord], kind: str) -> EvidenceRecord | None:
    found = [r for r in records if r.kind == kind]
    return max(found, key=lambda r: (r.collected_at, r.id)) if found else None


def signer(record: EvidenceRecord, attestations: Sequence[EvidenceRecord]) -> str:
    """Who vouches for a record: a named attestation of an entry it serves, else its signature."""
    named = [a for a in attestations if set(a.controls) & set(record.controls)]
    if named:
        latest = max(named, key=lambda a: a.collected_at)
        return f"{latest.details.get('by')} (attestation {latest.id[:8]})"
    if record.signature:
        return f"signed with Ed25519 key {record.key_id or 'of unknown form'}"
    return "unsigned (set AIMS_SIGNING_KEY to sign records)"


def _config_ref(digest: str, path: str) -> str:
    return f"config:{digest[:12]}#{path}"


def _entry_ids(spec: SectionSpec, catalog: Any) -> list[str]:
    ids: list[str] = []
    if spec.articles:
        crosswalk = catalog.crosswalk(FRAMEWORK)
        for link in crosswalk.links:
            if link.item.id in spec.articles:
                ids.extend(link.maps_to)
    for kind in spec.kinds:
        ids.extend(catalog.controls_for_kind(kind))
    return list(dict.fromkeys(ids))


# ------------------------------------------------------------------------------- the dossier
def annex_iv(judgement: Any, system: str) -> dict[str, Any]:
    """The Annex IV dossier of ``system`` as JSON-ready data (``system``, ``model``,
    ``sections``: nine, each with ``id``, ``title``, ``status``, ``evidence``, ``missing``)."""
    from aims_mlops.config import config_digest
    from aims_mlops.eu_ai_act import classification, incident_rows, obligation_rows

    assessment = judgement.assessment.systems.get(system)
    if assessment is None:
        from aims_mlops._errors import AimsError

        raise AimsError(ERROR_NOT_ASSESSED.format(system=system))
    config = judgement.config
    catalog = judgement.catalog
    sc = config.system(system)
    index = config.systems.index(sc)
    digest = config_digest(config)
    now = datetime.fromisoformat(judgement.assessment.evaluated_at.replace("Z", "+00:00"))
    model = judgement.current_models.get(system)
    mine = [r for r in judgement.records if r.system == system]
    org = [r for r in judgement.records if r.system is None]
    attestations = [r for r in (*mine, *org) if r.kind == "attestation"]

    def ref(path: str) -> str:
        return _config_ref(digest, f"systems[{index}].{path}")

    def section(spec: SectionSpec) -> _Section:
        return _Section(spec, [assessment.control(i) for i in _entry_ids(spec, catalog)])

    specs = {s.id: s for s in SECTIONS}
    sections: list[_Section] = []

    # 1 general description
    s = section(specs["general-description"])
    eu = sc.eu_ai_act
    s.fact("system", f"{sc.label} ({sc.id})")
    s.fact("provider", config.organization.name)
    s.fact("owner", sc.owner)
    s.fact("intended purpose", sc.intended_use)
    s.fact("lifecycle stage", sc.lifecycle_stage)
    s.fact("model", model.describe() if model is not None else None)
    s.fact("EU AI Act classification", classification(sc))
    s.need(
        bool(sc.intended_use), "the intended purpose (systems[].intended_use)", ref("intended_use")
    )
    s.need(bool(sc.owner), "a named owner (systems[].owner)", ref("owner"))
    s.need(eu is not None, "the EU AI Act classification (systems[].eu_ai_act)", ref("eu_ai_act"))
    s.need(model is not None, "a registered model version (systems[].mlflow.registered_model)")
    env = _latest(mine, "lineage.environment")
    if env is not None:
        s.fact(
            "software",
            f"Python {env.details.get('python_version')} on {env.details.get('platform')}",
        )
    compute = _latest(mine, "lineage.compute")
    if compute is not None:
        s.fact(
            "hardware",
            f"{compute.details.get('cpu_model') or 'CPU'}, "
            f"{int(compute.metrics.get('cpu_count', 0))} cores, "
            f"{int(compute.metrics.get('gpu_count', 0))} GPUs",
        )
    sections.append(s)

    # 2 elements and development process, with the test logs and reports
    s = section(specs["development-process"])
    code = _latest(mine, "lineage.code")
    if code is not None:
        git = code.details.get("git") or {}
        s.fact(
            "code version",
            {
                "commit": git.get("commit") or code.details.get("mlflow_git_commit"),
                "dirty": git.get("dirty"),
                "source": code.details.get("source_name"),
            },
        )
    params = _latest(mine, "lineage.params")
    if params is not None:
        s.fact("training parameters", params.details.get("params"))
    datasets = _latest(mine, "lineage.datasets")
    rows = [
        {
            "name": d.get("name"),
            "context": d.get("context"),
            "rows": d.get("num_rows"),
            "sha256": d.get("sha256"),
            "source": (d.get("source") or {}).get("uri")
            if isinstance(d.get("source"), Mapping)
            else d.get("source"),
        }
        for d in (datasets.details.get("datasets") or [] if datasets is not None else [])
    ]
    s.table("datasets", ["name", "context", "rows", "sha256", "source"], rows)
    tests = sorted(
        (r for r in mine if r.kind in VERIFICATION_KINDS),
        key=lambda r: (r.collected_at, r.id),
    )
    s.table(
        "test logs and reports",
        ["id", "kind", "date", "outcome", "signer", "content_hash", "about"],
        [
            {
                "id": r.id,
                "kind": r.kind,
                "date": r.collected_at,
                "outcome": r.outcome,
                "signer": signer(r, attestations),
                "content_hash": r.content_hash,
                "about": f"version {r.subject.model_version}"
                if r.subject.model_version
                else f"run {(r.subject.run_id or '')[:8]}",
            }
            for r in tests
        ],
    )
    s.need(bool(tests), "test logs and reports (performance, data quality, fairness records)")
    sections.append(s)

    # 3 monitoring, functioning and control
    s = section(specs["monitoring-functioning-control"])
    fairness = _latest(mine, "fairness")
    performance = _latest(mine, "performance")
    s.fact("capabilities: measured performance", dict(performance.metrics) if performance else None)
    s.fact("accuracy across groups: fairness metrics", dict(fairness.metrics) if fairness else None)
    s.fact("sensitive features", list(sc.sensitive_features))
    s.table(
        "foreseeable risks",
        ["id", "category", "description", "inherent", "residual", "treatment"],
        [
            {
                "id": r.id,
                "category": r.category,
                "description": r.description,
                "inherent": r.score,
                "residual": r.residual_score,
                "treatment": r.treatment,
            }
            for r in config.risks_for(system)
        ],
    )
    s.need(
        bool(sc.sensitive_features),
        "the sensitive features examined (sensitive_features)",
        ref("sensitive_features"),
    )
    sections.append(s)

    # 4 appropriateness of the performance metrics
    s = section(specs["performance-metrics"])
    declared = {**sc.performance, **sc.fairness}
    measured = {
        **(dict(fairness.metrics) if fairness else {}),
        **(dict(performance.metrics) if performance else {}),
    }
    s.table(
        "metrics",
        ["metric", "min", "max", "measured"],
        [
            {"metric": m, "min": t.min, "max": t.max, "measured": measured.get(m)}
            for m, t in declared.items()
        ],
    )
    s.need(
        bool(sc.performance),
        "declared performance thresholds (systems[].performance)",
        ref("performance"),
    )
    s.need(bool(sc.fairness), "declared fairness thresholds (systems[].fairness)", ref("fairness"))
    sections.append(s)

    # 5 risk management system
    s = section(specs["risk-management"])
    s.fact("risk appetite", config.risk_criteria.appetite)
    s.table(
        "risk register",
        ["id", "inherent", "residual", "above_appetite", "controls", "owner"],
        [
            {
                "id": r.id,
                "inherent": r.inherent,
                "residual": r.residual,
                "above_appetite": r.above_appetite,
                "controls": ", ".join(r.controls),
                "owner": r.owner,
            }
            for r in assessment.risks
        ],
    )
    impact = config.impact_assessment_for(system)
    s.fact(
        "impact assessment",
        None
        if impact is None
        else f"by {impact.assessed_by} on {impact.assessed_on.isoformat()}, severity "
        f"{impact.severity}",
    )
    sections.append(s)

    # 6 changes through the lifecycle
    s = section(specs["lifecycle-changes"])
    versions = sorted(
        {r.subject.model_version for r in mine if r.subject.model_version is not None}, key=str
    )
    s.fact("model versions with evidence", versions)
    s.fact("configuration digest", digest)
    s.table(
        "recorded changes",
        ["id", "kind", "date", "summary"],
        [
            {
                "id": r.id,
                "kind": r.kind,
                "date": r.collected_at,
                "summary": _change_summary(r),
            }
            for r in sorted(mine, key=lambda r: r.collected_at)
            if r.kind in ("lineage.model", "deployment", "system_card")
        ],
    )
    sections.append(s)

    # 7 standards applied
    s = section(specs["standards"])
    s.fact("standards and specifications applied", [STANDARD_APPLIED])
    s.fact("conformity score against ISO/IEC 42001", percent(assessment.score))
    s.need(
        False,
        "the harmonised standards published in the Official Journal (or the common "
        "specifications) applied, and where they were not, the solutions adopted instead: "
        "the provider lists them here",
    )
    sections.append(s)

    # 8 EU declaration of conformity
    s = section(specs["declaration-of-conformity"])
    binding = obligation_rows(catalog.crosswalk(FRAMEWORK), assessment, classification(sc))
    s.table(
        "obligations",
        ["id", "title", "status"],
        [{"id": o["id"], "title": o["title"], "status": o["status"]} for o in binding],
    )
    s.fact("obligations met", f"{sum(o['met'] for o in binding)} of {len(binding)}")
    s.need(
        False,
        "a copy of the EU declaration of conformity (Art. 47), drawn up after the conformity "
        "assessment (Art. 43): aims_mlops does not issue it",
    )
    sections.append(s)

    # 9 post-market monitoring system and plan
    s = section(specs["post-market-monitoring"])
    monitoring = sc.monitoring
    s.fact(
        "plan",
        None
        if monitoring is None
        else f"drift checks every {monitoring.interval_days} days (PSI <= {monitoring.psi_max:g},"
        f" KS p-value >= {monitoring.ks_pvalue_min:g})",
    )
    latest_monitoring = _latest(mine, "monitoring")
    s.fact(
        "latest monitoring",
        None
        if latest_monitoring is None
        else f"{latest_monitoring.outcome} on {latest_monitoring.collected_at[:10]} "
        f"({latest_monitoring.id[:8]})",
    )
    incidents = incident_rows(judgement.records, now=now, system=system)
    s.table(
        "serious incidents",
        [
            "id",
            "incident_kind",
            "severity",
            "aware_on",
            "deadline",
            "state",
            "reported_on",
            "summary",
        ],
        incidents,
    )
    s.need(monitoring is not None, "a monitoring plan (systems[].monitoring)", ref("monitoring"))
    sections.append(s)

    return {
        "system": system,
        "name": sc.label,
        "organization": config.organization.name,
        "model": None
        if model is None
        else {"name": model.name, "version": model.version, "run_id": model.run_id},
        "classification": classification(sc),
        "evaluated_at": judgement.assessment.evaluated_at,
        "config_digest": digest,
        "sections": [x.to_dict() for x in sections],
    }


# ------------------------------------------------------------------------------- rendering
#: How a value reads in the dossier: booleans as words, counts with thousands separators, an
#: absent value as a dash (a mapping leaves its absent entries out).
YES, NO, ABSENT = "yes", "no", "—"
#: A fact with no value says so in words.
NONE_RECORDED = "none recorded"


def _cell(value: Any) -> str:
    if value is None:
        return ABSENT
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        kept = [(k, v) for k, v in value.items() if v is not None]
        return ", ".join(f"{k}: {_cell(v)}" for k, v in kept) or ABSENT
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value) or ABSENT
    return str(value)


def _change_summary(record: EvidenceRecord) -> str:
    """What a recorded change was, in words (its ``summary`` when it has one)."""
    details = record.details
    if details.get("summary"):
        return str(details["summary"])
    if record.kind == "lineage.model":
        versions = details.get("registered_versions") or []
        named = [f"{v.get('name')} version {v.get('version')}" for v in versions]
        if named:
            return "registered " + ", ".join(named)
        return f"logged {len(details.get('logged_models') or [])} model(s), none registered"
    if record.kind == "deployment":
        alias = details.get("alias")
        version = record.subject.model_version
        verdict = "passed" if record.outcome == "pass" else "blocked"
        action = details.get("action") or "deployment"
        return f"gate {verdict}: {action} of version {version} to {alias}"
    if record.kind == "system_card":
        return f"system card for {details.get('model') or 'no model version'}"
    return f"{record.kind} ({record.outcome})"


def render_markdown(dossier: Mapping[str, Any]) -> str:
    """The dossier as Markdown (every value escaped: no HTML, no links)."""
    model = dossier.get("model") or {}
    version = f"v{model['version']}" if model.get("version") else ""

    def m(value: Any) -> str:
        return md_escape(_cell(value))

    lines = [
        f"# Technical documentation (EU AI Act Annex IV): {m(dossier['name'])}",
        "",
        f"{m(dossier['organization'])} · system `{m(dossier['system'])}` · model "
        f"{m(model.get('name') or 'none')} {m(version)} · assessed {m(dossier['evaluated_at'])}"
        f" · configuration `{m(dossier['config_digest'][:12])}`",
        "",
        "Drawn from the evidence the AI management system holds; not a conformity assessment.",
    ]
    for sec in dossier["sections"]:
        lines += [
            "",
            f"## {m(sec['number'])}. {m(sec['title'])}",
            "",
            f"**Status: {m(sec['status'])}**",
        ]
        if sec["facts"]:
            lines.append("")
            lines += [f"- **{m(k)}**: {m(v)}" for k, v in sec["facts"].items()]
        for name, table in sec["tables"].items():
            lines += ["", f"### {m(name[0].upper() + name[1:])}", ""]
            if not table["rows"]:
                lines.append("_none recorded_")
                continue
            cols = table["columns"]
            lines.append("| " + " | ".join(m(c) for c in cols) + " |")
            lines.append("|" + "---|" * len(cols))
            for row in table["rows"]:
                lines.append("| " + " | ".join(m(row.get(c)) for c in cols) + " |")
        if sec["missing"]:
            lines += ["", "Missing:", *[f"- {m(x)}" for x in sec["missing"]]]
        if sec["evidence"]:
            lines += ["", "Evidence: " + ", ".join(f"`{m(x)}`" for x in sec["evidence"])]
    return "\n".join(lines) + "\n"


CSS = """
body { margin: 0 auto; max-width: 1100px; padding: 24px 32px; color: #1d2b3a;
  font: 14px/1.45 Helvetica, Arial, "DejaVu Sans", sans-serif; }
h1 { color: #1f4e79; font-size: 24px; margin-bottom: 4px; }
h2 { color: #1f4e79; font-size: 18px; margin: 0 0 8px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
section { border: 1px solid #dde3e9; border-radius: 6px; padding: 14px 20px; margin: 16px 0; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid #dde3e9;
  overflow-wrap: break-word; }
table.facts th { width: 200px; } table.facts td { overflow-wrap: anywhere; }
td.hash { word-break: break-all; font-family: "DejaVu Sans Mono", Menlo, monospace;
  font-size: 11px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font-family: "DejaVu Sans Mono", Menlo, monospace; font-size: 12px; }
th { background: #eef2f6; font-size: 12px; color: #5f6b78; }
.chip { display: inline-block; padding: 1px 9px; border-radius: 10px; color: #fff;
  font-size: 12px; font-weight: bold; }
.complete { background: @GOOD@; } .partial { background: @WARNING@; }
.missing { background: @MISSING@; }
.ev { font-family: "DejaVu Sans Mono", Menlo, monospace; font-size: 11px; color: #5f6b78; }
ul.missing-list li { color: #8e2a1f; }
.muted { color: #5f6b78; }
@media print { body { padding: 0; font-size: 11px; } section { break-inside: auto;
  border: none; padding: 0; } tr { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
"""


def _css() -> str:
    """The page's style sheet, its section chips coloured from the one palette."""
    from aims_mlops.engine import MISSING
    from aims_mlops.presentation import GOOD, WARNING, status_swatch

    missing = status_swatch(MISSING).background
    return CSS.replace("@GOOD@", GOOD).replace("@WARNING@", WARNING).replace("@MISSING@", missing)


def _e(value: Any) -> str:
    return escape(_cell(value), quote=True)


#: Table columns whose values are long identifiers (hashes, record ids): they may break anywhere,
#: so the columns of words beside them keep their words whole.
HASH_COLUMNS = frozenset({"id", "sha256", "content_hash"})


def _heading(column: str) -> str:
    return column.replace("_", " ")


def _td(column: str, value: Any) -> str:
    if column in HASH_COLUMNS and len(_cell(value)) >= 16:  # a record id or hash, not "R1"
        return f'<td class="hash">{_e(value)}</td>'
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<td class="num">{_e(value)}</td>'
    return f"<td>{_e(value)}</td>"


def _fact(value: Any) -> str:
    if value is None or value == [] or value == {}:
        return f'<span class="muted">{NONE_RECORDED}</span>'
    return inline_code(_cell(value))


def render_html(dossier: Mapping[str, Any]) -> str:
    """The dossier as one self-contained, printable HTML document (no scripts, no assets)."""
    model = dossier.get("model") or {}
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(dossier['name'])} — EU AI Act Annex IV technical documentation</title>",
        f"<style>{_css()}</style></head><body>",
        f"<h1>Technical documentation (EU AI Act Annex IV): {_e(dossier['name'])}</h1>",
        f'<p class="muted">{_e(dossier["organization"])} · system <code>{_e(dossier["system"])}'
        f"</code> · model {_e(model.get('name'))} version {_e(model.get('version'))} · assessed "
        f"{_e(dossier['evaluated_at'])} · configuration <code>"
        f"{_e(dossier['config_digest'][:12])}</code></p>",
        '<p class="muted">Drawn from the evidence the AI management system holds; not a '
        "conformity assessment.</p>",
    ]
    for sec in dossier["sections"]:
        parts.append(
            f'<section id="{_e(sec["id"])}" data-status="{_e(sec["status"])}">'
            f"<h2>{sec['number']}. {_e(sec['title'])} "
            f'<span class="chip {_e(sec["status"])}">{_e(sec["status"])}</span></h2>'
        )
        if sec["facts"]:
            parts.append('<table class="facts">')
            parts += [
                f"<tr><th>{_e(k)}</th><td>{_fact(v)}</td></tr>" for k, v in sec["facts"].items()
            ]
            parts.append("</table>")
        for name, table in sec["tables"].items():
            parts.append(f"<h3>{_e(name[0].upper() + name[1:])}</h3>")
            if not table["rows"]:
                parts.append(f'<p class="muted">{NONE_RECORDED}</p>')
                continue
            head = "".join(f"<th>{_e(_heading(c))}</th>" for c in table["columns"])
            body = "".join(
                "<tr>" + "".join(_td(c, row.get(c)) for c in table["columns"]) + "</tr>"
                for row in table["rows"]
            )
            parts.append(f"<table><tr>{head}</tr>{body}</table>")
        if sec["missing"]:
            parts.append('<h3>Missing</h3><ul class="missing-list">')
            parts += [f"<li>{inline_code(_cell(m))}</li>" for m in sec["missing"]]
            parts.append("</ul>")
        if sec["evidence"]:
            ids = " ".join(f'<span class="ev">{_e(e)}</span>' for e in sec["evidence"])
            parts.append(f"<p>Evidence: {ids}</p>")
        parts.append("</section>")
    parts.append("</body></html>\n")
    return "".join(parts)


def render(dossier: Mapping[str, Any], fmt: str) -> str:
    """The dossier in ``fmt``: ``html``, ``md`` or ``json``."""
    if fmt == "json":
        return json.dumps(dossier, indent=2, ensure_ascii=False, default=str) + "\n"
    if fmt == "md":
        return render_markdown(dossier)
    if fmt == "html":
        return render_html(dossier)
    from aims_mlops._errors import AimsError

    raise AimsError(ERROR_FORMAT.format(fmt=fmt))


def write_annex_iv(
    system: str,
    *,
    config: str | os.PathLike[str] | None = None,
    model_version: str | None = None,
    fmt: str = "html",
    output: str | os.PathLike[str] | None = None,
) -> str:
    """Judge ``system`` and write its Annex IV dossier to ``output`` (if given); returns the
    text. The demo calls this to write its dossier next to its store."""
    from aims_mlops.eu_ai_act import _bridge

    judgement = _bridge.judge(
        config=config, systems=[system], model_versions={system: model_version}
    )
    text = render(annex_iv(judgement, system), fmt)
    if output is not None:
        write_atomically(Path(output), text)
    return text


__all__ = ["SECTIONS", "annex_iv", "render", "render_html", "render_markdown", "write_annex_iv"]
