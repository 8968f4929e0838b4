"""The store side of the ledger: the store's id, the listing of every evidence tag (deleted runs
too), reading the checkpoint chain and writing the next checkpoint.

Layout: the store id is the evidence experiment's tag :data:`TAG_STORE_ID` (with
:data:`TAG_STORE_CREATED` its creation time), set once by the first writer. Each checkpoint has
a run of its own in the evidence experiment, tagged :data:`TAG_LEDGER` ``checkpoint`` (never
``aims.scope`` or ``aims.system``: evidence reads do not see it) holding the checkpoint record in
:data:`TAG_CHECKPOINT`, and the artifact :data:`ENTRIES_ARTIFACT`: the entries it wrote (its
segment; the head's segments together list every record).
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aims_mlops._errors import EvidenceError, StoreError
from aims_mlops._json import loads_bounded
from aims_mlops.evidence import (
    EvidenceRecord,
    IntegrityFinding,
    SigningKey,
    TrustPolicy,
    check_record,
)
from aims_mlops.ledger import (
    ENTRIES_PATH,
    MAX_ENTRIES_BYTES,
    WHY_ENTRIES_ALTERED,
    WHY_SEGMENT_COUNT,
    ChainProblem,
    Checkpoint,
    Copy,
    Entry,
    LedgerError,
    Scope,
    Segment,
    check_chain,
    check_entries,
    check_head,
    check_scoped,
    entries_bytes,
    fresh_entries,
    merged_tail,
    next_checkpoint,
    parse_entries,
    tag_sha256,
)
from aims_mlops.store import _contract as contract
from aims_mlops.store import _search as search
from aims_mlops.store._connection import Connection

if TYPE_CHECKING:
    from mlflow.entities import Run

TAG_STORE_ID = "aims.store_id"
TAG_STORE_CREATED = "aims.store_id.created_at"
TAG_LEDGER = "aims.ledger"
TAG_CHECKPOINT = "aims.checkpoint"
TAG_SUPERSEDED = "aims.ledger.superseded"
LEDGER_CHECKPOINT = "checkpoint"
ENTRIES_ARTIFACT = ENTRIES_PATH
#: Runs per listing request (MLflow's own ceiling for one search).
LISTING_PAGE = 50_000
#: The newest checkpoints a verdict reads (``aims verify`` reads them all).
HEAD_PAGE = 10
#: Runs looked up one by one in a scoped check before a full listing is cheaper.
LOOKUP_LIMIT = 100
LEDGER_FILTER = f"tags.`{TAG_LEDGER}` = '{LEDGER_CHECKPOINT}'"

WHY_CHECKPOINT_DELETED = "checkpoint {n} sits in deleted run {run_id}: checkpoints were removed"
WHY_CHECKPOINT_UNTRUSTED = "checkpoint {n} failed verification: {why}"
WHY_CHECKPOINT_OTHER_STORE = (
    "checkpoint {n} was written for store {theirs}, not this store ({ours}): copied from elsewhere"
)
WHY_ENTRIES_MISSING = "checkpoint {n}: its entry list {path} is missing or unreadable"


@dataclass(frozen=True)
class StoreIdentity:
    """A store's id and when it was created (records written since then carry it)."""

    store_id: str
    created_at: str | None


def identity(conn: Connection, evidence_experiment: str) -> StoreIdentity | None:
    """The store's id (None: it has none yet, or no evidence experiment)."""
    experiment = conn.client.get_experiment_by_name(evidence_experiment)
    if experiment is None:
        return None
    tags = experiment.tags or {}
    value = tags.get(TAG_STORE_ID)
    return StoreIdentity(value, tags.get(TAG_STORE_CREATED)) if value else None


def ensure_identity(conn: Connection, evidence_experiment: str) -> StoreIdentity:
    """The store's id, created (once) when absent; creates the evidence experiment if needed."""
    client = conn.client
    found = identity(conn, evidence_experiment)
    if found is not None:
        return found
    experiment_id = _evidence_experiment_id(conn, evidence_experiment)
    created = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    new_id = _derived_store_id(conn, experiment_id)
    write = functools.partial(conn.write_call, record_id="store-id")
    write(functools.partial(client.set_experiment_tag, experiment_id, TAG_STORE_CREATED, created))
    write(functools.partial(client.set_experiment_tag, experiment_id, TAG_STORE_ID, new_id))
    return identity(conn, evidence_experiment) or StoreIdentity(new_id, created)


