"""The view-model: what every widget shows, derived once from the engine's result.

Pure Python (no ipywidgets, no MLflow): the widget layer only renders these objects, and tests
check them without a front end. Nothing here decides a status: statuses, reasons, evidence ids,
risk scores and gaps are read from the engine's :class:`~aims_mlops.engine.Assessment`. Rows are
built lazily (only the page asked for), so a system with thousands of records stays quick.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import quote

from aims_mlops._errors import AimsError
from aims_mlops.engine._results import FAILING, NOT_APPLICABLE, SATISFIED, STALE, STATUSES
from aims_mlops.eu_ai_act import system_line
from aims_mlops.evidence import parse_timestamp
from aims_mlops.presentation import (
    BAND_COLOURS,
    heat_band,
    model_label,
    percent,
    risk_movement,
    risk_verdict,
    status_label,
    summary_text,
)
from aims_mlops.reports._register import CLOSED, register_rows

if TYPE_CHECKING:
    from aims_mlops.catalog import Catalog
    from aims_mlops.config import AimsConfig
    from aims_mlops.engine import Assessment, ControlStatus, Gap, RiskResult, SystemAssessment
    from aims_mlops.evidence import EvidenceRecord

T = TypeVar("T")

#: Rows per page of the control sections, the evidence timeline and the portfolio table.
PAGE_SIZE = 25
#: The status filter's "no filter" value.
ALL = "all"
#: Characters of a record's details shown in its drill-down (the full record is in MLflow).
DETAILS_PREVIEW_CHARS = 2_000
#: Portfolio sort keys: value -> label (each key has its natural direction, worst first).
SORT_KEYS: Mapping[str, str] = {
    "score": "score (lowest first)",
    "risks": "risks above appetite (most first)",
    "gaps": "gaps (most first)",
    "name": "name (A-Z)",
}

ERROR_UNKNOWN_SORT = "unknown sort key {key!r}; use one of: {keys}"
ERROR_SYSTEM_NOT_ASSESSED = "system {system!r} is not in this assessment; assessed: {known}"


@dataclass(frozen=True, kw_only=True)
class Page(Generic[T]):
    """One page of rows: ``page`` is 0-based; ``pages`` is at least 1."""

    rows: tuple[T, ...]
    page: int
    pages: int
    total: int

    @property
    def label(self) -> str:
        return f"page {self.page + 1} of {self.pages} ({self.total} rows)"


def paginate(items: Sequence[T], page: int, size: int = PAGE_SIZE) -> tuple[Sequence[T], int, int]:
    """The slice of ``items`` on ``page`` (clamped), the clamped page and the page count."""
    pages = max(1, -(-len(items) // size))
    page = min(max(0, page), pages - 1)
    return items[page * size : (page + 1) * size], page, pages


# ------------------------------------------------------------------------------ controls
@dataclass(frozen=True, kw_only=True)
class ControlRow:
    """One clause or control of a system, as the controls section shows it: the engine's
    verdict (``control``) and what the view adds (its label, the filters)."""

    control: ControlStatus

    @property
    def status_label(self) -> str:
        return status_label(self.control.status)

    def matches(self, status: str | None = None, text: str = "") -> bool:
        """Whether the row passes the status filter (None or ``all``: any) and the text filter
        (case-insensitive, in the id, title, owner or status)."""
        c = self.control
        if status not in (None, ALL) and c.status != status:
            return False
        needle = text.strip().lower()
        if not needle:
            return True
        haystack = f"{c.id} {c.title} {c.owner} {self.status_label}".lower()
        return needle in haystack


@dataclass(frozen=True, kw_only=True)
class ControlGroup:
    """A clause (``"4"``..``"10"``) or Annex A objective (``"A.2"``..``"A.10"``) and its rows."""

    id: str
    title: str
    rows: tuple[ControlRow, ...]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for row in self.rows:
            counts[row.control.status] += 1
        return counts

    def matching(self, status: str | None = None, text: str = "") -> tuple[ControlRow, ...]:
        return tuple(row for row in self.rows if row.matches(status, text))

    def heading(self, status: str | None = None, text: str = "") -> str:
        """The accordion title: satisfied / applicable, or the number matching a filter."""
        prefix = f"{self.id} {self.title}"
        if status not in (None, ALL) or text.strip():
            return f"{prefix} — {len(self.matching(status, text))} matching"
        counts = self.counts()
        applicable = len(self.rows) - counts[NOT_APPLICABLE]
        problems = [f"{counts[s]} {status_label(s)}" for s in (FAILING, STALE) if counts[s]]
        tail = f" · {', '.join(problems)}" if problems else ""
        return f"{prefix} — {counts[SATISFIED]}/{applicable} satisfied{tail}"


# ------------------------------------------------------------------------------ risks
@dataclass(frozen=True, kw_only=True)
class RiskRow:
    """One evaluated risk (the engine's ``risk``) and how the view words where it sits before
    and after treatment."""

    risk: RiskResult

    @property
    def movement(self) -> str:
        """``inherent 4×4=16 → residual 2×3=6``."""
        return risk_movement(self.risk)

    @property
    def verdict(self) -> str:
        """``above appetite 6`` or ``within appetite 6``."""
        return risk_verdict(self.risk)


@dataclass(frozen=True, kw_only=True)
class HeatCell:
    """One likelihood × impact cell of the 5×5 risk map.

    ``inherent`` / ``residual``: ids of the risks whose inherent / residual position is this
    cell. ``boundary_top`` / ``boundary_right``: the cell is within the appetite and the
    neighbour above (likelihood + 1) / to the right (impact + 1) is not: the appetite line.
    """

    likelihood: int
    impact: int
    score: int
    band: str
    colour: str
    boundary_top: bool
    boundary_right: bool
    inherent: tuple[str, ...]
    residual: tuple[str, ...]

    @property
    def above_appetite(self) -> bool:
        return self.band != "within"

    @property
    def markers(self) -> str:
        """``○R1 ●R2``: hollow for an inherent position, filled for a residual one."""
        marks = [f"○{rid}" for rid in self.inherent] + [f"●{rid}" for rid in self.residual]
        return " ".join(marks)


def heatmap(risks: Iterable[RiskRow], *, appetite: int) -> tuple[tuple[HeatCell, ...], ...]:
    """The 5×5 map, rows from likelihood 5 (top) to 1, columns from impact 1 to 5."""
    inherent: dict[tuple[int, int], list[str]] = {}
    residual: dict[tuple[int, int], list[str]] = {}
    for row in risks:
        risk = row.risk
        inherent.setdefault((risk.inherent_likelihood, risk.impact), []).append(risk.id)
        residual.setdefault((risk.residual_likelihood, risk.residual_impact), []).append(risk.id)
    rows = []
    for likelihood in range(5, 0, -1):
        cells = []
        for impact in range(1, 6):
            score = likelihood * impact
            band = heat_band(score, appetite)
            within = band == "within"
            cells.append(
                HeatCell(
                    likelihood=likelihood,
                    impact=impact,
                    score=score,
                    band=band,
                    colour=BAND_COLOURS[band],
                    boundary_top=within and likelihood < 5 and (likelihood + 1) * impact > appetite,
                    boundary_right=within and impact < 5 and likelihood * (impact + 1) > appetite,
                    inherent=tuple(inherent.get((likelihood, impact), ())),
                    residual=tuple(residual.get((likelihood, impact), ())),
                )
            )
        rows.append(tuple(cells))
    return tuple(rows)


# ------------------------------------------------------------------------------ evidence
def mlflow_run_url(
    tracking_uri: str | None, run_id: str | None, experiment_id: str | None
) -> str | None:
    """The run's page in the MLflow UI when the tracking URI is an http(s) server, else None."""
    if not tracking_uri or not run_id:
        return None
    if not tracking_uri.lower().startswith(("http://", "https://")):
        return None
    base = tracking_uri.rstrip("/")
    run = quote(run_id, safe="")
    if experiment_id:
        return f"{base}/#/experiments/{quote(experiment_id, safe='')}/runs/{run}"
    return f"{base}/#/runs/{run}"


@dataclass(frozen=True, kw_only=True)
class EvidenceRow:
    """One evidence record as the timeline and its drill-down show it."""

    id: str
    kind: str
    outcome: str
    collected_at: str
    system: str | None
    collector: str
    run_id: str | None
    experiment_id: str | None
    model: str | None
    dataset_digests: tuple[str, ...]
    content_hash: str
    signed: bool
    metrics: Mapping[str, float]
    controls: tuple[str, ...]
    valid_until: str | None
    details_preview: str
    mlflow_url: str | None

    @classmethod
    def from_record(cls, record: EvidenceRecord, *, tracking_uri: str | None) -> EvidenceRow:
        subject = record.subject
        model = None
        if subject.model_name or subject.model_version:
            model = f"{subject.model_name or '?'} version {subject.model_version or '?'}"
        details = json.dumps(_plain(record.details), indent=1, sort_keys=True, default=str)
        if len(details) > DETAILS_PREVIEW_CHARS:
            details = details[:DETAILS_PREVIEW_CHARS] + "\n… (cut; the full record is in MLflow)"
        return cls(
            id=record.id,
            kind=record.kind,
            outcome=record.outcome,
            collected_at=record.collected_at,
            system=record.system,
            collector=f"{record.collector.name} {record.collector.version}",
            run_id=subject.run_id,
            experiment_id=subject.experiment_id,
            model=model,
            dataset_digests=tuple(subject.dataset_digests),
            content_hash=record.content_hash,
            signed=record.signature is not None,
            metrics=dict(record.metrics),
            controls=tuple(record.controls),
            valid_until=record.valid_until,
            details_preview=details,
            mlflow_url=mlflow_run_url(tracking_uri, subject.run_id, subject.experiment_id),
        )


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, kw_only=True)
class Attestable:
    """An entry a person may attest to (its rule names a document)."""

    id: str
    title: str
    document: str
    scope: str

    @property
    def label(self) -> str:
        where = "organization" if self.scope == "organization" else "system"
        return f"{self.id} {self.title} ({where})"


