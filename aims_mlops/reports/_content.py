"""What a system report says, gathered once from a judgement; HTML and Markdown only lay it out.

The report never decides a status itself: control statuses, risks, gaps and the score come from
the engine. Where the report shows evidence details (lineage, data-quality checks, fairness
groups) it shows the records the engine cited for the controls the catalog says that kind of
evidence serves (:meth:`~aims_mlops.catalog.Catalog.controls_for_kind`), falling back to the
system's latest record of that kind (the control's status then says whether it counts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from aims_mlops._errors import AimsError
from aims_mlops.eu_ai_act import system_line
from aims_mlops.evidence import NO_TRUST
from aims_mlops.judgement._integrity import integrity_lines as lines

if TYPE_CHECKING:
    from aims_mlops.catalog import Catalog
    from aims_mlops.config import AimsConfig, SystemConfig
    from aims_mlops.engine import (
        Assessment,
        ControlStatus,
        CurrentModel,
        Gap,
        RiskResult,
        SystemAssessment,
    )
    from aims_mlops.evidence import EvidenceRecord

ERROR_NOT_ASSESSED = (
    "system {system!r} is not in this assessment (assessed: {assessed}); judge it first, "
    "e.g. `aims report {system}` judges the named system"
)
ERROR_MODEL_VERSION = (
    "the report was asked for model version {wanted!r} of {system!r}, but the assessment is about "
    "{actual}; judge with model_versions={{{system!r}: {wanted!r}}}"
)

#: How many characters of a record id / content hash are shown inline.
SHORT_ID = 8
SHORT_HASH = 12

#: Lineage kinds whose details the report lays out (the catalog says which controls each serves).
LINEAGE_KINDS: tuple[str, ...] = (
    "lineage.datasets",
    "lineage.code",
    "lineage.environment",
    "lineage.compute",
    "lineage.model",
    "lineage.params",
)


class ReportError(AimsError):
    """A report cannot be made from the given judgement (an unassessed system, say)."""


class JudgementLike(Protocol):
    """What a report needs of :class:`aims_mlops.judgement.Judgement` (tests build their own)."""

    @property
    def assessment(self) -> Assessment: ...
    @property
    def config(self) -> AimsConfig: ...
    @property
    def catalog(self) -> Catalog: ...
    @property
    def records(self) -> Sequence[EvidenceRecord]: ...


def is_record_id(evidence_id: str) -> bool:
    """Record ids are hex; configuration declarations are ``config:<digest>#<path>``."""
    return not evidence_id.startswith("config:")


def anchor(evidence_id: str) -> str:
    """The appendix anchor of a record id (``ev-<id>``) or of the configuration (``config``)."""
    return f"ev-{evidence_id}" if is_record_id(evidence_id) else "config"


@dataclass(frozen=True, kw_only=True)
class GroupRow:
    """One group of a fairness record's per-group table."""

    label: str
    count: int | None
    selection_rate: float | None
    true_positive_rate: float | None
    false_positive_rate: float | None
    accuracy: float | None


@dataclass(frozen=True, kw_only=True)
class FairnessView:
    """A fairness record laid out: metrics against thresholds, and the per-group table."""

    record: EvidenceRecord
    features: tuple[str, ...]
    groups: tuple[GroupRow, ...]
    groups_total: int
    checks: tuple[Mapping[str, Any], ...]
    metrics: Mapping[str, float]
    dpd_max: float | None
    dpr_min: float | None
    warnings: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class CheckRow:
    """One data-quality expectation result."""

    type: str
    target: str
    success: bool | None
    unexpected_count: float | None
    unexpected_percent: float | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class DataQualityView:
    """A data-quality record laid out as a table of checks."""

    record: EvidenceRecord
    dataset: str
    dataset_digest: str | None
    checks: tuple[CheckRow, ...]
    success_percent: float | None
    omitted: int


@dataclass(frozen=True, kw_only=True)
class Lineage:
    """Where the model came from, from the lineage records (each may be missing)."""

    datasets: tuple[Mapping[str, Any], ...]
    datasets_record: EvidenceRecord | None
    code: Mapping[str, Any] | None
    code_record: EvidenceRecord | None
    environment: Mapping[str, Any] | None
    environment_record: EvidenceRecord | None
    compute_record: EvidenceRecord | None
    model_record: EvidenceRecord | None
    params_record: EvidenceRecord | None