def _derived_store_id(conn: Connection, experiment_id: str) -> str:
    """The store's id from what the tracking server fixed when the evidence experiment was
    created (its id and creation time): writers that meet a store without an id at the same
    moment all write the same one (MLflow's tags have no compare-and-set), while another store's
    evidence experiment, created at another moment, gives another id."""
    experiment = conn.client.get_experiment(experiment_id)
    if not experiment.creation_time:  # a store that keeps no creation time: a random id
        return uuid.uuid4().hex
    seed = f"aims-store\n{experiment_id}\n{experiment.creation_time}\n{experiment.name}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def _evidence_experiment_id(conn: Connection, name: str) -> str:
    client = conn.client
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return str(experiment.experiment_id)
    try:
        return str(
            conn.write_call(functools.partial(client.create_experiment, name), record_id=name)
        )
    except StoreError:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return str(experiment.experiment_id)


# -- the listing ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Listing:
    """Every evidence tag in the store, deleted runs included (record id -> copies), and the
    checkpoint runs."""

    copies: dict[str, list[Copy]]
    checkpoint_runs: list[Run]
    runs: dict[str, Run]


def _all_experiment_ids(conn: Connection) -> list[str]:
    from mlflow.entities import ViewType

    ids: list[str] = []
    token: str | None = None
    while True:
        page = conn.client.search_experiments(
            view_type=ViewType.ALL, max_results=search.PAGE_SIZE, page_token=token
        )
        ids.extend(str(e.experiment_id) for e in page)
        token = page.token
        if not token:
            return ids


def _search_all(conn: Connection, ids: list[str], filter_string: str) -> Iterable[Run]:
    from mlflow.entities import ViewType

    for start in range(0, len(ids), search.EXPERIMENT_CHUNK):
        token: str | None = None
        while True:
            page = conn.client.search_runs(
                ids[start : start + search.EXPERIMENT_CHUNK],
                filter_string=filter_string,
                run_view_type=ViewType.ALL,
                max_results=LISTING_PAGE,
                page_token=token,
            )
            yield from page
            token = page.token
            if not token:
                break


def checkpoint_runs(conn: Connection, evidence_experiment: str) -> list[Run]:
    """Every checkpoint run (deleted ones too); inside ``conn.reading()``."""
    evidence = search.experiment_id(conn, evidence_experiment)
    if evidence is None:
        return []
    return list(_search_all(conn, [evidence], LEDGER_FILTER))


def listing(
    conn: Connection, evidence_experiment: str, *, checkpoints: list[Run] | None = None
) -> Listing:
    """Every run holding evidence (system or organization, deleted or not) and every checkpoint
    run; must run inside ``conn.reading()``."""
    ids = _all_experiment_ids(conn)
    copies: dict[str, list[Copy]] = {}
    runs: dict[str, Run] = {}
    for filter_string in (contract.system_filter(None), contract.organization_filter()):
        for run in _search_all(conn, ids, filter_string):
            if run.info.run_id in runs:
                continue
            runs[run.info.run_id] = run
            deleted = run.info.lifecycle_stage == "deleted"
            for record_id, value in contract.evidence_tags(run.data.tags).items():
                copies.setdefault(record_id, []).append(
                    Copy(run_id=run.info.run_id, deleted=deleted, value=value)
                )
    if checkpoints is None:
        checkpoints = checkpoint_runs(conn, evidence_experiment)
    return Listing(copies=copies, checkpoint_runs=checkpoints, runs=runs)