# ------------------------------------------------------------------------------ dashboard
@dataclass(kw_only=True)
class DashboardModel:
    """Everything one system's dashboard shows: the engine's ``assessment`` of the system and
    what the view derives from it. Evidence rows are built per page on demand."""

    assessment: SystemAssessment
    evaluated_at: str
    appetite: int
    likelihood_labels: Mapping[int, str]
    impact_labels: Mapping[int, str]
    heatmap: tuple[tuple[HeatCell, ...], ...]
    risks: tuple[RiskRow, ...]
    groups: tuple[ControlGroup, ...]
    gaps: tuple[Gap, ...]
    attestable: tuple[Attestable, ...]
    tracking_uri: str | None
    records: tuple[EvidenceRecord, ...]  # newest first
    #: the EU AI Act class and how many of its obligations are met, in one line
    eu_ai_act: str = ""
    #: the latest GenAI evaluation of the system, if it has one
    genai: EvidenceRecord | None = None
    #: the nonconformities of the system and the organization not yet closed (the register's
    #: rows: id, control, source, state, owner, due, overdue)
    nonconformities: tuple[Mapping[str, Any], ...] = ()
    _by_kind: dict[str | None, tuple[EvidenceRecord, ...]] = field(default_factory=dict)
    _by_id: dict[str, EvidenceRecord] | None = None

    # -- header ------------------------------------------------------------------------------
    @property
    def system(self) -> str:
        return self.assessment.system

    @property
    def name(self) -> str:
        return self.assessment.name

    @property
    def owner(self) -> str:
        return self.assessment.owner

    @property
    def model_label(self) -> str:
        return model_label(self.assessment)

    @property
    def score(self) -> float:
        return self.assessment.score

    @property
    def counts(self) -> Mapping[str, int]:
        return self.assessment.counts()

    @property
    def score_text(self) -> str:
        return percent(self.score)

    @property
    def applicable(self) -> int:
        return sum(self.counts.values()) - self.counts.get(NOT_APPLICABLE, 0)

    @property
    def risks_above_appetite(self) -> tuple[RiskRow, ...]:
        return tuple(r for r in self.risks if r.risk.above_appetite)

    def heat_cell(self, likelihood: int, impact: int) -> HeatCell:
        return self.heatmap[5 - likelihood][impact - 1]

    # -- controls ----------------------------------------------------------------------------
    def group(self, group_id: str) -> ControlGroup:
        for group in self.groups:
            if group.id == group_id:
                return group
        raise KeyError(group_id)

    def controls(self, status: str | None = None, text: str = "") -> tuple[ControlRow, ...]:
        """Every row passing the filters, in catalog order."""
        return tuple(row for group in self.groups for row in group.matching(status, text))

    def control_page(
        self, group_id: str, *, status: str | None = None, text: str = "", page: int = 0
    ) -> Page[ControlRow]:
        rows = self.group(group_id).matching(status, text)
        chunk, page, pages = paginate(rows, page)
        return Page(rows=tuple(chunk), page=page, pages=pages, total=len(rows))

    # -- evidence ----------------------------------------------------------------------------
    @property
    def evidence_kinds(self) -> tuple[str, ...]:
        return tuple(sorted({r.kind for r in self.records}))

    def _records_of(self, kind: str | None) -> tuple[EvidenceRecord, ...]:
        if kind in (None, ALL):
            return self.records
        if kind not in self._by_kind:
            self._by_kind[kind] = tuple(r for r in self.records if r.kind == kind)
        return self._by_kind[kind]

    def evidence_count(self, kind: str | None = None) -> int:
        return len(self._records_of(kind))

    def evidence_page(self, page: int = 0, *, kind: str | None = None) -> Page[EvidenceRow]:
        """Records newest first, 25 a page; rows are built for this page only."""
        records = self._records_of(kind)
        chunk, page, pages = paginate(records, page)
        rows = tuple(EvidenceRow.from_record(r, tracking_uri=self.tracking_uri) for r in chunk)
        return Page(rows=rows, page=page, pages=pages, total=len(records))

    def record(self, record_id: str) -> EvidenceRow | None:
        """The drill-down of one record (None: not among this system's records)."""
        if self._by_id is None:
            self._by_id = {r.id: r for r in self.records}
        found = self._by_id.get(record_id)
        return EvidenceRow.from_record(found, tracking_uri=self.tracking_uri) if found else None

    # -- text --------------------------------------------------------------------------------
    def summary_text(self) -> str:
        """A plain-text summary (what ``%aims status`` prints)."""
        return summary_text(
            self.assessment,
            appetite=self.appetite,
            records=len(self.records),
            evaluated_at=self.evaluated_at,
        )


