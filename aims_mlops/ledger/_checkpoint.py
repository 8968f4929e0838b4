"""Checkpoints: signed heads of the append-only list of every record in a store (pure).

A checkpoint is an evidence record of kind ``checkpoint`` (organization-level, outcome
``info``) whose details hold its ``sequence`` (1, 2, ...), ``previous`` (the content hash of
checkpoint ``sequence - 1``; null for the first), ``tree_size`` and ``root`` (the RFC 6962
Merkle root over every record listed so far, in the order they were checkpointed), the compact
``frontier`` of that tree (so the next checkpoint hashes only what was added), ``added`` (how
many records it appended), the ``store_id`` and its ``segments``: the artifacts that together
list every :class:`Entry` (record id, content hash, run, kind, system, controls, the checkpoint
that first listed it), in order, each named by the checkpoint (and run) that wrote it, its
path, its number of entries and its SHA-256. A leaf is ``"<record id>:<content hash>"``.

Incremental: a checkpoint writes only the records it appends, merged with the newest segments
while they are no larger than what it writes (a binary counter, as the Merkle frontier is), so
a head names at most ``log2(n) + 1`` segments and each record is rewritten ``O(log n)`` times
over the store's life. A checkpoint of main's first format (no ``segments``; its
``entries_sha256`` over one artifact with the whole list) is read as a head of one segment.

:func:`check_chain` proves a chain of heads consistent (sequence, hash links, each root
recomputed from the head's list: the later extends the earlier); :func:`check_entries` names
every listed record that is gone, altered, or only in a deleted run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from aims_mlops._errors import AimsError
from aims_mlops._json import loads_bounded
from aims_mlops.evidence import (
    EvidenceRecord,
    IntegrityFinding,
    new_record,
    parse_timestamp,
)
from aims_mlops.ledger._merkle import EMPTY_ROOT, Frontier, leaf_hash, prefix_roots

CHECKPOINT_KIND = "checkpoint"
COLLECTOR = "aims_mlops.ledger"
ENTRIES_FORMAT = "aims-checkpoint-entries/1"
#: Where a checkpoint's run keeps the entries it wrote (its segment).
ENTRIES_PATH = "aims/ledger/entries.json"

ERROR_BAD_HEAD = "{source}: not a checkpoint record ({why})"
ERROR_BAD_ENTRIES = "checkpoint {sequence}: its entry list is unreadable ({why})"
ERROR_SEGMENTS = (
    "checkpoint {sequence}: the segments kept and written do not add up to the tree it heads"
)

#: Why a listed record no longer counts; each ends the same way, so a reader sees when.
WHY_GONE = (
    "it is listed in checkpoint {n} but is no longer in the store: removed after checkpoint {n}"
)
WHY_DELETED_RUN = (
    "it is listed in checkpoint {n} but sits only in deleted run {run_id}: removed after "
    "checkpoint {n}"
)
WHY_ALTERED = (
    "it is listed in checkpoint {n} with content hash {expected} but the store now holds "
    "{actual}: altered (removed after checkpoint {n})"
)
#: Chain problems (the record id named is the checkpoint's).
WHY_SEQUENCE_GAP = "checkpoint {n} follows checkpoint {previous}: checkpoints {missing} are missing"
WHY_BROKEN_LINK = "checkpoint {n} names previous {expected} but checkpoint {m} hashes to {actual}"
WHY_INCONSISTENT = (
    "checkpoint {n} (root {root}, {size} records) is not a prefix of the current list: the "
    "history was rewritten after checkpoint {n}"
)
WHY_ENTRIES_ALTERED = (
    "checkpoint {n}: its entry list does not hash to the SHA-256 the head checkpoint names"
)
WHY_SEGMENT_COUNT = (
    "checkpoint {n}: its entry list holds {found} entries, the head checkpoint names {count}"
)
WHY_HEAD_MISSING = (
    "the kept head checkpoint {n} ({record_id}) is no longer in the store: checkpoints were "
    "removed after checkpoint {n}"
)
WHY_HEAD_DIFFERS = "the kept head checkpoint {n} differs from the store's checkpoint {n}"


class LedgerError(AimsError):
    """A checkpoint or its entry list that cannot be read."""


@dataclass(slots=True, kw_only=True)
class Entry:
    """One record as a checkpoint lists it (never changed once built: not frozen only because a
    frozen dataclass is several times slower to build, and a verdict reads thousands)."""

    record_id: str
    content_hash: str
    run_id: str | None
    kind: str | None
    system: str | None
    controls: tuple[str, ...]
    #: the checkpoint that first listed the record
    checkpoint: int
    #: SHA-256 of the evidence tag's value when listed (a quick "unchanged" check)
    tag_sha256: str | None = None
    #: when the record was collected (which verdicts could have read it)
    collected_at: str | None = None
    #: True when the record has a run of its own (organization- and system-level records)
    own_run: bool = False
    #: when its run started (ms): which reads should have looked at that run
    run_started_ms: int | None = None

    def leaf(self) -> bytes:
        return leaf_hash(f"{self.record_id}:{self.content_hash}".encode())

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.record_id,
            "content_hash": self.content_hash,
            "run_id": self.run_id,
            "kind": self.kind,
            "system": self.system,
            "controls": list(self.controls),
            "checkpoint": self.checkpoint,
            "tag_sha256": self.tag_sha256,
            "collected_at": self.collected_at,
            "own_run": self.own_run,
            "run_started_ms": self.run_started_ms,
        }

    def to_row(self) -> list[Any]:
        """The entry as one row of the columns :data:`ENTRY_FIELDS`."""
        return [
            self.record_id,
            self.content_hash,
            self.run_id,
            self.kind,
            self.system,
            list(self.controls),
            self.checkpoint,
            self.tag_sha256,
            self.collected_at,
            self.own_run,
            self.run_started_ms,
        ]

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Entry:
        """An entry from one row of the columns :data:`ENTRY_FIELDS`."""
        rid, content, run_id, kind, system, controls, checkpoint, tag, at, own, started = row
        if not isinstance(rid, str) or not isinstance(content, str):
            raise ValueError("id and content_hash must be strings")
        return cls(
            record_id=rid,
            content_hash=content,
            run_id=run_id,
            kind=kind,
            system=system,
            controls=tuple(controls or ()),
            checkpoint=int(checkpoint),
            tag_sha256=tag,
            collected_at=at,
            own_run=bool(own),
            run_started_ms=_int_or_none(started),
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Entry:
        return cls(
            record_id=str(data["id"]),
            content_hash=str(data["content_hash"]),
            run_id=data.get("run_id"),
            kind=data.get("kind"),
            system=data.get("system"),
            controls=tuple(str(c) for c in data.get("controls") or ()),
            checkpoint=int(data["checkpoint"]),
            tag_sha256=data.get("tag_sha256"),
            collected_at=data.get("collected_at"),
            own_run=bool(data.get("own_run")),
            run_started_ms=_int_or_none(data.get("run_started_ms")),
        )


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def tag_sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


#: The columns of the entry list (one JSON array per entry, in this order).
ENTRY_FIELDS = (
    "id",
    "content_hash",
    "run_id",
    "kind",
    "system",
    "controls",
    "checkpoint",
    "tag_sha256",
    "collected_at",
    "own_run",
    "run_started_ms",
)


def entries_bytes(entries: Sequence[Entry]) -> bytes:
    """The artifact of a checkpoint: canonical JSON of its format, the columns and one row per
    entry."""
    rows = [e.to_row() for e in entries]
    return json.dumps(  # canonical JSON (as canonical_json): sorted keys, no spaces
        {"format": ENTRIES_FORMAT, "fields": list(ENTRY_FIELDS), "entries": rows},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


#: the largest entry list read (about 280 bytes an entry: some 900,000 records)
MAX_ENTRIES_BYTES = 256 * 1024 * 1024


def parse_entries(data: bytes, *, sequence: int) -> tuple[Entry, ...]:
    """The entries of a checkpoint's artifact; :class:`LedgerError` when it is not one."""
    try:
        parsed = loads_bounded(
            data, what="the checkpoint's entry list", max_chars=MAX_ENTRIES_BYTES
        )
        if parsed.get("format") != ENTRIES_FORMAT:
            raise ValueError(f"format is not {ENTRIES_FORMAT}")
        fields = parsed["fields"]
        if not isinstance(fields, list) or not {"id", "content_hash", "checkpoint"} <= set(fields):
            raise ValueError("fields must name at least id, content_hash and checkpoint")
        if tuple(fields) == ENTRY_FIELDS:  # the columns this version writes: the quick way
            return tuple(Entry.from_row(row) for row in parsed["entries"])
        return tuple(
            Entry.from_json(dict(zip(fields, row, strict=True))) for row in parsed["entries"]
        )
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise LedgerError(ERROR_BAD_ENTRIES.format(sequence=sequence, why=exc)) from exc


