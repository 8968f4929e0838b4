"""How long the dashboard takes to build for a system with 5,000 evidence records.

Pure: synthetic records, the example configuration, the engine and the widget tree; no MLflow
store is touched (the store object is never contacted while building). Prints the median of a
few repetitions of (a) the engine's judgement and (b) building the dashboard widget tree from it.
Target: the dashboard builds in under 0.5 s.

    python benchmarks/bench_dashboard.py [--records 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _timing import load_line, spread

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

SYSTEM = "income-classifier"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
KINDS = (
    ("fairness", ("A.5.4", "A.6.2.4")),
    ("data_quality", ("A.7.4", "A.6.2.4")),
    ("performance", ("A.6.2.4",)),
    ("monitoring", ("A.6.2.6", "9.1")),
    ("lineage.code", ("A.6.2.3", "A.7.6")),
    ("lineage.params", ("A.6.2.3", "A.6.2.8")),
    ("lineage.datasets", ("A.4.3", "A.7.2", "A.7.3", "A.7.5")),
    ("lineage.environment", ("A.4.4",)),
    ("notebook.provenance", ("A.6.2.3",)),
)


def synthetic_records(count: int, *, seed: int = 42) -> list:
    """``count`` records of the example system over the last year (about 1 in 10 failing)."""
    from aims_mlops.evidence import Subject, new_record

    rng = random.Random(seed)
    records = []
    for i in range(count):
        kind, controls = KINDS[i % len(KINDS)]
        collected = NOW - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
        outcome = (
            "info"
            if kind.startswith(("lineage", "notebook"))
            else ("fail" if rng.random() < 0.1 else "pass")
        )
        metrics = (
            {"demographic_parity_difference": rng.uniform(0.0, 0.2)} if kind == "fairness" else {}
        )
        records.append(
            new_record(
                kind=kind,
                system=SYSTEM,
                outcome=outcome,
                collector=f"bench.{kind}",
                subject=Subject(run_id=f"{i:032x}", experiment_id="1"),
                metrics=metrics,
                details={"note": f"synthetic record {i}"},
                controls=controls,
                collected_at=collected.isoformat().replace("+00:00", "Z"),
            )
        )
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from aims_mlops.catalog import load_catalog
    from aims_mlops.config import example_config_text, parse_config
    from aims_mlops.engine import assess
    from aims_mlops.judgement import Judgement
    from aims_mlops.store import EvidenceStore

    catalog = load_catalog()
    config = parse_config(example_config_text())
    records = synthetic_records(args.records)

    judge_times = []
    assessment = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        assessment = assess(catalog, config, records, current_models={SYSTEM: None}, now=NOW)
        judge_times.append(time.perf_counter() - start)
    assert assessment is not None
    judgement = Judgement(
        assessment=assessment,
        config=config,
        config_path=Path("aims.yaml"),
        catalog=catalog,
        records=tuple(records),
        current_models={SYSTEM: None},
        store=EvidenceStore(tracking_uri="http://127.0.0.1:5000"),
    )

    start = time.perf_counter()
    import ipywidgets  # noqa: F401  (import cost reported separately)

    from aims_mlops.views import dashboard

    import_time = time.perf_counter() - start
    build_times = []
    board = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        board = dashboard(SYSTEM, judgement=judgement)
        build_times.append(time.perf_counter() - start)
    assert board is not None
    start = time.perf_counter()
    board.open_group("A.6")
    open_time = time.perf_counter() - start
    start = time.perf_counter()
    board.evidence_pager.go(1)
    page_time = time.perf_counter() - start

    print(f"records: {len(records)} ({board.model.evidence_count()} shown for {SYSTEM})")
    print(load_line())
    print(f"judge (pure engine): {spread(judge_times)}")
    print(f"ipywidgets import:   {import_time:.3f} s (once per process)")
    print(f"dashboard build:     {spread(build_times)}; target < 0.5 s")
    print(f"open section A.6:    {open_time:.3f} s; next evidence page: {page_time:.3f} s")


if __name__ == "__main__":
    main()
