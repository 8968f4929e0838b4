"""What the ledger costs: ``aims summary`` with checkpoint verification against the same summary
without it, and how a checkpoint's cost follows the records added.

Store: the embedded sqlite store with one system of 1,000 runs and 5,000 records
(``benchmarks/generate_history.py``), checkpointed once (``aims checkpoint``).

- summary: ``aims summary <system> --format json`` in one process, alternating a call with the
  ledger (the default: the newest checkpoints and the head's list read, the deleted runs
  searched, every listed record of the system checked against what the summary read) and a call
  with ``EvidenceStore.verify_ledger`` replaced by an empty report; medians of ``--repeat``
  pairs with min-max, their ratio (target: <= 1.3), the ratio of the minima, and the seconds
  spent inside the ledger check of each summary (the figure least disturbed by other load on
  the machine; the load averages are printed);
- checkpoint: capture's checkpoint (``EvidenceStore.checkpoint(added=...)``: only the records
  just written, no listing) after 10 records added, on a store of 1,000 records and one of
  5,000 taking turns (medians with min-max, their ratio: about 1 when the cost follows what
  was added, and the entries each checkpoint wrote); then the sweep (``aims checkpoint``,
  which lists the store to find unlisted records) after 10 added, on both.

Run: ``python benchmarks/bench_ledger.py [--repeat 5] [--workdir DIR]``
(``--workdir``: the generated stores are kept there and reused).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_summary import cli_call, tracking_env
from benchmarks.generate_history import generate_history, make_record

RUNS = 1000
RECORDS = 5000
SMALL_RUNS = 200
SMALL_RECORDS = 1000
SYSTEM = "ledger"
TARGET_SUMMARY_RATIO = 1.3


def timed(fn: Callable[[], Any]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def spread(times: list[float]) -> dict[str, float]:
    return {
        "median_s": round(statistics.median(times), 3),
        "min_s": round(min(times), 3),
        "max_s": round(max(times), 3),
    }


def alternate(a: Callable[[], Any], b: Callable[[], Any], repeat: int) -> tuple[list, list]:
    a(), b()  # warm-up
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(repeat):
        ta.append(timed(a))
        tb.append(timed(b))
    return ta, tb


def add_records(uri: str, run_id: str, count: int, index: int) -> list[tuple[Any, str]]:
    """``count`` records written on ``run_id`` (as capture's batched write does)."""
    import random

    from aims_mlops.store import EvidenceStore
    from benchmarks.generate_history import KINDS, _controls_by_kind

    store = EvidenceStore(tracking_uri=uri)
    controls = _controls_by_kind()
    rng = random.Random(index)
    experiment_id = store.client.get_run(run_id).info.experiment_id
    records = [
        make_record(
            kind=KINDS[i % len(KINDS)],
            system=SYSTEM,
            run_id=run_id,
            experiment_id=experiment_id,
            digest=f"{index:08x}{i:056x}",
            controls=controls[KINDS[i % len(KINDS)]],
            rng=rng,
        )
        for i in range(count)
    ]
    results = store.write_many(records, run_id=run_id)
    return [(r, res.run_id) for r, res in zip(records, results, strict=True)]


def make_store(workdir: Path, runs: int, records: int) -> tuple[str, str]:
    """A store of ``runs`` runs / ``records`` records under ``workdir`` checkpointed once (kept
    and reused when ``workdir`` already holds one): (tracking URI, the current run id)."""
    uri = f"sqlite:///{workdir / 'mlflow.db'}"
    marker = workdir / "bench-ledger.json"
    if marker.exists():
        return uri, json.loads(marker.read_text())["run_id"]
    history = generate_history(
        tracking_uri=uri, out=workdir, runs=runs, records=records, names=[SYSTEM]
    )
    with tracking_env(uri, workdir):
        cli_call(["checkpoint", "--format", "json"])
    run_id = history.current_run_ids[SYSTEM]
    marker.write_text(json.dumps({"run_id": run_id}))
    return uri, run_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--workdir", type=Path, default=None, help="keep the stores here (reused when present)"
    )
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="aims-bench-ledger-"))
    big, small = workdir / f"store-{RECORDS}", workdir / f"store-{SMALL_RECORDS}"
    uri, run_id = make_store(big, RUNS, RECORDS)
    small_uri, small_run = make_store(small, SMALL_RUNS, SMALL_RECORDS)
    rows: dict[str, Any] = {"runs": RUNS, "records": RECORDS, "load_before": os.getloadavg()}
    from aims_mlops.store import EvidenceStore
    from aims_mlops.store._ledger import LedgerReport

    with tracking_env(uri, big):
        original = EvidenceStore.verify_ledger
        listed = EvidenceStore(tracking_uri=uri).verify_ledger().listed

        def without(self: EvidenceStore, **_: Any) -> LedgerReport:
            return LedgerReport(findings=(), problems=(), head=None, replaced=frozenset(), listed=0)

        inside: list[float] = []

        def timed_ledger(self: EvidenceStore, **kwargs: Any) -> LedgerReport:
            began = time.perf_counter()
            try:
                return original(self, **kwargs)
            finally:
                inside.append(time.perf_counter() - began)

        def with_ledger() -> Any:
            EvidenceStore.verify_ledger = timed_ledger  # type: ignore[method-assign]
            try:
                data = cli_call(["summary", SYSTEM, "--format", "json"])
            finally:
                EvidenceStore.verify_ledger = original  # type: ignore[method-assign]
            assert data["ledger"]["listed"] == listed, data["ledger"]
            return data

        def without_ledger() -> Any:
            EvidenceStore.verify_ledger = without  # type: ignore[method-assign]
            try:
                return cli_call(["summary", SYSTEM, "--format", "json"])
            finally:
                EvidenceStore.verify_ledger = original  # type: ignore[method-assign]

        on, off = alternate(with_ledger, without_ledger, args.repeat)
        rows["summary_with_ledger"] = spread(on)
        rows["summary_without_ledger"] = spread(off)
        rows["summary_ratio"] = round(statistics.median(on) / statistics.median(off), 3)
        rows["summary_ratio_range"] = [
            round(min(on) / max(off), 3),
            round(max(on) / min(off), 3),
        ]
        rows["summary_ratio_of_minima"] = round(min(on) / min(off), 3)
        rows["summary_target_met"] = rows["summary_ratio"] <= TARGET_SUMMARY_RATIO
        # the seconds spent in the ledger check itself within each summary (least disturbed by
        # the machine's load: both sides of the ratio above share the rest)
        rows["ledger_check_within_summary"] = spread(inside[1:])
        rows["ledger_check_share_of_summary"] = round(
            statistics.median(inside[1:]) / statistics.median(on), 3
        )

    # capture's checkpoint after 10 records added, the two stores taking turns
    stores = {
        SMALL_RECORDS: (small_uri, small_run, EvidenceStore(tracking_uri=small_uri)),
        RECORDS: (uri, run_id, EvidenceStore(tracking_uri=uri)),
    }
    times: dict[int, list[float]] = {n: [] for n in stores}
    written: dict[int, list[int]] = {n: [] for n in stores}
    for index in range(args.repeat * 2):
        for n, (store_uri, store_run, store) in stores.items():
            added = add_records(store_uri, store_run, 10, 1000 + index)
            began = time.perf_counter()
            result = store.checkpoint(key=None, added=added)
            times[n].append(time.perf_counter() - began)
            assert result.checkpoint is not None and result.added == 10
            written[n].append(result.checkpoint.segments[-1].count)
    for n in stores:
        rows[f"capture_checkpoint_10_added_to_{n}"] = spread(times[n])
        rows[f"capture_checkpoint_10_added_to_{n}_entries_written"] = written[n]
    rows["capture_checkpoint_ratio_5000_to_1000"] = round(
        statistics.median(times[RECORDS]) / statistics.median(times[SMALL_RECORDS]), 3
    )
    # the sweep (aims checkpoint) lists the store to find what no checkpoint lists yet
    sweeps: dict[int, list[float]] = {n: [] for n in stores}
    for index in range(args.repeat):
        for n, (store_uri, store_run, _) in stores.items():
            add_records(store_uri, store_run, 10, 5000 + index)
            with tracking_env(store_uri, big if n == RECORDS else small):
                sweeps[n].append(timed(lambda: cli_call(["checkpoint", "--format", "json"])))
    for n in stores:
        rows[f"sweep_checkpoint_10_added_to_{n}"] = spread(sweeps[n])
    rows["load_after"] = os.getloadavg()
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