@dataclass(frozen=True, kw_only=True)
class Segment:
    """One artifact of a head's entry list: written by checkpoint ``checkpoint`` in run
    ``run_id`` (None: the run of the checkpoint that names it) at ``path``, ``count`` entries
    hashing to ``sha256``."""

    checkpoint: int
    run_id: str | None
    path: str
    count: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "checkpoint": self.checkpoint,
            "run_id": self.run_id,
            "path": self.path,
            "count": self.count,
            "sha256": self.sha256,
        }

    @classmethod
    def from_json(cls, data: Any) -> Segment:
        """:class:`ValueError` when ``data`` is not a segment."""
        if not isinstance(data, Mapping):
            raise ValueError("a segment is a mapping")
        run_id, path, digest = data.get("run_id"), data.get("path"), data.get("sha256")
        count, checkpoint = data.get("count"), data.get("checkpoint")
        if not isinstance(path, str) or not isinstance(digest, str) or len(digest) != 64:
            raise ValueError("a segment names its path and sha256")
        if not isinstance(count, int) or count < 0 or not isinstance(checkpoint, int):
            raise ValueError("a segment names its checkpoint and count")
        if run_id is not None and not isinstance(run_id, str):
            raise ValueError("a segment's run_id is a string")
        return cls(checkpoint=checkpoint, run_id=run_id, path=path, count=count, sha256=digest)

    def in_run(self, run_id: str | None) -> Segment:
        """The segment with its run named (``run_id``: the run of the checkpoint naming it)."""
        return self if self.run_id is not None else replace(self, run_id=run_id)