def dashboard_model(
    *,
    assessment: Assessment,
    system: str,
    catalog: Catalog,
    config: AimsConfig,
    records: Iterable[EvidenceRecord],
    tracking_uri: str | None = None,
) -> DashboardModel:
    """The view-model of one assessed system. ``records`` may hold other systems' records: only
    the system's own and organization-level ones are shown."""
    sa = assessment.systems.get(system)
    if sa is None:
        known = ", ".join(sorted(assessment.systems)) or "none"
        raise AimsError(ERROR_SYSTEM_NOT_ASSESSED.format(system=system, known=known))
    titles = catalog.groups()
    by_group: dict[str, list[ControlRow]] = {}
    for status in sa.controls:
        by_group.setdefault(status.group, []).append(ControlRow(control=status))
    groups = tuple(
        ControlGroup(id=gid, title=titles.get(gid, gid), rows=tuple(by_group[gid]))
        for gid in [*titles, *(g for g in by_group if g not in titles)]
        if gid in by_group
    )
    risks = tuple(RiskRow(risk=r) for r in sa.risks)
    appetite = config.risk_criteria.appetite
    mine = [r for r in records if r.system in (system, None)]
    mine.sort(key=lambda r: (r.collected_at, r.id), reverse=True)
    applicable = {c.id for c in sa.controls if c.status != NOT_APPLICABLE}
    attestable = tuple(
        Attestable(
            id=entry.id, title=entry.title, document=entry.rule.attestation, scope=entry.scope
        )
        for entry in catalog.entries
        if entry.rule.attestation is not None and entry.id in applicable
    )
    genai = next((r for r in mine if r.kind == "genai_evaluation"), None)
    open_ncs = tuple(
        row
        for row in register_rows(mine, now=parse_timestamp(assessment.evaluated_at))
        if row["state"] != CLOSED
    )
    return DashboardModel(
        eu_ai_act=system_line(catalog, sa, config.system(system)),
        genai=genai,
        nonconformities=open_ncs,
        assessment=sa,
        evaluated_at=assessment.evaluated_at,
        appetite=appetite,
        likelihood_labels=dict(config.risk_criteria.likelihood),
        impact_labels=dict(config.risk_criteria.impact),
        heatmap=heatmap(risks, appetite=appetite),
        risks=risks,
        groups=groups,
        gaps=sa.gaps,
        attestable=attestable,
        tracking_uri=tracking_uri,
        records=tuple(mine),
    )