def entry_for(record_id: str, copy: Copy, run: Run | None) -> Entry | None:
    """The entry of one stored copy (None when its tag states no content hash)."""
    try:
        data = loads_bounded(copy.value, what="the evidence tag")
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("content_hash"), str):
        return None
    tags = run.data.tags if run is not None else {}
    if contract.is_pointer(data):
        kind = str(data.get("artifact", "")).split("/")[-2:-1] or [None]
        return Entry(
            record_id=record_id,
            content_hash=data["content_hash"],
            run_id=copy.run_id,
            kind=kind[0],
            system=tags.get(contract.TAG_SYSTEM),
            controls=(),
            checkpoint=0,
            tag_sha256=tag_sha256(copy.value),
            own_run=contract.TAG_KIND in tags,
            run_started_ms=_started(run),
        )
    kind = data.get("kind")
    if kind == "error":
        kind = (data.get("details") or {}).get("collector_kind") or kind
    controls = data.get("controls") or []
    subject = data.get("subject") if isinstance(data.get("subject"), dict) else {}
    collected = data.get("collected_at")
    return Entry(
        record_id=record_id,
        content_hash=data["content_hash"],
        run_id=copy.run_id,
        kind=kind if isinstance(kind, str) else None,
        system=data.get("system") if isinstance(data.get("system"), str) else None,
        controls=tuple(c for c in controls if isinstance(c, str)),
        checkpoint=0,
        tag_sha256=tag_sha256(copy.value),
        collected_at=collected if isinstance(collected, str) else None,
        own_run=not subject.get("run_id"),
        run_started_ms=_started(run),
    )


def _started(run: Run | None) -> int | None:
    start = run.info.start_time if run is not None else None
    return int(start) if start is not None else None


# -- the chain -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Chain:
    """The checkpoints found (newest last), the head's entries (each record once, as first
    listed) and what is wrong with them."""

    checkpoints: tuple[Checkpoint, ...]
    entries: tuple[Entry, ...]
    problems: tuple[ChainProblem, ...]
    #: checkpoint record id -> the (active) run that holds it
    runs: Mapping[str, str] = field(default_factory=dict)

    @property
    def head(self) -> Checkpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None

    def head_segments(self) -> list[Segment]:
        """The head's segments, each naming its run."""
        head = self.head
        if head is None:
            return []
        return [x.in_run(self.runs.get(head.record.id)) for x in head.segments]


def _checked(
    runs: Iterable[Run], *, trust: TrustPolicy, clock: datetime
) -> tuple[list[Checkpoint], list[ChainProblem], dict[str, str]]:
    """The trusted checkpoints of ``runs`` (one per sequence: the first written), the problems
    of the others, and the run of each checkpoint."""
    checkpoints: list[Checkpoint] = []
    problems: list[ChainProblem] = []
    where: dict[str, str] = {}
    for run in runs:
        tags = run.data.tags
        if tags.get(TAG_SUPERSEDED):
            continue
        value = tags.get(TAG_CHECKPOINT)
        try:
            record = EvidenceRecord.from_json(value or "", verify=True)
            checkpoint = Checkpoint.of(record, source=f"run {run.info.run_id}")
        except (EvidenceError, LedgerError) as exc:
            problems.append(ChainProblem(record_id=run.info.run_id, why=str(exc)))
            continue
        why = check_record(record, policy=trust, kinds=None, clock=clock)
        if why is not None:
            problems.append(
                ChainProblem(
                    record_id=record.id,
                    why=WHY_CHECKPOINT_UNTRUSTED.format(n=checkpoint.sequence, why=why),
                )
            )
            continue
        if run.info.lifecycle_stage == "deleted":
            problems.append(
                ChainProblem(
                    record_id=record.id,
                    why=WHY_CHECKPOINT_DELETED.format(
                        n=checkpoint.sequence, run_id=run.info.run_id
                    ),
                )
            )
            continue
        where.setdefault(record.id, str(run.info.run_id))
        checkpoints.append(checkpoint)
    checkpoints.sort(key=lambda c: (c.sequence, c.record.collected_at, c.record.id))
    # two writers raced for a sequence: the first written wins (the other marks itself
    # superseded and retries; until it has, it is not part of the chain)
    checkpoints = [
        c for i, c in enumerate(checkpoints) if i == 0 or c.sequence != checkpoints[i - 1].sequence
    ]
    return checkpoints, problems, where


def read_segments(
    conn: Connection, head: Checkpoint, segments: Sequence[Segment]
) -> tuple[list[Entry] | None, list[ChainProblem]]:
    """The entries of ``segments`` (runs named) in order, each checked against its SHA-256 and
    count; (None, problems) when one is missing, altered or unreadable. Inside
    ``conn.reading()``."""
    entries: list[Entry] = []
    problems: list[ChainProblem] = []
    for segment in segments:
        data = (
            search.fetch_artifact(conn, segment.run_id, segment.path, max_bytes=MAX_ENTRIES_BYTES)
            if segment.run_id
            else None
        )
        why = None
        if data is None:
            why = WHY_ENTRIES_MISSING.format(n=segment.checkpoint, path=segment.path)
        elif hashlib.sha256(data).hexdigest() != segment.sha256:
            why = WHY_ENTRIES_ALTERED.format(n=segment.checkpoint)
        else:
            try:
                found = parse_entries(data, sequence=segment.checkpoint)
            except LedgerError as exc:
                why = str(exc)
            else:
                if len(found) != segment.count:
                    why = WHY_SEGMENT_COUNT.format(
                        n=segment.checkpoint, found=len(found), count=segment.count
                    )
                entries.extend(found)
        if why is not None:
            problems.append(ChainProblem(record_id=head.record.id, why=why))
    return (None if problems else entries), problems


