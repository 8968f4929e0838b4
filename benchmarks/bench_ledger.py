"""What the ledger costs: ``aims summary`` with checkpoint verification against the same summary
without it, and how a checkpoint's cost follows the records added.

Store: the embedded sqlite store with one system of 1,000 runs and 5,000 records
(``benchmarks/generate_history.py``), checkpointed once (``aims checkpoint``).

- summary: ``aims summary <system> --format json`` in one process, alternating a call with the
  ledger (the default: the newest checkpoints and the head's list read, the deleted runs
  searched, every listed record of the system checked against what the summary read) and a call
  with ``EvidenceStore.verify_ledger`` replaced by an empty report; medians of ``--repeat``
  pairs with min-max, their ratio (target: <= 1.3), and the ratio of the minima (the figure
  least disturbed by other load on the machine; the 1-minute load average is printed);
- checkpoint: capture's checkpoint (``EvidenceStore.checkpoint(added=...)``: only the records
  just written, no listing) for 10 and 100 records added, and the full sweep (``aims
  checkpoint``: the store listed) with 10 added, each against the first checkpoint of 5,000.

Run: ``MLFLOW_DISABLE_TELEMETRY=true python benchmarks/bench_ledger.py [--repeat 5]``.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="aims-bench-ledger-"))
    uri = f"sqlite:///{workdir / 'mlflow.db'}"
    history = generate_history(
        tracking_uri=uri, out=workdir, runs=RUNS, records=RECORDS, names=[SYSTEM]
    )
    run_id = history.current_run_ids[SYSTEM]
    rows: dict[str, Any] = {"runs": RUNS, "records": RECORDS}
    from aims_mlops.store import EvidenceStore

    with tracking_env(uri, workdir):
        first = timed(lambda: cli_call(["checkpoint", "--format", "json"]))
        rows["first_checkpoint_s"] = round(first, 3)

        original = EvidenceStore.verify_ledger
        from aims_mlops.store._ledger import LedgerReport

        def without(self: EvidenceStore, **_: Any) -> LedgerReport:
            return LedgerReport(findings=(), problems=(), head=None, replaced=frozenset(), listed=0)

        def with_ledger() -> Any:
            data = cli_call(["summary", SYSTEM, "--format", "json"])
            assert data["ledger"]["listed"] == RECORDS, data["ledger"]
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
        rows["load_average_1min"] = os.getloadavg()[0]

        store = EvidenceStore(tracking_uri=uri)
        for count, index in ((10, 1), (100, 2)):
            added = add_records(uri, run_id, count, index)
            seconds = timed(lambda a=added: store.checkpoint(key=None, added=a))
            rows[f"capture_checkpoint_{count}_added_s"] = round(seconds, 3)
            rows[f"capture_checkpoint_{count}_added_ratio_to_first"] = round(seconds / first, 3)
        add_records(uri, run_id, 10, 3)
        sweep = timed(lambda: cli_call(["checkpoint", "--format", "json"]))
        rows["sweep_checkpoint_10_added_s"] = round(sweep, 3)
        rows["sweep_checkpoint_10_added_ratio_to_first"] = round(sweep / first, 3)
        rows["summary_target_met"] = rows["summary_ratio"] <= TARGET_SUMMARY_RATIO
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