@dataclass(frozen=True, kw_only=True)
class ControlGroup:
    """The verdicts of one clause or Annex A objective."""

    id: str
    title: str
    controls: tuple[ControlStatus, ...]


@dataclass(frozen=True, kw_only=True)
class ReportContent:
    """Everything a system report shows, in order."""

    system: SystemAssessment
    system_config: SystemConfig
    config_ref: str  # ``config:<digest12>#systems[i]`` (append ``.owner`` etc.)
    organization: str
    config_digest: str
    evaluated_at: str
    model: CurrentModel | None
    groups: tuple[ControlGroup, ...]
    excluded: tuple[ControlStatus, ...]
    risks: tuple[RiskResult, ...]
    appetite: int
    likelihood_labels: Mapping[int, str]
    impact_labels: Mapping[int, str]
    lineage: Lineage
    data_quality: tuple[DataQualityView, ...]
    fairness: tuple[FairnessView, ...]
    performance: tuple[EvidenceRecord, ...]
    gaps: tuple[Gap, ...]
    appendix: tuple[EvidenceRecord, ...]
    known_ids: frozenset[str]
    #: the EU AI Act class and how many of its obligations are met, in one line
    eu_ai_act: str = ""
    #: the latest current GenAI evaluation the engine cited, if the system has one
    genai: EvidenceRecord | None = None
    #: what the evidence is worth (signed or not), then one line per record that failed
    #: verification (see :func:`integrity_lines`)
    integrity: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        return self.system.score

    @property
    def applicable(self) -> tuple[ControlStatus, ...]:
        return tuple(c for g in self.groups for c in g.controls)


# ------------------------------------------------------------------------------------ helpers

def short_hash(record: EvidenceRecord) -> str:
    return record.content_hash[:SHORT_HASH]


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def fmt_number(value: Any, *, digits: int = 3) -> str:
    """``0.124``-style numbers for tables, integers with thousands separators, "n/a" for
    anything that is not a number."""
    found = number(value)
    if found is None:
        return "n/a"
    if found.is_integer():
        return f"{int(found):,}"
    return f"{found:.{digits}f}"


def _latest(records: Iterable[EvidenceRecord]) -> EvidenceRecord | None:
    found = list(records)
    return max(found, key=lambda r: (r.collected_at, r.id)) if found else None


def _cited(sa: SystemAssessment, controls: Iterable[str]) -> set[str]:
    wanted = set(controls)
    return {e for c in sa.controls if c.id in wanted for e in c.evidence}


def _pick(
    records: Sequence[EvidenceRecord], sa: SystemAssessment, kind: str, catalog: Catalog
) -> list[EvidenceRecord]:
    """The records of ``kind`` the engine cited for the controls the catalog says ``kind``
    serves; else the latest one."""
    mine = [r for r in records if r.system == sa.system and r.kind == kind]
    cited = _cited(sa, catalog.controls_for_kind(kind))
    chosen = [r for r in mine if r.id in cited]
    if chosen:
        return sorted(chosen, key=lambda r: (r.collected_at, r.id), reverse=True)
    latest = _latest(mine)
    return [latest] if latest is not None else []


def _first(records: list[EvidenceRecord]) -> EvidenceRecord | None:
    return records[0] if records else None


def _target(kwargs: Mapping[str, Any]) -> str:
    parts = []
    for key, value in kwargs.items():
        if isinstance(value, list | tuple):
            shown = ", ".join(str(v) for v in value[:8]) + (", …" if len(value) > 8 else "")
            parts.append(f"{key}=[{shown}]")
        else:
            parts.append(f"{key}={value}")
    return "; ".join(parts)


def data_quality_view(record: EvidenceRecord) -> DataQualityView:
    details = record.details
    checks = []
    for check in details.get("checks") or ():
        if not isinstance(check, Mapping):
            continue
        success = check.get("success")
        checks.append(
            CheckRow(
                type=str(check.get("type") or ""),
                target=_target(check.get("kwargs") or {}),
                success=success if isinstance(success, bool) else None,
                unexpected_count=number(check.get("unexpected_count")),
                unexpected_percent=number(check.get("unexpected_percent")),
                reason=str(check.get("reason") or check.get("exception") or ""),
            )
        )
    digest = details.get("dataset_digest")
    omitted = details.get("checks_omitted")
    return DataQualityView(
        record=record,
        dataset=str(details.get("dataset") or "dataset"),
        dataset_digest=str(digest) if digest else None,
        checks=tuple(checks),
        success_percent=number(record.metrics.get("success_percent")),
        omitted=int(omitted) if isinstance(omitted, int) else 0,
    )