def _first_listed(entries: Iterable[Entry]) -> tuple[Entry, ...]:
    """Each record once, as first listed (two writers may both have appended a record)."""
    seen: set[str] = set()
    kept: list[Entry] = []
    for entry in entries:
        if entry.record_id not in seen:
            seen.add(entry.record_id)
            kept.append(entry)
    return tuple(kept)


def read_chain(
    conn: Connection,
    found: Listing,
    *,
    trust: TrustPolicy,
    clock: datetime,
    partial: bool = False,
) -> Chain:
    """The checkpoint chain from ``found``'s checkpoint runs (``partial``: only the newest),
    the head's list read from its segments and every checkpoint's root checked against it;
    inside ``conn.reading()``."""
    checkpoints, problems, where = _checked(found.checkpoint_runs, trust=trust, clock=clock)
    entries: tuple[Entry, ...] = ()
    if checkpoints:
        head = checkpoints[-1]
        segments = [x.in_run(where.get(head.record.id)) for x in head.segments]
        listed, missing = read_segments(conn, head, segments)
        problems.extend(missing)
        if listed is not None:
            problems.extend(check_chain(checkpoints, listed, partial=partial))
            entries = _first_listed(listed)
    return Chain(
        checkpoints=tuple(checkpoints), entries=entries, problems=tuple(problems), runs=where
    )


# -- verification --------------------------------------------------------------------------------
@dataclass(frozen=True)
class LedgerReport:
    """What the ledger says about a store: findings on listed records (each failing what it
    spoke to), chain problems, the head, and the ids of listed records whose stored copy is not
    the one listed (never evidence)."""

    findings: tuple[IntegrityFinding, ...]
    problems: tuple[ChainProblem, ...]
    head: Checkpoint | None
    replaced: frozenset[str]
    listed: int


def verify_ledger(
    conn: Connection,
    evidence_experiment: str,
    *,
    trust: TrustPolicy,
    clock: datetime | None = None,
    kept_heads: Sequence[EvidenceRecord] = (),
) -> LedgerReport:
    """Check the chain and every listed record; ``kept_heads`` (checkpoints an auditor kept)
    must still be in the chain."""
    now = clock or datetime.now(UTC)
    with conn.reading():
        ours = identity(conn, evidence_experiment)
        runs = checkpoint_runs(conn, evidence_experiment)
        if not runs and not kept_heads:  # nothing checkpointed yet: nothing to hold records to
            return LedgerReport(findings=(), problems=(), head=None, replaced=frozenset(), listed=0)
        found = listing(conn, evidence_experiment, checkpoints=runs)
        chain = read_chain(conn, found, trust=trust, clock=now)
    problems = list(chain.problems)
    problems.extend(_other_store_problems(chain, ours))
    for kept in kept_heads:
        problems.extend(check_head(Checkpoint.of(kept, source="head"), chain.checkpoints))
    findings = check_entries(chain.entries, found.copies)
    replaced = frozenset(f.record_id for f in findings)
    return LedgerReport(
        findings=tuple(findings),
        problems=tuple(problems),
        head=chain.head,
        replaced=replaced,
        listed=len(chain.entries),
    )


# -- writing -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckpointResult:
    """The checkpoint written (None: nothing was added since the last) and how many it added."""

    checkpoint: Checkpoint | None
    added: int
    run_id: str | None


