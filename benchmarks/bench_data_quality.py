"""Benchmark: ``data_quality_record`` against calling Great Expectations 1.x directly.

Resamples the bundled Adult data (fixed seed) to ``--rows`` rows and runs the same six
expectations both ways. The GE side follows STACK.md's recipe (ephemeral context, pandas data
source, dataframe asset, whole-dataframe batch definition, ``batch.validate(suite,
result_format="SUMMARY")``); its context and batch definition are built before timing, as ours
(cached per process) is. Our side also computes the full-content digest of the frame and builds
the bounded evidence record; ``check_data`` adds storing the record (a local sqlite MLflow store
in a temporary folder), as a user's call does. Every side runs once on a small frame first
(imports, first-call costs), then ``--repeat`` times, the sides taking turns; each side's median
(min-max) and its ratio to GE's are printed (target ratio <= 1.05). One run per side misleads
on a shared machine: keep ``--repeat`` at 3 or more.

    MLFLOW_DISABLE_TELEMETRY=true python benchmarks/bench_data_quality.py --rows 1000000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from _timing import alternate, median, report

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

RACES = ["White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other"]
# (GE class name, type, kwargs): the same six expectations for both sides
EXPECTATIONS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "ExpectColumnValuesToBeBetween",
        "expect_column_values_to_be_between",
        {"column": "age", "min_value": 17, "max_value": 90},
    ),
    ("ExpectColumnValuesToNotBeNull", "expect_column_values_to_not_be_null", {"column": "sex"}),
    (
        "ExpectColumnValuesToBeInSet",
        "expect_column_values_to_be_in_set",
        {"column": "sex", "value_set": ["Male", "Female"]},
    ),
    (
        "ExpectColumnValuesToBeInSet",
        "expect_column_values_to_be_in_set",
        {"column": "race", "value_set": RACES},
    ),
    (
        "ExpectColumnMeanToBeBetween",
        "expect_column_mean_to_be_between",
        {"column": "hours_per_week", "min_value": 30, "max_value": 50},
    ),
    ("ExpectTableRowCountToBeBetween", "expect_table_row_count_to_be_between", {"min_value": 1}),
]
#: Our side takes the declarative form (as written in aims.yaml).
SUITE: list[dict[str, Any]] = [{"type": t, "kwargs": kw} for _, t, kw in EXPECTATIONS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import great_expectations as gx
    import numpy as np
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from aims_mlops.collectors._data_quality import _gx_runtime
    from aims_mlops.collectors._digest import frame_sha256
    from aims_mlops.collectors.backends import data_quality_record
    from aims_mlops.datasets import load_adult

    adult = load_adult("train")
    rng = np.random.default_rng(args.seed)
    data = adult.iloc[rng.integers(0, len(adult), size=args.rows)].reset_index(drop=True)

    # GE directly: the context and batch definition are made once, outside the timing
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas("bench")
        .add_dataframe_asset("df")
        .add_batch_definition_whole_dataframe("all")
    )
    _gx_runtime()  # ours: the per-process context, likewise made outside the timing

    def direct(frame: Any) -> Any:
        suite = gx.ExpectationSuite(
            name="dq",
            expectations=[getattr(gx.expectations, cls)(**kw) for cls, _, kw in EXPECTATIONS],
        )
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        return batch.validate(suite, result_format="SUMMARY")

    def ours(frame: Any) -> Any:
        return data_quality_record(frame, SUITE, name="adult", system="bench")

    workdir = Path(tempfile.mkdtemp(prefix="aims-bench-dq-"))
    os.chdir(workdir)
    (workdir / "aims.yaml").write_text(CONFIG, encoding="utf-8")
    import aims_mlops as aims

    aims.init(system="bench", config=workdir / "aims.yaml", autolog=False,
              tracking_uri=f"sqlite:///{workdir / 'mlflow.db'}")  # fmt: skip

    def stored(frame: Any) -> Any:
        return aims.check_data(frame, SUITE, name="adult")

    small = data.head(1000)
    direct(small), ours(small), stored(small)  # warm-up: first-call costs on every side

    state: dict[str, Any] = {}
    times = alternate(
        {
            "GE batch.validate": lambda: state.__setitem__("result", direct(data)),
            "data_quality_record": lambda: state.__setitem__("record", ours(data)),
            "check_data (stored)": lambda: state.__setitem__("stored", stored(data)),
        },
        repeat=args.repeat,
    )
    record, result = state["record"], state["result"]
    assert record.metrics["successful_expectations"] == result.statistics["successful_expectations"]
    assert state["stored"].content_hash != record.content_hash  # a record of its own, stored

    start = time.perf_counter()
    frame_sha256(data)
    digest_time = time.perf_counter() - start

    print(f"rows: {args.rows:,}  expectations: {len(SUITE)}  runs per side: {args.repeat}")
    report(times, baseline="GE batch.validate")
    print(f"full-content digest alone (overlapped with GE): {digest_time:.3f} s")
    ratio = median(times["check_data (stored)"]) / median(times["GE batch.validate"])
    print(f"check_data / GE: {ratio:.3f}x  (target <= 1.05)")
    print(f"outcome: {record.outcome}  success_percent: {record.metrics['success_percent']:.1f}")


CONFIG = """\
version: 1
organization: {name: Bench, aims_scope: The benchmark, policy_owner: Head of Data}
systems:
  - id: bench
    name: Bench
    owner: Head of Data
    intended_use: Benchmarking check_data.
    lifecycle_stage: development
"""


if __name__ == "__main__":
    main()