def merged_tail(segments: Sequence[Segment], adding: int) -> int:
    """How many of the newest ``segments`` the next checkpoint rewrites with the ``adding``
    records it appends: every trailing segment no larger than what is written after it (a
    binary counter), so each kept segment is larger than all that follow it."""
    count, merged = adding, 0
    for segment in reversed(segments):
        if segment.count > count:
            break
        count += segment.count
        merged += 1
    return merged


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint record read back, with its details typed."""

    record: EvidenceRecord

    @classmethod
    def of(cls, record: EvidenceRecord, *, source: str = "record") -> Checkpoint:
        """:class:`LedgerError` unless ``record`` is a well-formed checkpoint."""
        why = None
        if record.kind != CHECKPOINT_KIND:
            why = f"kind {record.kind!r}"
        else:
            d = record.details
            try:
                int(d["sequence"]), int(d["tree_size"]), bytes.fromhex(str(d["root"]))
                Frontier.from_json(int(d["tree_size"]), d.get("frontier") or ())
                segments = _segments(record)
                if sum(x.count for x in segments) != int(d["tree_size"]):
                    raise ValueError("the segments do not add up to tree_size")
            except (KeyError, TypeError, ValueError) as exc:
                why = f"details: {exc}"
        if why is not None:
            raise LedgerError(ERROR_BAD_HEAD.format(source=source, why=why))
        return cls(record)

    @property
    def sequence(self) -> int:
        return int(self.record.details["sequence"])

    @property
    def previous(self) -> str | None:
        value = self.record.details.get("previous")
        return str(value) if value else None

    @property
    def tree_size(self) -> int:
        return int(self.record.details["tree_size"])

    @property
    def root(self) -> str:
        return str(self.record.details["root"])

    @property
    def frontier(self) -> Frontier:
        return Frontier.from_json(self.tree_size, self.record.details.get("frontier") or ())

    @property
    def entries_sha256(self) -> str | None:
        """The SHA-256 of the whole list (main's first format only; now: :attr:`segments`)."""
        value = self.record.details.get("entries_sha256")
        return str(value) if value else None

    @property
    def segments(self) -> tuple[Segment, ...]:
        """The artifacts that list its entries, oldest first."""
        return _segments(self.record)

    @property
    def store_id(self) -> str | None:
        value = self.record.details.get("store_id")
        return str(value) if value else None


def _segments(record: EvidenceRecord) -> tuple[Segment, ...]:
    d = record.details
    raw = d.get("segments")
    if raw is None:  # main's first format: one artifact with the whole list
        digest = d.get("entries_sha256")
        if not isinstance(digest, str) or len(digest) != 64:
            raise ValueError("neither segments nor entries_sha256")
        return (
            Segment(
                checkpoint=int(d["sequence"]),
                run_id=None,
                path=ENTRIES_PATH,
                count=int(d["tree_size"]),
                sha256=digest,
            ),
        )
    if not isinstance(raw, list | tuple):
        raise ValueError("segments is a list")
    return tuple(Segment.from_json(x) for x in raw)


def fresh_entries(
    added: Iterable[Entry], *, known: Iterable[str] = (), sequence: int
) -> list[Entry]:
    """The entries of ``added`` not already listed (``known`` ids; each record once), as
    checkpoint ``sequence`` first lists them."""
    seen = set(known)
    fresh: list[Entry] = []
    for entry in added:
        if entry.record_id not in seen:
            seen.add(entry.record_id)
            fresh.append(replace(entry, checkpoint=sequence))  # first listed here
    return fresh


def next_checkpoint(
    previous: Checkpoint | None,
    fresh: Sequence[Entry],
    *,
    store_id: str | None,
    kept: Sequence[Segment] = (),
    carried: Sequence[Entry] = (),
    collected_at: str | None = None,
) -> tuple[EvidenceRecord, tuple[Entry, ...]]:
    """The (unsigned) checkpoint after ``previous`` appending ``fresh`` (from
    :func:`fresh_entries`), and the entries of its own segment: ``carried`` (the entries of
    the newest segments it rewrites, :func:`merged_tail`) then ``fresh``. ``kept``: the
    previous head's other segments (runs named). Hashes only what was added."""
    sequence = previous.sequence + 1 if previous is not None else 1
    frontier = (previous.frontier if previous is not None else Frontier()).extended(
        e.leaf() for e in fresh
    )
    own = (*carried, *fresh)
    if sum(x.count for x in kept) + len(own) != frontier.size:
        raise LedgerError(ERROR_SEGMENTS.format(sequence=sequence))
    segment = Segment(
        checkpoint=sequence,
        run_id=None,
        path=ENTRIES_PATH,
        count=len(own),
        sha256=hashlib.sha256(entries_bytes(own)).hexdigest(),
    )
    details = {
        "sequence": sequence,
        "previous": previous.record.content_hash if previous is not None else None,
        "tree_size": frontier.size,
        "root": frontier.root().hex(),
        "frontier": frontier.to_json(),
        "added": len(fresh),
        "store_id": store_id,
        "segments": [x.to_json() for x in (*kept, segment)],
    }
    record = new_record(
        kind=CHECKPOINT_KIND,
        system=None,
        outcome="info",
        collector=COLLECTOR,
        details=details,
        collected_at=collected_at,
    )
    return record, own


@dataclass(frozen=True, kw_only=True)
class ChainProblem:
    """A fault of the checkpoint chain itself (named by the checkpoint's record id)."""

    record_id: str
    why: str


def check_chain(
    chain: Sequence[Checkpoint], entries: Sequence[Entry], *, partial: bool = False
) -> list[ChainProblem]:
    """Faults of ``chain`` (every checkpoint found, any order) against ``entries`` (the head's
    list, already checked against its ``entries_sha256``): gaps in the sequence, broken hash
    links, and any checkpoint whose root is not the root of the list's prefix of its size.
    ``partial``: ``chain`` is only the newest checkpoints (it need not start at 1)."""
    problems: list[ChainProblem] = []
    ordered = sorted(chain, key=lambda c: c.sequence)
    sizes = {c.tree_size for c in ordered}
    found = prefix_roots((e.leaf() for e in entries), sizes)
    roots: dict[int, str] = {0: EMPTY_ROOT, **{n: r.hex() for n, r in found.items()}}
    expected_first = 1
    before: Checkpoint | None = None
    for checkpoint in ordered:
        n = checkpoint.sequence
        rid = checkpoint.record.id
        if before is None and n != expected_first and not partial:
            missing = ", ".join(str(i) for i in range(expected_first, n))
            problems.append(
                ChainProblem(
                    record_id=rid,
                    why=WHY_SEQUENCE_GAP.format(n=n, previous="none", missing=missing),
                )
            )
        elif before is not None and n != before.sequence + 1:
            missing = ", ".join(str(i) for i in range(before.sequence + 1, n))
            problems.append(
                ChainProblem(
                    record_id=rid,
                    why=WHY_SEQUENCE_GAP.format(n=n, previous=before.sequence, missing=missing),
                )
            )
        elif before is not None and checkpoint.previous != before.record.content_hash:
            problems.append(
                ChainProblem(
                    record_id=rid,
                    why=WHY_BROKEN_LINK.format(
                        n=n,
                        expected=checkpoint.previous,
                        m=before.sequence,
                        actual=before.record.content_hash,
                    ),
                )
            )
        if roots.get(checkpoint.tree_size) != checkpoint.root or checkpoint.tree_size > len(
            entries
        ):
            problems.append(
                ChainProblem(
                    record_id=rid,
                    why=WHY_INCONSISTENT.format(
                        n=n, root=checkpoint.root, size=checkpoint.tree_size
                    ),
                )
            )
        before = checkpoint
    return problems


def check_head(kept: Checkpoint, chain: Sequence[Checkpoint]) -> list[ChainProblem]:
    """A head an auditor kept must still be in the chain, unchanged (consistency of the rest
    follows from :func:`check_chain`): deleting the newest checkpoints is caught here."""
    same = [c for c in chain if c.sequence == kept.sequence]
    if not same:
        return [
            ChainProblem(
                record_id=kept.record.id,
                why=WHY_HEAD_MISSING.format(n=kept.sequence, record_id=kept.record.id),
            )
        ]
    if all(c.record.content_hash != kept.record.content_hash for c in same):
        return [
            ChainProblem(record_id=kept.record.id, why=WHY_HEAD_DIFFERS.format(n=kept.sequence))
        ]
    return []


@dataclass(frozen=True, kw_only=True)
class Copy:
    """Where a record id is stored now: its run, whether that run is deleted, the tag value."""

    run_id: str
    deleted: bool
    value: str


def stored_content_hash(value: str) -> str | None:
    """The content hash an evidence tag's value states (inline record or pointer)."""
    try:
        parsed = loads_bounded(value, what="the evidence tag")
    except ValueError:
        return None
    found = parsed.get("content_hash") if isinstance(parsed, dict) else None
    return found if isinstance(found, str) else None


def check_entries(
    entries: Sequence[Entry], copies: Mapping[str, Sequence[Copy]]
) -> list[IntegrityFinding]:
    """A finding for every listed record that is gone, altered, or only in a deleted run.

    A record is present when an active run holds its tag with the listed content hash (the
    tag's value unchanged is the quick check; the reader checks the content against the hash).
    """
    findings: list[IntegrityFinding] = []
    for entry in entries:
        found = copies.get(entry.record_id, ())
        active = [c for c in found if not c.deleted]
        if any(c.value and tag_sha256(c.value) == entry.tag_sha256 for c in active):
            continue
        hashes = [stored_content_hash(c.value) for c in active]
        if entry.content_hash in hashes:
            continue
        n = entry.checkpoint
        if active:
            why = WHY_ALTERED.format(n=n, expected=entry.content_hash, actual=hashes[0])
            run_id = active[0].run_id
        elif found:
            run_id = found[0].run_id
            why = WHY_DELETED_RUN.format(n=n, run_id=run_id)
        else:
            run_id = entry.run_id
            why = WHY_GONE.format(n=n)
        findings.append(
            IntegrityFinding(
                record_id=entry.record_id,
                why=why,
                run_id=run_id,
                kind=entry.kind,
                system=entry.system,
                controls=entry.controls,
            )
        )
    return findings


@dataclass(frozen=True, kw_only=True)
class Scope:
    """What one judgement read, for the scoped check: the records it found (id -> content hash,
    before any trust check), the ids whose tags were there but broken (already findings), the
    runs it looked at (id -> system, start in ms, own run or not), the soft-deleted runs (also
    the runs of deleted experiments) and the systems judged."""

    present: Mapping[str, str]
    broken: frozenset[str]
    runs_read: Mapping[str, tuple[str | None, int, bool]]
    deleted_runs: frozenset[str]
    systems: frozenset[str]
    #: runs read because they are a current model's (they set no horizon: a read that looked
    #: at no other training run consulted none)
    current_runs: frozenset[str] = frozenset()


def _finding(entry: Entry, why: str, run_id: str | None) -> IntegrityFinding:
    return IntegrityFinding(
        record_id=entry.record_id,
        why=why,
        run_id=run_id,
        kind=entry.kind,
        system=entry.system,
        controls=entry.controls,
    )


def check_scoped(
    entries: Sequence[Entry], scope: Scope
) -> tuple[list[IntegrityFinding], list[Entry]]:
    """The listed records of the judged systems (and the organization) checked against what
    the judgement read: (findings, entries to look up run by run).

    A record read with another content hash is altered; one not read although its run was, or
    whose own run (organization- and system-level records: every one of them is read) is gone,
    is removed; one on a deleted run sits in a deleted run. A record on a training run the read
    did not look at matters only if that run started after the oldest training run of its
    system the read looked back at (besides the current model's): the look-back reads the newest
    runs, so it should have been read; those are returned for a lookup."""
    horizon: dict[str, int] = {}
    for run_id, (system, start_ms, own) in scope.runs_read.items():
        if system is not None and not own and run_id not in scope.current_runs:
            horizon[system] = min(horizon.get(system, start_ms), start_ms)
    findings: list[IntegrityFinding] = []
    lookup: list[Entry] = []
    for entry in entries:
        if entry.system is not None and entry.system not in scope.systems:
            continue
        n = entry.checkpoint
        stored = scope.present.get(entry.record_id)
        if stored is not None:
            if stored != entry.content_hash:
                findings.append(
                    _finding(
                        entry,
                        WHY_ALTERED.format(n=n, expected=entry.content_hash, actual=stored),
                        entry.run_id,
                    )
                )
            continue
        if entry.record_id in scope.broken:
            continue
        if entry.run_id in scope.deleted_runs:
            findings.append(
                _finding(entry, WHY_DELETED_RUN.format(n=n, run_id=entry.run_id), entry.run_id)
            )
        elif entry.run_id in scope.runs_read or entry.own_run:
            findings.append(_finding(entry, WHY_GONE.format(n=n), entry.run_id))
        elif entry.system in horizon and _started_ms(entry) >= horizon[entry.system]:
            lookup.append(entry)
    return findings, lookup


def _started_ms(entry: Entry) -> int:
    """When the entry's run started (else when the record was collected; else never)."""
    if entry.run_started_ms is not None:
        return entry.run_started_ms
    if not entry.collected_at:
        return 0
    try:
        return int(parse_timestamp(entry.collected_at).timestamp() * 1000)
    except ValueError:
        return 0