def write_checkpoint(
    conn: Connection,
    evidence_experiment: str,
    *,
    key: SigningKey | None,
    trust: TrustPolicy,
    force: bool = False,
    added: Sequence[tuple[EvidenceRecord, str]] | None = None,
    attempts: int = 3,
) -> CheckpointResult:
    """Append every record not yet listed to a new checkpoint (signed with ``key``). Nothing is
    written when nothing was added (unless ``force``). ``added`` (records just written, with
    their runs): append only those, without listing the store (capture's checkpoint).

    Incremental: the head is found among the newest checkpoint runs, the new checkpoint's
    artifact holds the records it appends plus the newest segments no larger than those
    (:func:`aims_mlops.ledger.merged_tail`), and its root extends the head's frontier: the cost
    follows the records added, not the store (the sweep, ``added`` None, still lists the
    store to find what is not listed). A head whose list cannot be read is never built on.
    Two writers racing for the same sequence: the later marks its own run superseded and
    tries again on top of the other."""
    with conn.reading():
        store = ensure_identity(conn, evidence_experiment)
    for _ in range(attempts):
        now = datetime.now(UTC)
        with conn.reading():
            newest = newest_checkpoint_runs(conn, evidence_experiment)
            if newest and not _checked(newest, trust=trust, clock=now)[0]:
                newest = checkpoint_runs(conn, evidence_experiment)  # none trusted: look further
            if added is None:
                found = listing(conn, evidence_experiment, checkpoints=newest)
                chain = read_chain(conn, found, trust=trust, clock=now, partial=True)
                candidates = _unlisted(found, {e.record_id for e in chain.entries})
            else:
                checkpoints, problems, where = _checked(newest, trust=trust, clock=now)
                chain = Chain(
                    checkpoints=tuple(checkpoints), entries=(), problems=tuple(problems), runs=where
                )
                candidates = _added_entries(conn, added)
            head = chain.head
            sequence = head.sequence + 1 if head is not None else 1
            fresh = fresh_entries(candidates, sequence=sequence)
            if not fresh and head is not None and not force:
                return CheckpointResult(checkpoint=None, added=0, run_id=None)
            segments = chain.head_segments()
            merged = merged_tail(segments, len(fresh))
            kept = segments[: len(segments) - merged]
            carried, unreadable = (
                read_segments(conn, head, segments[len(kept) :]) if head else ([], [])
            )
            if carried is None:
                raise StoreError(ERROR_HEAD_UNREADABLE.format(why=unreadable[0].why))
        record, own = next_checkpoint(
            head, fresh, store_id=store.store_id, kept=kept, carried=carried
        )
        record = stamped(record, store.store_id)
        if key is not None:
            record = record.signed(key)
        with conn.reading():  # MLflow's own errors as StoreError, like every write
            run_id = _store_checkpoint(conn, evidence_experiment, record, own)
        if not _lost_race(conn, evidence_experiment, record, run_id):
            return CheckpointResult(checkpoint=Checkpoint(record), added=len(fresh), run_id=run_id)
    raise StoreError(ERROR_RACE.format(attempts=attempts))


ERROR_HEAD_UNREADABLE = (
    "the newest checkpoint's entry list cannot be read ({why}); no checkpoint is written on "
    "top of it: run `aims verify`"
)


def _added_entries(conn: Connection, added: Sequence[tuple[EvidenceRecord, str]]) -> list[Entry]:
    """The entries of records just written (with their runs); inside ``conn.reading()``."""
    started = {
        run_id: _started(search.get_run(conn, run_id))
        for run_id in dict.fromkeys(r for _, r in added)
    }
    entries: list[Entry] = []
    for record, run_id in added:
        value = contract.tag_value(record)
        entry = entry_for(record.id, Copy(run_id=run_id, deleted=False, value=value), None)
        if entry is not None:
            entries.append(
                replace(
                    entry,
                    system=record.system,
                    collected_at=record.collected_at,
                    own_run=record.subject.run_id is None,
                    run_started_ms=started.get(run_id),
                )
            )
    return entries


def _unlisted(found: Listing, listed: set[str]) -> list[Entry]:
    """The entries of stored records (on active runs) that no checkpoint lists yet."""
    entries: list[Entry] = []
    for record_id in sorted(found.copies):
        if record_id in listed:
            continue
        for copy in found.copies[record_id]:
            entry = (
                None if copy.deleted else entry_for(record_id, copy, found.runs.get(copy.run_id))
            )
            if entry is not None:
                entries.append(entry)
                break
    return entries


ERROR_RACE = "another writer kept checkpointing at the same time; gave up after {attempts} tries"


