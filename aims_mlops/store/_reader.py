"""Reading evidence: the full read (every run of a system) and the scaled read (time flat in the
history). Both return a :class:`ReadResult`: the intact records and every problem met.

Records are read from the evidence tags (artifacts are downloaded only for pointers) and parsed
by :func:`aims_mlops.store._contract.parse_stored`, the same parse verification uses. An altered,
unreadable or duplicated record is left out of ``records``, named in ``problems`` and returned
as an :class:`~aims_mlops.evidence.IntegrityFinding` in ``findings`` (the judgement turns it into
failing controls). Signatures and the other trust checks are not the reader's: the judgement
applies :func:`aims_mlops.evidence.check_record` to ``records`` with the run each was read from
(``run_ids``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from aims_mlops._errors import StoreError
from aims_mlops.evidence import EvidenceRecord, IntegrityFinding
from aims_mlops.store import _contract as contract
from aims_mlops.store import _search as search
from aims_mlops.store._connection import Connection
from aims_mlops.store._registry import CurrentModels, parallel

if TYPE_CHECKING:
    from mlflow.entities import Run

    from aims_mlops.evidence import CurrentModel

#: Newest runs of a system the scaled read looks at when the current model's run and the
#: evidence experiment do not hold every kind the engine needs.
LOOKBACK_RUNS = 100

PROBLEM_DUPLICATE = "record {id} on run {run_id}: also stored on run {other_run_id}, kept once"


@dataclass(frozen=True)
class RunSeen:
    """A run a read looked at: when it started (ms), its system tag, and whether it is one of the
    evidence experiment's own runs (tag ``aims.kind``) rather than a training run."""

    start_ms: int
    system: str | None
    own: bool