_GROUP_METRICS = {
    "count",
    "selection_rate",
    "true_positive_rate",
    "tpr",
    "false_positive_rate",
    "fpr",
    "accuracy",
}


def _group_row(row: Any, columns: Sequence[str], features: Sequence[str]) -> GroupRow | None:
    if isinstance(row, Mapping):
        values = dict(row)
        if "group" in values:
            label = str(values["group"])
        else:
            keys = [k for k in values if k not in _GROUP_METRICS]
            label = ", ".join(f"{values[k]}" for k in keys)
    elif isinstance(row, list | tuple):
        values = dict(zip(columns, row, strict=False))
        keys = list(features) or [c for c in columns if c not in _GROUP_METRICS]
        label = ", ".join(str(values.get(k)) for k in keys)
    else:
        return None
    count = number(values.get("count"))
    return GroupRow(
        label=label,
        count=int(count) if count is not None else None,
        selection_rate=number(values.get("selection_rate")),
        true_positive_rate=number(values.get("true_positive_rate", values.get("tpr"))),
        false_positive_rate=number(values.get("false_positive_rate", values.get("fpr"))),
        accuracy=number(values.get("accuracy")),
    )


def fairness_view(record: EvidenceRecord, system_config: SystemConfig) -> FairnessView:
    details = record.details
    features = tuple(str(f) for f in details.get("sensitive_features") or ())
    columns = [str(c) for c in details.get("group_table_columns") or ()]
    if not columns:
        columns = [*features, "count", "selection_rate", "true_positive_rate",
                   "false_positive_rate", "accuracy"]  # fmt: skip
    groups = [
        g for row in details.get("group_table") or () if (g := _group_row(row, columns, features))
    ]
    total = details.get("groups")
    bounds = system_config.fairness_bounds()
    checks = tuple(c for c in details.get("checks") or () if isinstance(c, Mapping))
    return FairnessView(
        record=record,
        features=features,
        groups=tuple(groups),
        groups_total=int(total) if isinstance(total, int) else len(groups),
        checks=checks,
        metrics=dict(record.metrics),
        dpd_max=bounds.get("demographic_parity_difference", {}).get("max"),
        dpr_min=bounds.get("demographic_parity_ratio", {}).get("min"),
        warnings=tuple(str(w) for w in details.get("warnings") or () if w),
    )


def _lineage(records: Sequence[EvidenceRecord], sa: SystemAssessment, catalog: Catalog) -> Lineage:
    picked = {kind: _first(_pick(records, sa, kind, catalog)) for kind in LINEAGE_KINDS}
    datasets_record = picked["lineage.datasets"]
    code_record = picked["lineage.code"]
    env_record = picked["lineage.environment"]
    datasets = ()
    if datasets_record is not None:
        datasets = tuple(
            d for d in datasets_record.details.get("datasets") or () if isinstance(d, Mapping)
        )
    code = None
    if code_record is not None:
        details = code_record.details
        git = details.get("git") if isinstance(details.get("git"), Mapping) else {}
        code = {
            "commit": (git or {}).get("commit") or details.get("mlflow_git_commit"),
            "branch": (git or {}).get("branch") or details.get("mlflow_git_branch"),
            "repository": (git or {}).get("remote_url") or details.get("mlflow_git_repo_url"),
            "dirty": (git or {}).get("dirty"),
            "source": details.get("source_name"),
        }
    environment = None
    if env_record is not None:
        details = env_record.details
        packages = details.get("packages") if isinstance(details.get("packages"), Mapping) else {}
        environment = {
            "python": details.get("python_version"),
            "platform": details.get("platform"),
            "packages": {k: v for k, v in (packages or {}).items() if v},
            "distributions_sha256": details.get("distributions_sha256"),
        }
    return Lineage(
        datasets=datasets,
        datasets_record=datasets_record,
        code=code,
        code_record=code_record,
        environment=environment,
        environment_record=env_record,
        compute_record=picked["lineage.compute"],
        model_record=picked["lineage.model"],
        params_record=picked["lineage.params"],
    )