def _store_checkpoint(
    conn: Connection, evidence_experiment: str, record: EvidenceRecord, entries: Sequence[Entry]
) -> str:
    client = conn.client
    experiment_id = _evidence_experiment_id(conn, evidence_experiment)
    write = functools.partial(conn.write_call, record_id=record.id)
    sequence = int(record.details["sequence"])
    run = write(
        functools.partial(
            client.create_run,
            experiment_id,
            run_name=f"checkpoint:{sequence}",
            tags={TAG_LEDGER: LEDGER_CHECKPOINT, contract.TAG_KIND: "checkpoint"},
        )
    )
    run_id = run.info.run_id
    write(
        functools.partial(
            client.log_text, run_id, entries_bytes(entries).decode("utf-8"), ENTRIES_ARTIFACT
        )
    )
    write(functools.partial(client.set_tag, run_id, TAG_CHECKPOINT, record.to_json()))
    write(functools.partial(client.set_terminated, run_id, "FINISHED"))
    return str(run_id)


def _lost_race(
    conn: Connection, evidence_experiment: str, record: EvidenceRecord, run_id: str
) -> bool:
    """True (and this run marked superseded) when another checkpoint of the same sequence was
    written first (earlier ``collected_at``, then lower id)."""
    sequence = int(record.details["sequence"])
    with conn.reading():  # a rival of the same sequence is among the newest
        runs = newest_checkpoint_runs(conn, evidence_experiment)
    rivals: list[EvidenceRecord] = []
    for run in runs:
        tags = run.data.tags
        if run.info.run_id == run_id or tags.get(TAG_SUPERSEDED) or not tags.get(TAG_CHECKPOINT):
            continue
        try:
            other = EvidenceRecord.from_json(tags[TAG_CHECKPOINT])
        except EvidenceError:
            continue
        if other.kind == "checkpoint" and other.details.get("sequence") == sequence:
            rivals.append(other)
    mine = (record.collected_at, record.id)
    if not any((o.collected_at, o.id) < mine for o in rivals):
        return False
    conn.write_call(
        functools.partial(conn.client.set_tag, run_id, TAG_SUPERSEDED, "lost a race"),
        record_id=record.id,
    )
    return True


def stamped(record: EvidenceRecord, store_id: str | None) -> EvidenceRecord:
    """``record`` naming ``store_id`` (re-hashed; the caller signs). Unchanged when it names a
    store already or ``store_id`` is None."""
    if store_id is None or record.store_id is not None:
        return record
    if record.signature is not None:
        return record  # a signature covers the content: never change a signed record
    fresh = replace(record, store_id=store_id)
    return replace(fresh, content_hash=fresh.compute_hash())


# -- the scoped check (what a verdict reads) -----------------------------------------------------
def newest_checkpoint_runs(conn: Connection, evidence_experiment: str) -> list[Run]:
    """The newest :data:`HEAD_PAGE` active checkpoint runs; inside ``conn.reading()``."""
    from mlflow.entities import ViewType

    evidence = search.experiment_id(conn, evidence_experiment)
    if evidence is None:
        return []
    return list(
        conn.client.search_runs(
            [evidence],
            filter_string=LEDGER_FILTER,
            run_view_type=ViewType.ACTIVE_ONLY,
            max_results=HEAD_PAGE,
            order_by=["attributes.start_time DESC"],
        )
    )


def newest_chain(
    conn: Connection, evidence_experiment: str, *, trust: TrustPolicy, clock: datetime
) -> Chain:
    """The newest :data:`HEAD_PAGE` checkpoints, checked among themselves and against the head's
    list; inside ``conn.reading()``."""
    runs = newest_checkpoint_runs(conn, evidence_experiment)
    found = Listing(copies={}, checkpoint_runs=runs, runs={})
    return read_chain(conn, found, trust=trust, clock=clock, partial=True)