@dataclass(frozen=True)
class ReadResult:
    """What a read fetched: intact records (oldest first) and the problems met, each naming the
    record id and run id (altered, unreadable or duplicated records); ``findings`` are those
    problems as integrity findings; ``run_ids`` maps each record id to the run it was read from."""

    records: tuple[EvidenceRecord, ...]
    problems: tuple[str, ...]
    findings: tuple[IntegrityFinding, ...] = ()
    run_ids: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: every run the read looked at (the ledger's scope)
    runs_read: Mapping[str, RunSeen] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class _Filter:
    """Which records of a run a read keeps."""

    systems: frozenset[str] | None  # None: every system
    include_org: bool = True
    kinds: frozenset[str] | None = None

    def accepts(self, record: EvidenceRecord) -> bool:
        if self.kinds is not None and record.kind not in self.kinds:
            return False
        if record.system is None:
            return self.include_org
        return self.systems is None or record.system in self.systems


def record_kind(record: EvidenceRecord) -> str:
    """The kind a record speaks for (an ``error`` record: the kind its collector failed at)."""
    if record.kind == "error":
        return str(record.details.get("collector_kind") or "error")
    return record.kind


def _why(problem: str, record_id: str, run_id: str) -> str:
    """A parse problem without its ``record <id> on run <run>: `` prefix, the run at the end."""
    prefix = f"record {record_id} on run {run_id}: "
    text = problem.removeprefix(prefix)
    return f"{text} (run {run_id})"


class _Collection:
    """The records of one read, once per id, and the problems met."""

    def __init__(self, reader: Reader) -> None:
        self._reader = reader
        self.found: dict[str, tuple[EvidenceRecord, str]] = {}
        self.problems: list[str] = []
        self.findings: list[IntegrityFinding] = []
        self._listed: dict[tuple[str, str], frozenset[str]] = {}  # (run, folder) -> files
        self.runs: dict[str, RunSeen] = {}

    def _artifact_problem(self, stored: contract.StoredRecord) -> str | None:
        """A record held inline in its tag must have its artifact too (the writer stores the
        artifact first): a tag alone was not written by us. (Its content is compared by
        ``aims verify``; the read checks presence, one listing per run and kind.)"""
        record = stored.record
        if record is None or stored.pointer:
            return None
        where = {"id": stored.record_id, "run_id": stored.run_id}
        try:
            path = contract.artifact_path(record)
        except StoreError as exc:
            return contract.PROBLEM_REFUSED.format(part="artifact path", error=exc, **where)
        folder = path.rsplit("/", 1)[0]
        key = (stored.run_id, folder)
        if key not in self._listed:
            self._listed[key] = search.list_files(self._reader.conn, stored.run_id, folder)
        if path in self._listed[key]:
            return None
        return contract.PROBLEM_ARTIFACT_MISSING.format(path=path, **where)

    def _list_folders(self, run_id: str, stored: list[contract.StoredRecord]) -> None:
        """List, a few at a time, the artifact folders the run's inline records live in."""
        folders: set[str] = set()
        for item in stored:
            if item.record is None or item.pointer:
                continue
            try:
                folders.add(contract.artifact_path(item.record).rsplit("/", 1)[0])
            except StoreError:
                continue  # named by _artifact_problem
        wanted = sorted(f for f in folders if (run_id, f) not in self._listed)
        listings = parallel(
            lambda folder: search.list_files(self._reader.conn, run_id, folder), wanted
        )
        self._listed.update(((run_id, f), files) for f, files in zip(wanted, listings, strict=True))

    def _finding(
        self, run: Run, stored: contract.StoredRecord, keep: _Filter, problems: Iterable[str]
    ) -> None:
        decoded = stored.decoded
        tags = run.data.tags
        system = decoded.system if decoded is not None else tags.get(contract.TAG_SYSTEM)
        system = system if isinstance(system, str) else None
        if system is not None and keep.systems is not None and system not in keep.systems:
            return
        if system is None and decoded is not None and not keep.include_org:
            return
        kind = record_kind(decoded) if decoded is not None else tags.get(contract.TAG_KIND)
        controls = decoded.controls if decoded is not None else ()
        self.findings.extend(
            IntegrityFinding(
                record_id=stored.record_id,
                why=_why(problem, stored.record_id, stored.run_id),
                run_id=stored.run_id,
                kind=kind if isinstance(kind, str) else None,
                system=system,
                controls=tuple(c for c in controls if isinstance(c, str)),
            )
            for problem in problems
        )

    def add(self, run: Run, keep: _Filter) -> list[EvidenceRecord]:
        """Add the run's intact records ``keep`` accepts; a second, different copy of an id is a
        problem. Returns the records added."""
        run_id = run.info.run_id
        tags = run.data.tags
        self.runs[run_id] = RunSeen(
            start_ms=int(run.info.start_time or 0),
            system=tags.get(contract.TAG_SYSTEM),
            own=contract.TAG_KIND in tags,
        )
        added: list[EvidenceRecord] = []
        parsed = [
            self._reader.parse(run_id, record_id, value)
            for record_id, value in contract.evidence_tags(run.data.tags).items()
        ]
        kept = [s for s in parsed if s.record is not None and keep.accepts(s.record)]
        self._list_folders(run_id, kept)
        for stored in parsed:
            record = stored.record
            if stored.problems:
                self.problems.extend(stored.problems)
                self._finding(run, stored, keep, stored.problems)
            elif (
                record is not None
                and keep.accepts(record)
                and (missing := self._artifact_problem(stored)) is not None
            ):
                self.problems.append(missing)
                self._finding(run, stored, keep, [missing])
                continue
            if record is None or not keep.accepts(record):
                continue
            earlier = self.found.get(record.id)
            if earlier is None:
                self.found[record.id] = (record, run_id)
                added.append(record)
            elif earlier[0].content_hash == record.content_hash:
                if run_id == record.subject.run_id != earlier[1]:
                    self.found[record.id] = (earlier[0], run_id)  # the copy on its own run
            else:
                problem = PROBLEM_DUPLICATE.format(
                    id=record.id, run_id=run_id, other_run_id=earlier[1]
                )
                self.problems.append(problem)
                self._finding(run, stored, keep, [problem])
        return added

    def result(self) -> ReadResult:
        found = sorted(self.found.values(), key=lambda pair: (pair[0].collected_at, pair[0].id))
        return ReadResult(
            records=tuple(r for r, _ in found),
            problems=tuple(dict.fromkeys(self.problems)),
            findings=tuple(dict.fromkeys(self.findings)),
            run_ids=MappingProxyType({r.id: run_id for r, run_id in found}),
            runs_read=MappingProxyType(dict(self.runs)),
        )


class Reader:
    """Reads evidence from one connection; remembers records it already parsed and checked."""

    def __init__(self, conn: Connection, *, evidence_experiment: str) -> None:
        self._conn = conn
        self.evidence_experiment = evidence_experiment
        self._cache: dict[tuple[str, str], contract.StoredRecord] = {}

    @property
    def conn(self) -> Connection:
        return self._conn

    def parse(self, run_id: str, record_id: str, value: str) -> contract.StoredRecord:
        """One evidence tag, parsed and hash-checked; intact records are cached."""
        cache_key = (record_id, value)
        cached = self._cache.get(cache_key)
        if cached is not None and cached.run_id == run_id:
            return cached
        stored = contract.parse_stored(
            run_id=run_id,
            record_id=record_id,
            value=value,
            fetch=functools.partial(search.fetch_artifact, self._conn, run_id),
        )
        if stored.record is not None:
            self._cache[cache_key] = stored
        return stored

    def read(
        self,
        *,
        system: str | None = None,
        kinds: Iterable[str] | None = None,
        run_ids: Iterable[str] | None = None,
        include_org: bool = True,
        max_runs: int | None = None,
        experiment_ids: Iterable[str] | None = None,
        organization_only: bool = False,
    ) -> ReadResult:
        """Intact records of ``system`` (all systems when None) and, with ``include_org``, the
        organization's, from every run tagged for them (``organization_only``: the
        organization's records alone, from its runs alone)."""
        systems = None if system is None else frozenset({system})
        if organization_only:
            system, systems, include_org = None, frozenset(), True
        keep = _Filter(
            systems=systems,
            include_org=include_org,
            kinds=frozenset(kinds) if kinds is not None else None,
        )
        collection = _Collection(self)
        with self._conn.reading():
            runs = search.evidence_runs(
                self._conn,
                evidence_experiment=self.evidence_experiment,
                system=system,
                run_ids=run_ids,
                include_org=include_org,
                max_runs=max_runs,
                experiment_ids=experiment_ids,
                organization_only=organization_only,
            )
            for run in runs:
                collection.add(run, keep)
        return collection.result()

    def read_for(
        self,
        systems: Iterable[str],
        *,
        current_models: Mapping[str, CurrentModel | None],
        experiments: Mapping[str, str | None] | None = None,
        kinds: Iterable[str] | None = None,
        lookback_runs: int = LOOKBACK_RUNS,
    ) -> ReadResult:
        """The scaled read (see :meth:`aims_mlops.store.EvidenceStore.read_for`). When
        ``current_models`` is a :class:`CurrentModels`, the runs and experiment listing it
        carries are used instead of fetching them again."""
        scaled = _ScaledRead(
            self,
            systems=list(dict.fromkeys(systems)),
            current_models=current_models,
            experiments=experiments or {},
            kinds=set(kinds) if kinds is not None else None,
            lookback_runs=lookback_runs,
        )
        return scaled.run()


class _ScaledRead:
    """One scaled read: the current runs, the evidence experiment, the organization's records,
    then, only where needed, one page of each system's newest runs."""

    def __init__(
        self,
        reader: Reader,
        *,
        systems: list[str],
        current_models: Mapping[str, CurrentModel | None],
        experiments: Mapping[str, str | None],
        kinds: set[str] | None,
        lookback_runs: int,
    ) -> None:
        self._reader = reader
        self._conn = reader.conn
        self._systems = systems
        self._wanted = frozenset(systems)
        self._current = current_models
        self._bound = experiments
        self._kinds = kinds
        self._lookback = lookback_runs
        handed = current_models if isinstance(current_models, CurrentModels) else None
        self._handed_runs: Mapping[str, Run] = handed.runs if handed is not None else {}
        self._listing: dict[str, str] | None = handed.experiments if handed is not None else None
        self._collection = _Collection(reader)
        self._kinds_of: dict[str, set[str]] = {system: set() for system in systems}

    def run(self) -> ReadResult:
        with self._conn.reading():
            for run in self._current_runs():
                self._take(run)
            for run in self._evidence_experiment_runs():
                self._take(run)
            for run in search.search(
                self._conn, self._all_experiments(), contract.organization_filter()
            ):
                self._take(run)
            looking = [s for s in self._systems if self._needs_lookback(s)]
            for page in parallel(self._look, looking):
                for run in page:
                    self._take(run)
        return self._collection.result()

    def _experiment_listing(self) -> dict[str, str]:
        if self._listing is None:
            self._listing = search.experiment_listing(self._conn)
        return self._listing

    def _all_experiments(self) -> list[str]:
        return list(self._experiment_listing().values())

    def _take(self, run: Run) -> None:
        """Keep the run's records the full read would keep for some wanted system."""
        tags = run.data.tags
        systems_of_run = frozenset({tags.get(contract.TAG_SYSTEM)}) & self._wanted
        if tags.get(contract.TAG_SCOPE) == contract.SCOPE_ORGANIZATION:
            systems_of_run = self._wanted
        for record in self._collection.add(run, _Filter(systems=systems_of_run)):
            if record.system is not None:
                self._kinds_of[record.system].add(record_kind(record))

    def _current_runs(self) -> list[Run]:
        """The current models' runs that the full read would also find (tagged for a wanted
        system or the organization; never a soft-deleted run, which a search does not find)."""
        runs: list[Run] = []
        for system in self._systems:
            model = self._current.get(system)
            if model is None or not model.run_id:
                continue
            run = self._handed_runs.get(model.run_id) or search.get_run(self._conn, model.run_id)
            if run is None or run.info.lifecycle_stage == "deleted":
                # MLflow returns a soft-deleted run by its id: its records are not evidence,
                # and a checkpointed one is a finding (the ledger's check names it)
                continue
            tags = run.data.tags
            if (
                tags.get(contract.TAG_SYSTEM) in self._wanted
                or tags.get(contract.TAG_SCOPE) == contract.SCOPE_ORGANIZATION
            ):
                runs.append(run)
        return runs

    def _evidence_experiment_runs(self) -> list[Run]:
        """System-level records of the wanted systems (one search of the evidence experiment)."""
        evidence = search.experiment_id(self._conn, self._reader.evidence_experiment)
        if evidence is None or not self._systems:
            return []
        only = self._systems[0] if len(self._systems) == 1 else None
        found = search.search(self._conn, [evidence], contract.system_filter(only))
        return [run for run in found if run.data.tags.get(contract.TAG_SYSTEM) in self._wanted]

    def _needs_lookback(self, system: str) -> bool:
        """False when the system has a current run and every needed kind was read already."""
        model = self._current.get(system)
        return not (
            model is not None
            and model.run_id
            and self._kinds is not None
            and self._kinds <= self._kinds_of[system]
        )

    def _look(self, system: str) -> list[Run]:
        """One page of the system's newest runs in its bound experiment (all when unbound), and
        when that page is full and no data-quality record read so far is about the current
        model's datasets, the newest runs tagged with each of those datasets."""
        name = self._bound.get(system)
        bound_id = self._experiment_listing().get(name) if name else None
        ids = [bound_id] if bound_id is not None else self._all_experiments()
        system_filter = contract.system_filter(system)
        page = search.newest_runs(self._conn, ids, system_filter, self._lookback)
        model = self._current.get(system)
        digests = model.dataset_digests if model is not None else ()
        if len(page) < self._lookback or not digests or self._has_quality_for(system, digests):
            return page
        for digest in digests:
            dataset_filter = (
                f"{system_filter} and "
                f"{contract.has_tag_filter(contract.dataset_sha256_tag(digest))}"
            )
            page.extend(search.newest_runs(self._conn, ids, dataset_filter, self._lookback))
        return page

    def _has_quality_for(self, system: str, digests: tuple[str, ...]) -> bool:
        current = set(digests)
        return any(
            record_kind(r) == "data_quality"
            and r.system == system
            and current & set(r.subject.dataset_digests)
            for r, _ in self._collection.found.values()
        )
