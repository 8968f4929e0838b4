"""Gather the three inputs (config, catalog, evidence) and run the pure engine once."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aims_mlops.capture import make_store

if TYPE_CHECKING:
    from aims_mlops.catalog import Catalog
    from aims_mlops.config import AimsConfig
    from aims_mlops.engine import Assessment, CurrentModel
    from aims_mlops.evidence import EvidenceRecord
    from aims_mlops.store import EvidenceStore


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
    #: the moment re-performed (``--as-of``), ISO 8601; None: judged now
    as_of: str | None = None
    #: what re-performance had to approximate (the registry keeps no alias history)
    approximations: tuple[str, ...] = ()

    @property
    def evidence_digest(self) -> str:
        """SHA-256 over the configuration digest and the sorted content hashes of every record
        this judgement considered: equal digests, equal inputs."""
        from aims_mlops.engine import evidence_digest

        return evidence_digest(self.assessment.config_digest, self.records)


def judge(
    *,
    config: str | os.PathLike[str] | AimsConfig | None = None,
    systems: Iterable[str] | None = None,
    model_versions: Mapping[str, str | None] | None = None,
    store: EvidenceStore | None = None,
    now: datetime | None = None,
    full_history: bool = False,
    lookback_runs: int | None = None,
    as_of: str | datetime | None = None,
) -> Judgement:
    """Load config, catalog and the evidence of the named (default: all in-scope) systems, and
    assess them. ``model_versions`` pins a system to a registered model version (default: the
    version holding the system's alias, e.g. ``champion``).

    Evidence is read with :meth:`EvidenceStore.records_for` (the current model's run, the
    evidence experiment and, when needed, the system's newest runs: time flat in the history);
    ``full_history`` reads every run of each system instead (:meth:`EvidenceStore.records`);
    ``lookback_runs`` overrides how many newest runs the scaled read may look at.

    ``as_of`` re-performs the verdict at a past moment (a bare date: the end of that day, UTC):
    only records collected by then count, every run is read, and each registered model is
    judged at the version registered last by then (MLflow keeps no alias history; the
    judgement's ``approximations`` say so)."""
    from aims_mlops.catalog import load_catalog
    from aims_mlops.config import AimsConfig, default_config_path, load_config
    from aims_mlops.engine import assess, iso_moment, parse_as_of, records_as_of

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
    moment = parse_as_of(as_of) if as_of is not None else None
    approximations: list[str] = []
    without: set[str] = set()
    if moment is not None:
        from aims_mlops.judgement._reperform import pins_as_of

        without, approximations = pins_as_of(evidence_store, bindings, moment)
        for system_id in without:
            bindings[system_id] = {"registered_model": None, "experiment": None}
        full_history, now = True, moment
    resolved = evidence_store.current_models(bindings)  # also carries the runs it fetched
    current.update(resolved)
    for system_id in without:
        current[system_id] = None
    catalog = load_catalog()
    if full_history:
        seen: set[str] = set()
        for system_id in wanted:
            for record in evidence_store.records(system=system_id):
                if record.id not in seen:  # organization-level records come back for every system
                    seen.add(record.id)
                    records.append(record)
    else:
        records = evidence_store.records_for(
            wanted,
            current_models=resolved,
            experiments={s: cfg.system(s).mlflow.experiment for s in wanted},
            kinds={k for e in catalog.entries if e.scope == "system" for k in e.rule.kinds},
            **({} if lookback_runs is None else {"lookback_runs": lookback_runs}),
        )
    if moment is not None:
        records = list(records_as_of(records, moment))
    assessment = assess(
        catalog,
        cfg,
        records,
        current_models=current,
        now=now or datetime.now(UTC),
        systems=wanted,
    )
    return Judgement(
        assessment=assessment,
        config=cfg,
        config_path=path,
        catalog=catalog,
        records=tuple(records),
        current_models=current,
        store=evidence_store,
        as_of=iso_moment(moment) if moment is not None else None,
        approximations=tuple(approximations),
    )


def summary_json(judgement: Judgement, system: str) -> dict[str, Any]:
    """``summary_dict`` of one system plus what an auditor compares: the evidence digest, the
    number of records considered and, when re-performed, the moment and the approximations."""
    from aims_mlops.engine import summary_dict

    data = summary_dict(judgement.assessment.systems[system])
    data["evaluated_at"] = judgement.assessment.evaluated_at
    data["config_digest"] = judgement.assessment.config_digest
    data["evidence_digest"] = judgement.evidence_digest
    data["records_considered"] = len(judgement.records)
    data["as_of"] = judgement.as_of
    data["approximations"] = list(judgement.approximations)
    return data


def summary(
    system: str,
    model_version: str | None = None,
    *,
    config: str | os.PathLike[str] | None = None,
    as_of: str | datetime | None = None,
) -> dict[str, Any]:
    """Where ``system`` stands: the same object ``aims summary --format json`` prints."""
    result = judge(
        config=config, systems=[system], model_versions={system: model_version}, as_of=as_of
    )
    return summary_json(result, system)


def status(*, config: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Every in-scope system's score, risks above appetite and gap count (``aims status``)."""
    from aims_mlops.engine import status_rows

    return status_rows(judge(config=config).assessment)
