"""Gather the three inputs (config, catalog, evidence) and run the pure engine once."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import AimsError
from aims_mlops.catalog import load_catalog
from aims_mlops.config import AimsConfig, default_config_path, load_config
from aims_mlops.engine import (
    assess,
    evidence_digest,
    iso_moment,
    parse_as_of,
    records_as_of,
    status_rows,
    summary_dict,
)
from aims_mlops.evidence import NO_TRUST, IntegrityFinding, Inventory, ModelBinding, TrustPolicy
from aims_mlops.evidence._documents import document_findings
from aims_mlops.judgement._configuration import (
    NOTE_DRAFT_ASKED,
    ConfigurationState,
    configuration_state,
    pinned_key_ids,
    read_ledger,
    rejudge,
    without_ledger_records,
)
from aims_mlops.judgement._integrity import (
    document_scope,
    integrity_summary,
    screen,
    trust_policy,
)
from aims_mlops.judgement._ledger import ledger_screen, read_scope
from aims_mlops.judgement._reperform import pins_as_of
from aims_mlops.ledger import snapshot_of
from aims_mlops.store import AbsentStore, make_store
from aims_mlops.store._inventory import discover

if TYPE_CHECKING:
    from aims_mlops.catalog import Catalog
    from aims_mlops.config import AimsConfig
    from aims_mlops.engine import Assessment, CurrentModel
    from aims_mlops.evidence import EvidenceRecord
    from aims_mlops.evidence._documents import DocumentScope
    from aims_mlops.judgement._ledger import LedgerSummary
    from aims_mlops.ledger import Snapshot
    from aims_mlops.store import EvidenceStore, ReadResult


ERROR_NOT_APPROVED_SYSTEM = (
    "system {system!r} is in the working copy of aims.yaml but not in the approved "
    "configuration (#{sequence}): --draft judges the working copy; `aims config approve` "
    "approves it"
)
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
    #: which configuration the verdict used (approved or draft) and the unapproved changes;
    #: None when the configuration was given in code, not read from aims.yaml
    configuration: ConfigurationState | None = None

    def integrity(self, system: str | None = None) -> dict[str, Any]:
        """What the evidence is worth: signed or not, the note, the findings (of ``system``)."""
        return integrity_summary(self.trust, self.integrity_findings, system=system)

    #: the moment re-performed (``--as-of``), ISO 8601; None: judged now
    as_of: str | None = None
    #: what re-performance had to approximate (the registry keeps no alias history)
    approximations: tuple[str, ...] = ()
    #: the ids of the unsigned records the judgement read (all systems judged), whether they
    #: counted (signatures optional) or are findings
    unsigned_records: tuple[str, ...] = ()
    #: the store's id and the checkpoint the records were held to (None: not checked)
    ledger: LedgerSummary | None = None
    #: what the tracking server holds (registered models, experiments with logged models)
    inventory: Inventory | None = None

    @property
    def evidence_digest(self) -> str:
        """SHA-256 over the configuration digest and the sorted content hashes of every record
        this judgement considered: equal digests, equal inputs."""
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
    trust: TrustPolicy | None = None,
    as_of: str | datetime | None = None,
    draft: bool = False,
    trusted_keys: Iterable[str | os.PathLike[str]] | None = None,
) -> Judgement:
    """Load config, catalog and the evidence of the named (default: all in-scope) systems, and
    assess them. ``model_versions`` pins a system to a registered model version (default: the
    version holding the system's alias, e.g. ``champion``).

    Evidence is read with :meth:`EvidenceStore.records_for` (the current model's run, the
    evidence experiment and, when needed, the system's newest runs: time flat in the history);
    ``full_history`` reads every run of each system instead (:meth:`EvidenceStore.records`);
    ``lookback_runs`` overrides how many newest runs the scaled read may look at. A local
    store that does not exist yet is not created: the verdict has no evidence and
    ``Judgement.store`` is an :class:`~aims_mlops.store.AbsentStore` (reading never writes).

    Every record read is checked (:func:`aims_mlops.judgement._integrity.screen`) against
    ``trust`` (default: aims.yaml ``trust:``): a record that fails is no evidence but an
    integrity finding, and every entry it speaks to is failing.

    ``as_of`` re-performs the verdict at a past moment (a bare date: the end of that day, UTC):
    only records collected by then count, every run is read, and each registered model is
    judged at the version registered last by then (MLflow keeps no alias history; the
    judgement's ``approximations`` say so).

    The configuration judged with is the one approved and in force at the moment judged (the
    store's ledger, :mod:`aims_mlops.judgement._configuration`); the working copy's differences
    are ``configuration.unapproved_changes``. With no approved configuration, or ``draft``,
    the working copy is used and the judgement is a draft. ``trusted_keys`` (default:
    ``$AIMS_TRUSTED_KEYS``) pin the chain's root key. A configuration given as an
    :class:`AimsConfig` object is used as given (no ledger)."""
    moment = parse_as_of(as_of) if as_of is not None else None
    if isinstance(store, AbsentStore):  # a store absent at the last read may exist by now
        store = None
    state: ConfigurationState | None = None
    ledger_findings: list[IntegrityFinding] = []
    approvals: list[EvidenceRecord] = []
    approved_policy: TrustPolicy | None = None
    working: Snapshot | None = None
    if isinstance(config, AimsConfig):
        cfg, path = config, Path("aims.yaml")
        evidence_store = store or make_store(cfg, reading=True)
    else:
        path = Path(config) if config is not None else default_config_path()
        working = snapshot_of(path)
        evidence_store = store or make_store(working.config, reading=True)
        config_ledger, config_read_findings = read_ledger(
            evidence_store, pinned=pinned_key_ids(trusted_keys), working=working
        )
        state = configuration_state(config_ledger, working, moment=moment, draft=draft)
        ledger_findings = [*config_read_findings, *config_ledger.findings]
        if state.draft or state.in_force is None:
            cfg = working.config
            approved_policy = working.policy()
        else:
            cfg = state.in_force.snapshot.config
            approved_policy = state.in_force.snapshot.policy()
        approvals = [
            link.approval
            for link in config_ledger.links
            if moment is None or link.approved_at <= moment
        ]
    wanted = list(systems) if systems is not None else [s.id for s in cfg.assessed_systems]
    approved_link = state.in_force if state is not None and not state.draft else None
    for system_id in wanted:
        if (
            approved_link is not None
            and working is not None
            and system_id not in cfg.system_ids
            and system_id in working.config.system_ids
        ):
            raise AimsError(
                ERROR_NOT_APPROVED_SYSTEM.format(system=system_id, sequence=approved_link.sequence)
            )
        cfg.system(system_id)  # unknown ids raise ConfigError naming the known ones
    bindings = _bindings(cfg, wanted, model_versions or {})
    approximations: list[str] = []
    if moment is not None:
        bindings, approximations = pins_as_of(evidence_store, bindings, moment)
        full_history, now = True, moment
    current = evidence_store.current_models(bindings)  # also carries the runs it fetched
    _check_pinned(bindings, current)
    catalog = load_catalog()
    read = _read(
        evidence_store,
        cfg,
        catalog,
        wanted,
        current=current,
        full_history=full_history,
        lookback_runs=lookback_runs,
    )
    scope = read_scope(
        read.reads,
        read.records,
        read.findings,
        systems=wanted,
        current_runs=[m.run_id for m in current.values() if m is not None and m.run_id],
    )
    records = read.records if moment is None else list(records_as_of(read.records, moment))
    records, read_findings = without_ledger_records(records, read.findings)
    if trust is not None:
        policy = trust
    elif approved_policy is not None:
        policy = approved_policy
    else:
        policy = trust_policy(cfg, path)
    unsigned = tuple(r.id for r in records if r.signature is None)
    records, findings = screen(
        records,
        policy=policy,
        clock=datetime.now(UTC),
        run_ids=read.run_ids,
        findings=read_findings,
    )
    records, findings = _documents_rechecked(records, findings, document_scope(cfg, path))
    records, findings, ledger = ledger_screen(
        evidence_store, records, findings, trust=policy, run_ids=read.run_ids, scope=scope
    )
    records = [*rejudge(records, cfg), *approvals]
    findings = list(dict.fromkeys([*findings, *ledger_findings]))
    # the registered models, for 4.3 (a store that is no MLflow client lists none: not listed)
    client = getattr(evidence_store, "client", None)
    inventory = discover(client, experiments=False) if client is not None else None
    if moment is not None and inventory is not None:
        inventory = inventory.before(iso_moment(moment))
    assessment = assess(
        catalog,
        cfg,
        records,
        current_models=dict(current),
        now=now or datetime.now(UTC),
        systems=wanted,
        findings=findings,
        unsigned=None if policy.configured else policy.note(),
        unapproved_changes=_unapproved(state),
        inventory=inventory,
    )
    return Judgement(
        assessment=assessment,
        config=cfg,
        config_path=path,
        catalog=catalog,
        records=tuple(records),
        current_models=dict(current),
        store=evidence_store,
        trust=policy,
        integrity_findings=tuple(findings),
        read_problems=tuple(dict.fromkeys(read.problems)),
        as_of=iso_moment(moment) if moment is not None else None,
        approximations=tuple(approximations),
        configuration=state,
        unsigned_records=unsigned,
        ledger=ledger,
        inventory=inventory,
    )


def _unapproved(state: ConfigurationState | None) -> tuple[str, ...]:
    """What readiness must name as unapproved: the working copy's changes, and a draft verdict
    itself (no certification audit rests on a configuration nobody approved)."""
    if state is None:
        return ()
    if state.draft:
        return (state.draft_reason or NOTE_DRAFT_ASKED, *state.unapproved_changes)
    return state.unapproved_changes


def _load(config: str | os.PathLike[str] | AimsConfig | None) -> tuple[AimsConfig, Path]:
    """The config and the path it came from (``aims.yaml`` for one given as an object)."""
    if isinstance(config, AimsConfig):
        return config, Path("aims.yaml")
    path = Path(config) if config is not None else default_config_path()
    return load_config(path), path


def _bindings(
    cfg: AimsConfig, systems: Iterable[str], pinned: Mapping[str, str | None]
) -> dict[str, ModelBinding]:
    """Where each system's current model is found (``pinned``: a version given for it)."""
    bindings = {}
    for system_id in systems:
        mlflow = cfg.system(system_id).mlflow
        bindings[system_id] = ModelBinding(
            registered_model=mlflow.registered_model,
            alias=mlflow.alias,
            version=pinned.get(system_id),
            experiment=mlflow.experiment,
        )
    return bindings


@dataclass(frozen=True, kw_only=True)
class _Read:
    """What reading the store gave: each record once, the run each came from, the records that
    failed to parse or verify (findings) and the problems met."""

    records: list[EvidenceRecord]
    run_ids: dict[str, str]
    findings: list[IntegrityFinding]
    problems: list[str]
    #: the reads themselves (what the ledger's scope check needs)
    reads: list[ReadResult]


def _read(
    store: EvidenceStore,
    cfg: AimsConfig,
    catalog: Catalog,
    systems: list[str],
    *,
    current: Any,
    full_history: bool,
    lookback_runs: int | None,
) -> _Read:
    """Read the systems' evidence: every run (``full_history``) or the scaled read."""
    if full_history:
        reads = [store.read(system=system_id) for system_id in systems]
    else:
        reads = [
            store.read_for(
                systems,
                current_models=current,
                experiments={s: cfg.system(s).mlflow.experiment for s in systems},
                kinds={k for e in catalog.entries if e.scope == "system" for k in e.rule.kinds},
                **({} if lookback_runs is None else {"lookback_runs": lookback_runs}),
            )
        ]
    seen: set[str] = set()
    result = _Read(records=[], run_ids={}, findings=[], problems=[], reads=reads)
    for read in reads:
        for record in read.records:
            if record.id not in seen:  # organization-level records come back for every system
                seen.add(record.id)
                result.records.append(record)
        result.run_ids.update({k: v for k, v in read.run_ids.items() if k not in result.run_ids})
        result.findings.extend(read.findings)
        result.problems.extend(read.problems)
    return result


def _documents_rechecked(
    records: list[EvidenceRecord], findings: list[IntegrityFinding], scope: DocumentScope
) -> tuple[list[EvidenceRecord], list[IntegrityFinding]]:
    """An attestation whose local document changed, vanished or cannot be read is no longer
    evidence: it becomes a finding (the entries it speaks to fail, naming the document)."""
    broken = {f.record_id: f for f in document_findings(records, scope=scope) if f.is_problem}
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
    bindings: Mapping[str, ModelBinding], resolved: Mapping[str, CurrentModel | None]
) -> None:
    """A pinned model version must exist: never judge another model in its place."""
    for system_id, binding in bindings.items():
        version = binding.version
        if version is None:
            continue
        model = binding.registered_model
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


def summary_json(judgement: Judgement, system: str) -> dict[str, Any]:
    """``summary_dict`` of one system plus what an auditor compares: the evidence digest, the
    number of records considered, what the evidence is worth (signed or not, the findings) and,
    when re-performed, the moment and the approximations."""
    data = summary_dict(judgement.assessment.systems[system])
    data["evaluated_at"] = judgement.assessment.evaluated_at
    data["config_digest"] = judgement.assessment.config_digest
    data["evidence_digest"] = judgement.evidence_digest
    data["records_considered"] = len(judgement.records)
    data["as_of"] = judgement.as_of
    data["approximations"] = list(judgement.approximations)
    data["integrity"] = judgement.integrity(system)
    data["configuration"] = (
        judgement.configuration.to_dict() if judgement.configuration is not None else None
    )
    data["draft"] = bool(judgement.configuration and judgement.configuration.draft)
    data["ledger"] = judgement.ledger.to_dict() if judgement.ledger is not None else None
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
    return status_rows(judge(config=config).assessment)