# ------------------------------------------------------------------------------ portfolio
@dataclass(frozen=True, kw_only=True)
class PortfolioRow:
    """One in-scope system in the portfolio table."""

    system: str
    name: str
    owner: str
    model_label: str
    score: float
    risks_above_appetite: int
    gaps: int
    counts: Mapping[str, int]
    eu_ai_act: str = ""

    @property
    def score_text(self) -> str:
        return percent(self.score)


@dataclass(frozen=True, kw_only=True)
class PortfolioModel:
    """Every assessed system, with the organization's overall readiness."""

    rows: tuple[PortfolioRow, ...]
    overall: float
    evaluated_at: str

    def sorted(self, key: str = "score", *, reverse: bool = False) -> tuple[PortfolioRow, ...]:
        """Rows by ``key`` (see :data:`SORT_KEYS`), worst first; ties by name, then id.
        ``reverse=True`` flips the order."""
        if key not in SORT_KEYS:
            raise AimsError(ERROR_UNKNOWN_SORT.format(key=key, keys=", ".join(SORT_KEYS)))

        def order(row: PortfolioRow) -> tuple[Any, ...]:
            tie = (row.name.lower(), row.system)
            if key == "score":
                return (row.score, *tie)
            if key == "risks":
                return (-row.risks_above_appetite, *tie)
            if key == "gaps":
                return (-row.gaps, *tie)
            return tie

        ordered = sorted(self.rows, key=order)
        return tuple(reversed(ordered)) if reverse else tuple(ordered)

    def page(
        self, page: int = 0, *, key: str = "score", reverse: bool = False
    ) -> Page[PortfolioRow]:
        rows = self.sorted(key, reverse=reverse)
        chunk, page, pages = paginate(rows, page)
        return Page(rows=tuple(chunk), page=page, pages=pages, total=len(rows))


def portfolio_model(
    assessment: Assessment, *, catalog: Catalog | None = None, config: AimsConfig | None = None
) -> PortfolioModel:
    """The portfolio of every system in ``assessment`` (with ``catalog`` and ``config``: each
    system's EU AI Act class and obligations too)."""
    rows = tuple(
        PortfolioRow(
            eu_ai_act=(
                system_line(catalog, sa, config.system(sa.system))
                if catalog is not None and config is not None
                else ""
            ),
            system=sa.system,
            name=sa.name,
            owner=sa.owner,
            model_label=model_label(sa),
            score=sa.score,
            risks_above_appetite=len(sa.risks_above_appetite),
            gaps=len(sa.gaps),
            counts=sa.counts(),
        )
        for sa in assessment.systems.values()
    )
    return PortfolioModel(
        rows=rows, overall=assessment.readiness.overall, evaluated_at=assessment.evaluated_at
    )