def gather(
    judgement: JudgementLike, system: str, *, model_version: str | None = None
) -> ReportContent:
    """The content of ``system``'s report; :class:`ReportError` when it was not assessed or the
    assessment is about another model version than ``model_version``."""
    assessment = judgement.assessment
    if system not in assessment.systems:
        assessed = ", ".join(assessment.systems) or "none"
        raise ReportError(ERROR_NOT_ASSESSED.format(system=system, assessed=assessed))
    sa = assessment.systems[system]
    if model_version is not None and (sa.model is None or sa.model.version != str(model_version)):
        actual = sa.model.describe() if sa.model is not None else "no registered model version"
        raise ReportError(
            ERROR_MODEL_VERSION.format(wanted=str(model_version), system=system, actual=actual)
        )
    config = judgement.config
    index = next(i for i, s in enumerate(config.systems) if s.id == system)
    system_config = config.systems[index]
    records = tuple(judgement.records)

    by_group: dict[str, list[ControlStatus]] = {}
    excluded = []
    for status in sa.controls:
        if status.status == "not_applicable":
            excluded.append(status)
        else:
            by_group.setdefault(status.group, []).append(status)
    catalog = judgement.catalog
    titles = catalog.groups()
    groups = tuple(
        ControlGroup(id=g, title=titles.get(g, g), controls=tuple(by_group[g]))
        for g in [*titles, *(g for g in by_group if g not in titles)]
        if g in by_group
    )

    data_quality = tuple(
        data_quality_view(r) for r in _pick(records, sa, "data_quality", catalog)
    )
    fairness = tuple(
        fairness_view(r, system_config) for r in _pick(records, sa, "fairness", catalog)
    )
    performance = tuple(_pick(records, sa, "performance", catalog))
    appendix = tuple(
        sorted(
            (r for r in records if r.system in (system, None)),
            key=lambda r: (r.collected_at, r.id),
            reverse=True,
        )
    )
    criteria = config.risk_criteria
    genai = tuple(_pick(records, sa, "genai_evaluation", catalog))
    return ReportContent(
        eu_ai_act=system_line(catalog, sa, system_config),
        genai=genai[0] if genai else None,
        system=sa,
        system_config=system_config,
        config_ref=f"config:{assessment.config_digest[:12]}#systems[{index}]",
        organization=config.organization.name,
        config_digest=assessment.config_digest,
        evaluated_at=assessment.evaluated_at,
        model=sa.model,
        groups=groups,
        excluded=tuple(excluded),
        risks=sa.risks,
        appetite=criteria.appetite,
        likelihood_labels=dict(criteria.likelihood),
        impact_labels=dict(criteria.impact),
        lineage=_lineage(records, sa, catalog),
        data_quality=data_quality,
        fairness=fairness,
        performance=performance,
        gaps=sa.gaps,
        appendix=appendix,
        known_ids=frozenset(r.id for r in appendix),
        integrity=integrity_lines(judgement, system),
    )


def integrity_lines(judgement: Any, system: str) -> tuple[str, ...]:
    """The trust note of the judgement (no ``trust``: the evidence is unsigned) and its
    integrity findings about ``system``."""
    policy = getattr(judgement, "trust", NO_TRUST)
    findings = getattr(judgement, "integrity_findings", ())
    state = getattr(judgement, "configuration", None)
    configuration = state.lines() if state is not None else []
    return tuple(
        [*configuration, *(line.strip() for line in lines(policy, findings, system=system))]
    )


@dataclass(frozen=True, kw_only=True)
class RefStyle:
    """How one report format writes an evidence reference: to the config (``path``), to a
    record the report holds (with its short hash), to one it does not, a list, and none."""

    config: Callable[[str, str], str]
    record: Callable[[str, str], str]
    unknown: Callable[[str], str]
    join: Callable[[list[str]], str]
    empty: str


class Refs:
    """Evidence references against the records a report has, in a format's :class:`RefStyle`."""

    def __init__(self, content: ReportContent, style: RefStyle) -> None:
        self.hashes = {r.id: short_hash(r) for r in content.appendix}
        self.style = style

    def one(self, evidence_id: str) -> str:
        if not is_record_id(evidence_id):
            path = evidence_id.split("#", 1)[1] if "#" in evidence_id else evidence_id
            return self.style.config(evidence_id, path)
        if evidence_id in self.hashes:
            return self.style.record(evidence_id, self.hashes[evidence_id])
        return self.style.unknown(evidence_id)

    def many(self, ids: Iterable[str]) -> str:
        parts = [self.one(i) for i in ids]
        return self.style.join(parts) if parts else self.style.empty
