"""Gather the three inputs (config, catalog, evidence) and run the pure engine once."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import AimsError
from aims_mlops.capture import make_store
from aims_mlops.evidence import NO_TRUST, IntegrityFinding, TrustPolicy

if TYPE_CHECKING:
    from aims_mlops.catalog import Catalog
    from aims_mlops.config import AimsConfig
    from aims_mlops.engine import Assessment, CurrentModel
    from aims_mlops.evidence import EvidenceRecord
    from aims_mlops.store import EvidenceStore, ReadResult


ERROR_VERSION_UNBOUND = (
    "system {system!r} names no registered model (systems[].mlflow.registered_model in "
    "aims.yaml), so it has no model version {version!r} to judge"
)
ERROR_NO_SUCH_VERSION = (
    "registered model {model!r} has no version {version!r} (system {system!r}); "
    "give a version the registry holds, or leave out --model-version for the current one"
)


@dataclass(frozen=True, kw_only=True)
class Judgement:
    """An assessment with the inputs it was computed from (views and reports need both)."""

    assessment: Assessment
    config: AimsConfig
    config_path: Path
    catalog: Catalog
    records: tuple[EvidenceRecord, ...]
    current_models: Mapping[str, CurrentModel | None]
    store: EvidenceStore
    #: whose signatures count (aims.yaml ``trust:``; no keys: the evidence is unsigned)
    trust: TrustPolicy = NO_TRUST
    #: stored records that failed verification (never in ``records``; failing what they name)
    integrity_findings: tuple[IntegrityFinding, ...] = ()
    #: every problem the store's read met, as it named them
    read_problems: tuple[str, ...] = ()

    def integrity(self, system: str | None = None) -> dict[str, Any]:
        """What the evidence is worth: signed or not, the note, the findings (of ``system``)."""
        from aims_mlops.judgement._integrity import integrity_summary

        return integrity_summary(self.trust, self.integrity_findings, system=system)


def judge(
    *,
    config: str | os.PathLike[str] | AimsConfig | None = None,
    systems: Iterable[str] | None = None,
    model_versions: Mapping[str, str | None] | None = None,
    store: EvidenceStore | None = None,
    now: datetime | None = None,
    full_history: bool = False,
    lookback_runs: int | None = None,
    trust: TrustPolicy | None = None,
) -> Judgement:
    """Load config, catalog and the evidence of the named (default: all in-scope) systems, and
    assess them. ``model_versions`` pins a system to a registered model version (default: the
    version holding the system's alias, e.g. ``champion``).

    Evidence is read with :meth:`EvidenceStore.records_for` (the current model's run, the
    evidence experiment and, when needed, the system's newest runs: time flat in the history);
    ``full_history`` reads every run of each system instead (:meth:`EvidenceStore.records`);
    ``lookback_runs`` overrides how many newest runs the scaled read may look at.

    Every record read is checked (:func:`aims_mlops.judgement._integrity.screen`) against
    ``trust`` (default: aims.yaml ``trust:``): a record that fails is no evidence but an
    integrity finding, and every entry it speaks to is failing."""
    from aims_mlops.catalog import load_catalog
    from aims_mlops.config import AimsConfig, default_config_path, load_config
    from aims_mlops.engine import assess
    from aims_mlops.judgement._integrity import screen, trust_policy

    if isinstance(config, AimsConfig):
        cfg, path = config, Path("aims.yaml")
    else:
        path = Path(config) if config is not None else default_config_path()
        cfg = load_config(path)
    wanted = list(systems) if systems is not None else [s.id for s in cfg.in_scope_systems]
    for system_id in wanted:
        cfg.system(system_id)  # unknown ids raise ConfigError naming the known ones
    evidence_store = store or make_store(cfg)
    pinned = model_versions or {}
    current: dict[str, CurrentModel | None] = {}
    records: list[EvidenceRecord] = []
    bindings = {}
    for system_id in wanted:
        binding = cfg.system(system_id).mlflow
        bindings[system_id] = {
            "registered_model": binding.registered_model,
            "alias": binding.alias,
            "version": pinned.get(system_id),
            "experiment": binding.experiment,
        }
    resolved = evidence_store.current_models(bindings)  # also carries the runs it fetched
    _check_pinned(bindings, resolved)
    current.update(resolved)
    catalog = load_catalog()
    policy = trust if trust is not None else trust_policy(cfg, path)
    reads: list[ReadResult] = []
    if full_history:
        reads = [evidence_store.read(system=system_id) for system_id in wanted]
    else:
        reads = [
            evidence_store.read_for(
                wanted,
                current_models=resolved,
                experiments={s: cfg.system(s).mlflow.experiment for s in wanted},
                kinds={k for e in catalog.entries if e.scope == "system" for k in e.rule.kinds},
                **({} if lookback_runs is None else {"lookback_runs": lookback_runs}),
            )
        ]
    seen: set[str] = set()
    run_ids: dict[str, str] = {}
    read_findings: list[IntegrityFinding] = []
    problems: list[str] = []
    for read in reads:
        for record in read.records:
            if record.id not in seen:  # organization-level records come back for every system
                seen.add(record.id)
                records.append(record)
        run_ids.update({k: v for k, v in read.run_ids.items() if k not in run_ids})
        read_findings.extend(read.findings)
        problems.extend(read.problems)
    records, findings = screen(
        records,
        policy=policy,
        clock=datetime.now(UTC),
        run_ids=run_ids,
        findings=read_findings,
    )
    records, findings = _documents_rechecked(records, findings)
    assessment = assess(
        catalog,
        cfg,
        records,
        current_models=current,
        now=now or datetime.now(UTC),
        systems=wanted,
        findings=findings,
    )
    return Judgement(
        assessment=assessment,
        config=cfg,
        config_path=path,
        catalog=catalog,
        records=tuple(records),
        current_models=current,
        store=evidence_store,
        trust=policy,
        integrity_findings=tuple(findings),
        read_problems=tuple(dict.fromkeys(problems)),
    )


def _documents_rechecked(
    records: list[EvidenceRecord], findings: list[IntegrityFinding]
) -> tuple[list[EvidenceRecord], list[IntegrityFinding]]:
    """An attestation whose local document changed, vanished or cannot be read is no longer
    evidence: it becomes a finding (the entries it speaks to fail, naming the document)."""
    from aims_mlops.evidence._documents import document_findings

    broken = {f.record_id: f for f in document_findings(records) if f.is_problem}
    if not broken:
        return records, findings
    by_id = {r.id: r for r in records}
    extra = [
        IntegrityFinding(
            record_id=f.record_id,
            why=f.message,
            kind="attestation",
            system=by_id[f.record_id].system,
            controls=f.controls,
        )
        for f in broken.values()
    ]
    return [r for r in records if r.id not in broken], [*findings, *extra]


def _check_pinned(
    bindings: Mapping[str, Mapping[str, Any]], resolved: Mapping[str, CurrentModel | None]
) -> None:
    """A pinned model version must exist: never judge another model in its place."""
    for system_id, binding in bindings.items():
        version = binding.get("version")
        if version is None:
            continue
        model = binding.get("registered_model")
        if model is None:
            raise AimsError(ERROR_VERSION_UNBOUND.format(system=system_id, version=version))
        found = resolved.get(system_id)
        if found is None or not _same_version(found.version, version):
            raise AimsError(
                ERROR_NO_SUCH_VERSION.format(model=model, version=version, system=system_id)
            )


def _same_version(found: str | None, wanted: str) -> bool:
    a, b = str(found), str(wanted).strip()
    return a == b or (a.isdigit() and b.isdigit() and int(a) == int(b))


def summary(
    system: str,
    model_version: str | None = None,
    *,
    config: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Where ``system`` stands: the same object ``aims summary --format json`` prints."""
    from aims_mlops.engine import summary_dict

    result = judge(config=config, systems=[system], model_versions={system: model_version})
    data = summary_dict(result.assessment.systems[system])
    return {**data, "integrity": result.integrity(system)}


def status(*, config: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Every in-scope system's score, risks above appetite and gap count (``aims status``)."""
    from aims_mlops.engine import status_rows

    return status_rows(judge(config=config).assessment)