def deleted_runs(conn: Connection) -> tuple[frozenset[str], list[Run]]:
    """(ids of deleted runs and of runs in deleted experiments, the deleted checkpoint runs);
    inside ``conn.reading()``. Deleted runs are few: this is one small search."""
    from mlflow.entities import ViewType

    experiments: list[tuple[str, str]] = []
    token: str | None = None
    while True:
        page = conn.client.search_experiments(
            view_type=ViewType.ALL, max_results=search.PAGE_SIZE, page_token=token
        )
        experiments.extend((str(e.experiment_id), e.lifecycle_stage) for e in page)
        token = page.token
        if not token:
            break
    ids = [i for i, _ in experiments]
    gone = [i for i, stage in experiments if stage == "deleted"]
    found: dict[str, Run] = {}
    for start in range(0, len(ids), search.EXPERIMENT_CHUNK):
        for run in conn.client.search_runs(
            ids[start : start + search.EXPERIMENT_CHUNK],
            run_view_type=ViewType.DELETED_ONLY,
            max_results=LISTING_PAGE,
        ):
            found[run.info.run_id] = run
    for run in _search_all(conn, gone, "") if gone else ():
        found[run.info.run_id] = run
    checkpoints = [
        run
        for run in found.values()
        if run.data.tags.get(TAG_LEDGER) == LEDGER_CHECKPOINT
        and not run.data.tags.get(TAG_SUPERSEDED)
    ]
    return frozenset(found), checkpoints


def _looked_up(conn: Connection, entries: Sequence[Entry]) -> dict[str, list[Copy]]:
    """The stored copies of ``entries``, run by run (a purged run holds none)."""
    copies: dict[str, list[Copy]] = {}
    for run_id in dict.fromkeys(e.run_id for e in entries if e.run_id):
        run = search.get_run(conn, run_id)
        if run is None:
            continue
        deleted = run.info.lifecycle_stage == "deleted"
        for record_id, value in contract.evidence_tags(run.data.tags).items():
            copies.setdefault(record_id, []).append(
                Copy(run_id=run_id, deleted=deleted, value=value)
            )
    return copies


def verify_scoped(
    conn: Connection,
    evidence_experiment: str,
    *,
    trust: TrustPolicy,
    scope: Scope,
    clock: datetime | None = None,
) -> LedgerReport:
    """The ledger as a verdict needs it, at a cost that does not grow with the history: the
    newest checkpoints, the deleted runs, and the listed records of the judged systems checked
    against what the verdict's read saw (:func:`aims_mlops.ledger.check_scoped`); only records
    on training runs it did not read that are newer than its oldest one are looked up."""
    now = clock or datetime.now(UTC)
    with conn.reading():
        ours = identity(conn, evidence_experiment)
        chain = newest_chain(conn, evidence_experiment, trust=trust, clock=now)
        deleted, deleted_checkpoints = deleted_runs(conn)
        if chain.head is None and not chain.problems and not deleted_checkpoints:
            return LedgerReport(findings=(), problems=(), head=None, replaced=frozenset(), listed=0)
        problems = list(chain.problems)
        problems.extend(_deleted_checkpoint_problems(deleted_checkpoints))
        problems.extend(_other_store_problems(chain, ours))
        findings, lookup = check_scoped(
            chain.entries,
            Scope(
                present=scope.present,
                broken=scope.broken,
                runs_read=scope.runs_read,
                deleted_runs=deleted,
                systems=scope.systems,
                current_runs=scope.current_runs,
            ),
        )
        if lookup:
            if len({e.run_id for e in lookup}) > LOOKUP_LIMIT:
                copies = listing(conn, evidence_experiment, checkpoints=[]).copies
            else:
                copies = _looked_up(conn, lookup)
            findings.extend(check_entries(lookup, copies))
    return LedgerReport(
        findings=tuple(findings),
        problems=tuple(problems),
        head=chain.head,
        replaced=frozenset(f.record_id for f in findings),
        listed=len(chain.entries),
    )


def _deleted_checkpoint_problems(runs: Iterable[Run]) -> list[ChainProblem]:
    problems = []
    for run in runs:
        try:
            record = EvidenceRecord.from_json(run.data.tags.get(TAG_CHECKPOINT) or "")
            sequence: object = record.details.get("sequence")
            record_id = record.id
        except EvidenceError:
            sequence, record_id = "?", run.info.run_id
        problems.append(
            ChainProblem(
                record_id=record_id,
                why=WHY_CHECKPOINT_DELETED.format(n=sequence, run_id=run.info.run_id),
            )
        )
    return problems


def _other_store_problems(chain: Chain, ours: StoreIdentity | None) -> list[ChainProblem]:
    return [
        ChainProblem(
            record_id=c.record.id,
            why=WHY_CHECKPOINT_OTHER_STORE.format(
                n=c.sequence, theirs=c.store_id, ours=ours.store_id
            ),
        )
        for c in chain.checkpoints
        if c.store_id is not None and ours is not None and c.store_id != ours.store_id
    ]
