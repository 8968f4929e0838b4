"""The ledger's pure core: the RFC 6962 tree, its compact frontier and consistency proofs, the
checkpoint chain, the listed records checked against what the store holds, and store ids."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from aims_mlops.evidence import EvidenceRecord, new_record
from aims_mlops.ledger import (
    EMPTY_ROOT,
    WHY_ALTERED,
    WHY_BROKEN_LINK,
    WHY_DELETED_RUN,
    WHY_GONE,
    WHY_HEAD_DIFFERS,
    WHY_HEAD_MISSING,
    WHY_INCONSISTENT,
    WHY_NO_STORE,
    WHY_OTHER_STORE,
    WHY_SEQUENCE_GAP,
    WHY_STORE_HAS_NO_ID,
    Checkpoint,
    Copy,
    Entry,
    Frontier,
    LedgerError,
    Segment,
    check_chain,
    check_entries,
    check_head,
    consistency_proof,
    entries_bytes,
    fresh_entries,
    leaf_hash,
    merged_tail,
    next_checkpoint,
    node_hash,
    parse_entries,
    store_problem,
    tag_sha256,
    tree_root,
    verify_consistency,
)


def leaves(n: int) -> list[bytes]:
    return [leaf_hash(f"leaf {i}".encode()) for i in range(n)]


def test_the_tree_is_rfc6962() -> None:
    assert tree_root([]).hex() == EMPTY_ROOT == hashlib.sha256(b"").hexdigest()
    a, b, c = leaves(3)
    assert a == hashlib.sha256(b"\x00leaf 0").digest()
    assert tree_root([a, b]) == hashlib.sha256(b"\x01" + a + b).digest()
    assert tree_root([a, b, c]) == node_hash(node_hash(a, b), c)  # split at 2, not 1


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 64, 100])
def test_the_frontier_grows_incrementally_to_the_same_root(n: int) -> None:
    data = leaves(n)
    frontier = Frontier()
    for start in range(0, n, 3):
        frontier = frontier.extended(data[start : start + 3])
        assert frontier.root() == tree_root(data[: frontier.size])
    assert len(frontier.nodes) == bin(n).count("1")  # compact: one node per set bit
    again = Frontier.from_json(n, frontier.to_json())
    assert again == frontier
    with pytest.raises(ValueError):
        Frontier.from_json(n + 1, frontier.to_json())


def test_consistency_proofs_prove_prefixes_and_nothing_else() -> None:
    for n in range(1, 34):
        data = leaves(n)
        new_root = tree_root(data)
        for m in range(1, n + 1):
            proof = consistency_proof(m, data)
            assert verify_consistency(m, n, tree_root(data[:m]), new_root, proof)
            if m < n:
                other = tree_root([leaf_hash(b"forged"), *data[1:m]])
                assert not verify_consistency(m, n, other, new_root, proof)
                assert not verify_consistency(m, n, tree_root(data[:m]), other, proof)


def entry(i: int, *, kind: str = "fairness", system: str | None = "credit") -> Entry:
    return Entry(
        record_id=f"r{i}",
        content_hash=hashlib.sha256(f"c{i}".encode()).hexdigest(),
        run_id=f"run{i}",
        kind=kind,
        system=system,
        controls=("A.5.4",),
        checkpoint=0,
        tag_sha256=tag_sha256(f"value {i}"),
    )


def extend(
    chain: list[Checkpoint], artifacts: dict[str, bytes], batch: list[Entry]
) -> tuple[Checkpoint, tuple[Entry, ...]]:
    """The next checkpoint as the store writes it: its own artifact holds the fresh entries and
    the newest segments it merges (``artifacts``: run id -> the artifact, the run id being the
    checkpoint's sequence)."""
    head = chain[-1] if chain else None
    segments = [x.in_run(str(head.sequence)) for x in head.segments] if head else []
    listed = segment_entries(segments, artifacts)
    sequence = head.sequence + 1 if head else 1
    fresh = fresh_entries(batch, known={e.record_id for e in listed}, sequence=sequence)
    merged = merged_tail(segments, len(fresh))
    kept = segments[: len(segments) - merged]
    carried = listed[sum(x.count for x in kept) :]
    record, own = next_checkpoint(head, fresh, store_id="s1", kept=kept, carried=carried)
    artifacts[str(sequence)] = entries_bytes(own)
    checkpoint = Checkpoint.of(record)
    chain.append(checkpoint)
    return checkpoint, own


def segment_entries(segments: list[Segment], artifacts: dict[str, bytes]) -> tuple[Entry, ...]:
    entries: list[Entry] = []
    for segment in segments:
        data = artifacts[str(segment.run_id)]
        assert hashlib.sha256(data).hexdigest() == segment.sha256
        entries.extend(parse_entries(data, sequence=segment.checkpoint))
    return tuple(entries)


def chain_of(*batches: list[Entry]) -> tuple[list[Checkpoint], tuple[Entry, ...]]:
    chain: list[Checkpoint] = []
    artifacts: dict[str, bytes] = {}
    for batch in batches:
        extend(chain, artifacts, batch)
    segments = [x.in_run(str(chain[-1].sequence)) for x in chain[-1].segments]
    return chain, segment_entries(segments, artifacts)


def test_checkpoints_chain_and_list_each_record_once() -> None:
    chain, listed = chain_of([entry(1), entry(2)], [entry(2), entry(3)], [])
    assert [c.sequence for c in chain] == [1, 2, 3]
    assert [c.tree_size for c in chain] == [2, 3, 3]
    assert [e.checkpoint for e in listed] == [1, 1, 2]  # first listed there
    assert chain[1].previous == chain[0].record.content_hash and chain[0].previous is None
    assert chain[2].root == tree_root([e.leaf() for e in listed]).hex()
    assert sum(x.count for x in chain[2].segments) == 3
    assert parse_entries(entries_bytes(listed), sequence=3) == listed
    assert check_chain(chain, listed) == []


def test_a_checkpoint_writes_what_it_adds_and_merges_like_a_binary_counter() -> None:
    chain: list[Checkpoint] = []
    artifacts: dict[str, bytes] = {}
    extend(chain, artifacts, [entry(i) for i in range(1000)])
    written: list[int] = []
    for step in range(1, 41):  # 40 checkpoints of 10 records each
        _, own = extend(chain, artifacts, [entry(1000 + 10 * step + i) for i in range(10)])
        written.append(len(own))
        head = chain[-1]
        sizes = [x.count for x in head.segments]
        assert sum(sizes) == head.tree_size == 1000 + 10 * step
        # each segment is larger than all that follow it: at most log2(n) + 1 of them
        assert all(a > sum(sizes[i + 1 :]) for i, a in enumerate(sizes[:-1]))
    assert written[:4] == [10, 20, 10, 40]  # never the 1,000 listed before
    assert max(written) <= 400 and sorted(written)[len(written) // 2] <= 20
    assert sum(written) <= 10 * 40 * 7  # amortized: each record rewritten O(log n) times
    segments = [x.in_run(str(chain[-1].sequence)) for x in chain[-1].segments]
    listed = segment_entries(segments, artifacts)
    assert [e.record_id for e in listed] == [f"r{i}" for i in range(1000)] + [
        f"r{1000 + 10 * s + i}" for s in range(1, 41) for i in range(10)
    ]
    assert check_chain(chain, listed) == []
    assert chain[-1].root == tree_root([e.leaf() for e in listed]).hex()


def test_merged_tail_rewrites_only_segments_no_larger_than_what_follows() -> None:
    def seg(n: int, count: int) -> Segment:
        return Segment(checkpoint=n, run_id=str(n), path="p", count=count, sha256="0" * 64)

    assert merged_tail([], 10) == 0
    assert merged_tail([seg(1, 1000)], 10) == 0
    assert merged_tail([seg(1, 1000), seg(2, 10)], 10) == 1
    assert merged_tail([seg(1, 1000), seg(2, 40), seg(3, 20), seg(4, 10)], 10) == 3
    assert merged_tail([seg(1, 30)], 40) == 1


def test_a_checkpoint_of_the_first_format_reads_as_one_segment() -> None:
    listed = (replace(entry(1), checkpoint=1), replace(entry(2), checkpoint=1))
    data = entries_bytes(listed)
    frontier = Frontier().extended(e.leaf() for e in listed)
    old = new_record(
        kind="checkpoint",
        system=None,
        outcome="info",
        collector="aims_mlops.ledger",
        details={
            "sequence": 1,
            "previous": None,
            "tree_size": 2,
            "root": frontier.root().hex(),
            "frontier": frontier.to_json(),
            "added": 2,
            "store_id": "s1",
            "entries_sha256": hashlib.sha256(data).hexdigest(),
        },
    )
    head = Checkpoint.of(old)
    (segment,) = head.segments
    assert (segment.checkpoint, segment.count, segment.run_id) == (1, 2, None)
    assert segment.sha256 == hashlib.sha256(data).hexdigest()
    chain = [head]
    _, own = extend(chain, {"1": data}, [entry(3)])
    assert [x.count for x in chain[-1].segments] == [2, 1] and len(own) == 1
    assert check_chain(chain, (*listed, *own)) == []


def test_a_rewritten_history_a_gap_and_a_broken_link_are_named() -> None:
    chain, listed = chain_of([entry(1), entry(2)], [entry(3)], [entry(4)])
    rewritten = (replace(listed[0], content_hash="0" * 64), *listed[1:])
    (problem,) = check_chain(chain, rewritten)[:1]
    assert problem.why == WHY_INCONSISTENT.format(n=1, root=chain[0].root, size=2)
    (gap,) = check_chain([chain[0], chain[2]], listed)
    assert gap.why == WHY_SEQUENCE_GAP.format(n=3, previous=1, missing="2")
    forged, _ = next_checkpoint(
        chain[0], [replace(entry(3), checkpoint=2)], store_id="s1", carried=listed[:2]
    )
    forged_cp = Checkpoint.of(replace(forged, details={**forged.details, "previous": "f" * 64}))
    (link,) = check_chain([chain[0], forged_cp], listed[:3])
    assert link.why == WHY_BROKEN_LINK.format(
        n=2, expected="f" * 64, m=1, actual=chain[0].record.content_hash
    )


def test_a_kept_head_must_still_be_in_the_chain() -> None:
    chain, _ = chain_of([entry(1)], [entry(2)])
    assert check_head(chain[1], chain) == []
    (missing,) = check_head(chain[1], chain[:1])
    assert missing.why == WHY_HEAD_MISSING.format(n=2, record_id=chain[1].record.id)
    other, _ = chain_of([entry(7)], [entry(8)])
    (differs,) = check_head(other[1], chain)
    assert differs.why == WHY_HEAD_DIFFERS.format(n=2)


def test_listed_records_gone_altered_or_in_a_deleted_run_are_findings() -> None:
    _, listed = chain_of([entry(1), entry(2)], [entry(3), entry(4)])
    copies = {
        "r1": [Copy(run_id="run1", deleted=False, value="value 1")],  # unchanged
        "r2": [Copy(run_id="run2", deleted=True, value="value 2")],  # run deleted
        "r3": [Copy(run_id="run3", deleted=False, value='{"content_hash": "abc"}')],  # altered
    }  # r4 gone
    found = {f.record_id: f for f in check_entries(listed, copies)}
    assert set(found) == {"r2", "r3", "r4"}
    assert found["r2"].why == WHY_DELETED_RUN.format(n=1, run_id="run2")
    assert found["r3"].why == WHY_ALTERED.format(n=2, expected=listed[2].content_hash, actual="abc")
    assert found["r4"].why == WHY_GONE.format(n=2)
    assert "removed after checkpoint 2" in found["r4"].reason
    assert found["r4"].kind == "fairness" and found["r4"].controls == ("A.5.4",)
    assert found["r4"].system == "credit"
    # a copy re-serialized but with the listed content hash is still the record
    same = f'{{"content_hash": "{listed[3].content_hash}"}}'
    copies["r4"] = [Copy(run_id="elsewhere", deleted=False, value=same)]
    assert "r4" not in {f.record_id for f in check_entries(listed, copies)}


def test_a_checkpoint_record_is_checked_for_shape() -> None:
    record = new_record(kind="fairness", system=None, outcome="info", collector="x")
    with pytest.raises(LedgerError, match="not a checkpoint record"):
        Checkpoint.of(record)
    with pytest.raises(LedgerError, match="entry list is unreadable"):
        parse_entries(b'{"format": "other"}', sequence=4)


def stamped(store_id: str | None, at: str) -> EvidenceRecord:
    return new_record(
        kind="monitoring",
        system="credit",
        outcome="pass",
        collector="x",
        collected_at=at,
        store_id=store_id,
    )


def test_records_name_their_store() -> None:
    created = "2026-11-01T00:00:00Z"
    own = stamped("prod", "2026-11-02T00:00:00Z")
    assert own.to_dict()["store_id"] == "prod"
    assert EvidenceRecord.from_json(own.to_json(), verify=True) == own
    assert store_problem(own, store_id="prod", created_at=created) is None
    assert store_problem(
        stamped("staging", "2026-11-02T00:00:00Z"), store_id="prod", created_at=created
    ) == WHY_OTHER_STORE.format(theirs="staging", ours="prod")
    assert store_problem(own, store_id=None, created_at=None) == WHY_STORE_HAS_NO_ID.format(
        theirs="prod"
    )
    # a record without a store id: written before the store had one (judged as before) ...
    old = stamped(None, "2026-10-01T00:00:00Z")
    assert "store_id" not in old.to_dict()  # and its hash is what it always was
    assert store_problem(old, store_id="prod", created_at=created) is None
    assert store_problem(old, store_id=None, created_at=None) is None
    # ... or after it (copied from elsewhere)
    late = stamped(None, "2026-11-03T00:00:00Z")
    assert store_problem(late, store_id="prod", created_at=created) == WHY_NO_STORE.format(
        when=late.collected_at, ours="prod", created=created
    )


def scoped_entry(i: int, run: str, at: str, *, own: bool = False, system: str = "credit") -> Entry:
    return replace(entry(i, system=system), run_id=run, collected_at=at, own_run=own, checkpoint=3)


def test_a_verdict_checks_what_it_read_and_looks_up_only_newer_unread_runs() -> None:
    from aims_mlops.ledger import Scope, check_scoped

    ms = 1_790_000_000_000  # 2026-09-21
    later = "2026-10-01T00:00:00Z"
    earlier = "2026-01-01T00:00:00Z"
    present = scoped_entry(1, "read", later)
    altered = scoped_entry(2, "read", later)
    gone = scoped_entry(3, "read", later)
    own_gone = scoped_entry(4, "own", earlier, own=True)
    in_deleted = scoped_entry(5, "deleted", earlier)
    old_unread = scoped_entry(6, "old", earlier)
    new_unread = scoped_entry(7, "purged", later)
    other_system = scoped_entry(8, "elsewhere", later, system="other")
    broken = scoped_entry(9, "read", later)
    scope = Scope(
        present={present.record_id: present.content_hash, altered.record_id: "f" * 64},
        broken=frozenset({broken.record_id}),
        runs_read={"read": ("credit", ms, False), "current": ("credit", 0, False)},
        deleted_runs=frozenset({"deleted"}),
        systems=frozenset({"credit"}),
        current_runs=frozenset({"current"}),  # an old current run sets no horizon
    )
    listed = [
        present,
        altered,
        gone,
        own_gone,
        in_deleted,
        old_unread,
        new_unread,
        other_system,
        broken,
    ]
    findings, lookup = check_scoped(listed, scope)
    why = {f.record_id: f.why for f in findings}
    assert why == {
        altered.record_id: WHY_ALTERED.format(n=3, expected=altered.content_hash, actual="f" * 64),
        gone.record_id: WHY_GONE.format(n=3),
        own_gone.record_id: WHY_GONE.format(n=3),
        in_deleted.record_id: WHY_DELETED_RUN.format(n=3, run_id="deleted"),
    }
    assert lookup == [new_unread]  # newer than the oldest run looked back at, yet not read
    # the run's start decides when it is known: a record added later to an old run is not
    # a run the look-back should have read
    on_old_run = replace(new_unread, run_started_ms=ms - 1)
    assert check_scoped([on_old_run], scope) == ([], [])
    assert check_scoped([replace(new_unread, run_started_ms=ms)], scope)[1] != []
    # a read that looked back at no run besides the current one consulted none: no lookups
    only_current = replace(scope, runs_read={"current": ("credit", 0, False)})
    assert check_scoped([new_unread], only_current) == ([], [])
