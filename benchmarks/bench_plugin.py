"""Overhead of the MLflow integration, in one process on the same data.

(a) create and end 200 empty runs with the ``aims_mlops`` run-context provider registered vs
    unregistered (target ratio <= 1.05); the provider resolves the system through the
    experiment-to-system mapping of an ``aims.yaml`` (its most expensive path).
(b) one LogisticRegression training run on UCI Adult (params, metrics, dataset, model) with
    autolog lineage capture vs without (target ratio <= 1.10).

Run: ``MLFLOW_DISABLE_TELEMETRY=true python benchmarks/bench_plugin.py [--runs 200 --trainings 3]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

FEATURES = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]


@contextmanager
def provider_registered(registered: bool) -> Iterator[None]:
    """Temporarily remove our provider from MLflow's registry (in this process only)."""
    from mlflow.tracking.context.registry import _run_context_provider_registry as registry

    from aims_mlops.integrations.mlflow_plugin import AimsRunContextProvider

    saved = list(registry._registry)
    if not any(isinstance(p, AimsRunContextProvider) for p in saved):
        raise SystemExit("the aims_mlops provider is not registered: is the package installed?")
    if not registered:
        registry._registry = [p for p in saved if not isinstance(p, AimsRunContextProvider)]
    try:
        yield
    finally:
        registry._registry = saved


def time_blocks(
    work: Callable[[], None], *, with_side: Callable[[bool], object], rounds: int
) -> tuple[list[float], list[float]]:
    """Alternate with/without blocks (ABBA order) so drift hits both sides alike."""
    with_times: list[float] = []
    without_times: list[float] = []
    for index in range(rounds):
        order = (True, False) if index % 2 == 0 else (False, True)
        for flag in order:
            with with_side(flag):  # type: ignore[attr-defined]
                started = time.perf_counter()
                work()
                elapsed = time.perf_counter() - started
            (with_times if flag else without_times).append(elapsed)
    return with_times, without_times


def bench_empty_runs(total_runs: int) -> tuple[float, float, float]:
    import mlflow

    rounds = 10
    per_block = max(1, total_runs // rounds)

    def work() -> None:
        for _ in range(per_block):
            with mlflow.start_run():
                pass

    for flag in (True, False):  # warm up both paths (imports, caches, sqlite pages)
        with provider_registered(flag):
            for _ in range(5):
                work_one = mlflow.start_run()
                mlflow.end_run()
                del work_one
    with_t, without_t = time_blocks(work, with_side=provider_registered, rounds=rounds)
    return sum(with_t), sum(without_t), sum(with_t) / sum(without_t)


def bench_provider_call(calls: int = 2_000) -> float:
    """Microseconds one run start spends in our provider (``in_context()`` then ``tags()``)."""
    from aims_mlops.integrations.mlflow_plugin import AimsRunContextProvider

    provider = AimsRunContextProvider()
    provider.in_context()
    provider.tags()
    started = time.perf_counter()
    for _ in range(calls):
        if provider.in_context():
            provider.tags()
    return (time.perf_counter() - started) / calls * 1e6


def bench_training(trainings: int) -> tuple[float, float, float, float]:
    import mlflow
    from sklearn.linear_model import LogisticRegression

    from aims_mlops.datasets import load_adult
    from aims_mlops.integrations import _autolog

    frame = load_adult("train")
    train, holdout = frame.iloc[:25_000], frame.iloc[25_000:]

    end_times: dict[bool, list[float]] = {True: [], False: []}

    def work() -> None:
        quiet = io.StringIO()
        with (
            contextlib.redirect_stdout(quiet),
            contextlib.redirect_stderr(quiet),
            mlflow.start_run(),
        ):
            mlflow.log_params({"C": 1.0, "max_iter": 300, "features": ",".join(FEATURES)})
            mlflow.log_input(
                mlflow.data.from_pandas(train, source="adult.data", targets="label", name="adult"),
                context="training",
            )
            model = LogisticRegression(C=1.0, max_iter=300).fit(train[FEATURES], train["label"])
            mlflow.log_metrics(
                {
                    "accuracy": float(model.score(holdout[FEATURES], holdout["label"])),
                    "train_accuracy": float(model.score(train[FEATURES], train["label"])),
                }
            )
            mlflow.sklearn.log_model(model, name="model", registered_model_name="bench-income")
            started = time.perf_counter()
            mlflow.end_run()  # timed on its own: this is where lineage is captured
            end_times[_autolog.is_enabled()].append(time.perf_counter() - started)

    @contextmanager
    def autolog(enabled: bool) -> Iterator[None]:
        if enabled:
            _autolog.enable()
        try:
            yield
        finally:
            _autolog.disable()

    for flag in (True, False):  # warm up: first-use costs (imports, environment facts)
        with autolog(flag):
            work()
    end_times[True].clear()
    end_times[False].clear()
    with_t, without_t = time_blocks(work, with_side=autolog, rounds=trainings)
    end_delta = statistics.median(end_times[True]) - statistics.median(end_times[False])
    return (
        statistics.median(with_t),
        statistics.median(without_t),
        statistics.median(with_t) / statistics.median(without_t),
        end_delta,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200, help="empty runs per side (a)")
    parser.add_argument("--trainings", type=int, default=3, help="training runs per side (b)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # MLflow's own hints would drown the figures

    from aims_mlops.config import example_config_text

    with tempfile.TemporaryDirectory(prefix="aims-bench-") as tmp:
        os.chdir(tmp)
        Path("aims.yaml").write_text(example_config_text(), encoding="utf-8")
        os.environ.pop("AIMS_SYSTEM", None)
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
        import logging

        import mlflow

        logging.getLogger("mlflow").setLevel(logging.WARNING)
        mlflow.set_experiment("income-classifier")  # mapped to a system in the example config

        with_s, without_s, ratio = bench_empty_runs(args.runs)
        runs = max(1, args.runs // 10) * 10
        print(
            f"(a) {runs} empty runs: with provider {with_s:.3f} s, without {without_s:.3f} s, "
            f"per run +{(with_s - without_s) / runs * 1000:.2f} ms, ratio {ratio:.3f} "
            f"(target <= 1.05)"
        )
        print(f"    provider cost measured directly: {bench_provider_call():.1f} us per run start")
        with_s, without_s, ratio, end_delta = bench_training(args.trainings)
        print(
            f"(b) Adult LogisticRegression training run (median of {args.trainings}): "
            f"with autolog {with_s:.3f} s, without {without_s:.3f} s, "
            f"{(with_s - without_s) * 1000:+.0f} ms, ratio {ratio:.3f} (target <= 1.10)"
        )
        print(f"    end_run() measured directly: {end_delta * 1000:+.0f} ms with lineage capture")
        os.chdir("/")


if __name__ == "__main__":
    main()
