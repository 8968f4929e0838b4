"""Do reads scale? ``aims summary`` and ``aims status`` on large synthetic histories, side by side
with a raw ``MlflowClient.search_runs`` over the same runs, in one process.

Backends: the embedded sqlite store, and PostgreSQL (a throwaway cluster, see
``tests/postgres_fixtures.py``) read through a real ``mlflow server`` and, for reference,
directly. Histories come from ``benchmarks/generate_history.py`` (5 records per run):

- growth: systems ``g100``, ``g1000``, ``g10000`` with that many runs; ``g1000`` (1,000 runs,
  5,000 records) is the target case: ``aims summary`` < 2 s and < 1.5x the raw search;
- portfolio: 100 systems of 10 runs each in the same store: ``aims status`` < 10 s.

Each timing is the median of ``--repeat`` calls after one warm-up (``aims summary`` and the raw
search take turns, and their min-max is given too) (the CLI builds a new store per
call, as a user's command does). Phases of one summary (current model, records, engine) show
where the time goes. ``aims summary``/``aims status`` use the scaled read
(``EvidenceStore.records_for``); ``full_history_s`` times ``judge(full_history=True)``, which reads
every run of each system, and ``same_as_full_history`` says whether both give the same JSON.

Run: ``MLFLOW_DISABLE_TELEMETRY=true python benchmarks/bench_summary.py [--growth 100,1000,10000]
[--backends sqlite,postgres] [--repeat 3]`` (about 15 minutes with 10,000 runs on 2 cores).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._timing import alternate, median
from benchmarks.generate_history import config_text, generate_history

RECORDS_PER_RUN = 5
PORTFOLIO_SYSTEMS = 100
PORTFOLIO_RUNS = 10
TARGET_SUMMARY_SECONDS = 2.0
TARGET_SUMMARY_RATIO = 1.5
TARGET_STATUS_SECONDS = 10.0


@dataclass
class Results:
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, **row: Any) -> None:
        self.rows.append(row)
        print(json.dumps(row), flush=True)


def spread_of(times: Sequence[float]) -> tuple[float, float]:
    return min(times), max(times)


def median_seconds(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm-up: imports, connections, server caches
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


@contextmanager
def tracking_env(uri: str, workdir: Path) -> Iterator[None]:
    saved = (os.environ.get("MLFLOW_TRACKING_URI"), Path.cwd())
    os.environ["MLFLOW_TRACKING_URI"] = uri
    os.chdir(workdir)
    try:
        yield
    finally:
        if saved[0] is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = saved[0]
        os.chdir(saved[1])


def cli_call(args: Sequence[str]) -> Any:
    from click.testing import CliRunner

    from aims_mlops.cli import cli

    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(f"aims {' '.join(args)} exited {result.exit_code}: {result.output}")
    return json.loads(result.stdout)


_CLIENTS: dict[str, Any] = {}


def client_for(uri: str) -> Any:
    from mlflow import MlflowClient

    if uri not in _CLIENTS:
        _CLIENTS[uri] = MlflowClient(tracking_uri=uri)
    return _CLIENTS[uri]


def raw_search(uri: str, system: str) -> int:
    """Every run of ``system`` (by its ``aims.system`` tag in its experiment), all pages."""
    from aims_mlops.store._contract import system_filter

    client = client_for(uri)
    experiment = client.get_experiment_by_name(system)
    assert experiment is not None
    count, token = 0, None
    while True:
        page = client.search_runs(
            [experiment.experiment_id],
            filter_string=system_filter(system),
            max_results=1000,
            page_token=token,
        )
        count += len(page)
        token = page.token
        if not token:
            return count


def phases(uri: str, config: Path, system: str) -> dict[str, float]:
    """Seconds spent in one summary's parts: current model, records, engine."""
    from datetime import UTC, datetime

    from aims_mlops.capture import make_store
    from aims_mlops.catalog import load_catalog
    from aims_mlops.config import load_config
    from aims_mlops.engine import assess

    cfg = load_config(config)
    store = make_store(cfg, tracking_uri=uri)
    binding = cfg.system(system).mlflow
    catalog = load_catalog()
    began = time.perf_counter()
    current = store.current_models(  # carries the model's run on to the read
        {
            system: {
                "registered_model": binding.registered_model,
                "alias": binding.alias,
                "experiment": binding.experiment,
            }
        }
    )
    t_current = time.perf_counter() - began
    began = time.perf_counter()
    records = store.records_for(
        [system],
        current_models=current,
        experiments={system: binding.experiment},
        kinds={k for e in catalog.entries if e.scope == "system" for k in e.rule.kinds},
    )
    t_records = time.perf_counter() - began
    began = time.perf_counter()
    assess(
        catalog,
        cfg,
        records,
        current_models=current,
        now=datetime.now(UTC),
        systems=[system],
    )
    t_engine = time.perf_counter() - began
    return {
        "current_model_s": round(t_current, 3),
        "records_s": round(t_records, 3),
        "engine_s": round(t_engine, 3),
        "records_read": len(records),
    }


def full_judge(uri: str, config: Path, systems: Sequence[str] | None = None) -> Any:
    """judge() reading every run of each system (the read path before ``records_for``)."""
    from aims_mlops.capture import make_store
    from aims_mlops.config import load_config
    from aims_mlops.judgement import judge

    cfg = load_config(config)
    store = make_store(cfg, tracking_uri=uri)
    return judge(config=config, systems=systems, store=store, full_history=True).assessment


def full_summary(uri: str, config: Path, system: str) -> Any:
    from aims_mlops.engine import summary_dict

    data = summary_dict(full_judge(uri, config, [system]).systems[system])
    return json.loads(json.dumps(data, default=str))


def full_status(uri: str, config: Path) -> Any:
    from aims_mlops.engine import status_rows

    return json.loads(json.dumps(status_rows(full_judge(uri, config)), default=str))


def measure(
    results: Results,
    *,
    backend: str,
    uri: str,
    workdir: Path,
    growth: Sequence[int],
    repeat: int,
) -> None:
    growth_config = workdir / "growth.yaml"
    growth_config.write_text(config_text([f"g{n}" for n in growth]), encoding="utf-8")
    portfolio_config = workdir / "portfolio.yaml"
    portfolio_config.write_text(
        config_text([f"p-{i:03d}" for i in range(PORTFOLIO_SYSTEMS)]), encoding="utf-8"
    )
    with tracking_env(uri, workdir):
        for n in growth:
            system = f"g{n}"
            cli_summary = functools.partial(
                cli_call, ["summary", system, "--config", str(growth_config), "--format", "json"]
            )
            search = functools.partial(raw_search, uri, system)
            cli_summary(), search()  # warm-up: imports, connections, server caches
            paired = alternate({"summary": cli_summary, "raw": search}, repeat=repeat)
            summary, raw = median(paired["summary"]), median(paired["raw"])
            full = median_seconds(
                lambda system=system: full_summary(uri, growth_config, system), repeat
            )
            same = full_summary(uri, growth_config, system) == cli_call(
                ["summary", system, "--config", str(growth_config), "--format", "json"]
            )
            row: dict[str, Any] = {
                "backend": backend,
                "case": "summary",
                "system": system,
                "runs": n,
                "records": n * RECORDS_PER_RUN,
                "summary_s": round(summary, 3),
                "summary_min_max_s": [round(t, 3) for t in spread_of(paired["summary"])],
                "raw_search_s": round(raw, 3),
                "raw_search_min_max_s": [round(t, 3) for t in spread_of(paired["raw"])],
                "ratio": round(summary / raw, 2),
                "full_history_s": round(full, 3),
                "full_history_ratio": round(full / raw, 2),
                "same_as_full_history": same,
                **phases(uri, growth_config, system),
            }
            if n == 1000:
                row["meets_target"] = summary < TARGET_SUMMARY_SECONDS and (
                    summary / raw < TARGET_SUMMARY_RATIO
                )
            results.add(**row)
        status = median_seconds(
            lambda: cli_call(["status", "--config", str(portfolio_config), "--format", "json"]),
            max(1, repeat - 1),
        )
        full_status_s = median_seconds(
            lambda: full_status(uri, portfolio_config), max(1, repeat - 1)
        )
        same_status = full_status(uri, portfolio_config) == cli_call(
            ["status", "--config", str(portfolio_config), "--format", "json"]
        )
        raw_all = median_seconds(
            lambda: [raw_search(uri, f"p-{i:03d}") for i in range(PORTFOLIO_SYSTEMS)], 1
        )
        results.add(
            backend=backend,
            case="status",
            systems=PORTFOLIO_SYSTEMS,
            runs=PORTFOLIO_SYSTEMS * PORTFOLIO_RUNS,
            records=PORTFOLIO_SYSTEMS * PORTFOLIO_RUNS * RECORDS_PER_RUN,
            status_s=round(status, 3),
            raw_search_s=round(raw_all, 3),
            ratio=round(status / raw_all, 2),
            meets_target=status < TARGET_STATUS_SECONDS,
            full_history_s=round(full_status_s, 3),
            same_as_full_history=same_status,
        )


def populate(
    uri: str, workdir: Path, growth: Sequence[int], results: Results, backend: str
) -> None:
    for n in growth:
        history = generate_history(
            tracking_uri=uri,
            out=workdir / "gen",
            runs=n,
            records=n * RECORDS_PER_RUN,
            names=[f"g{n}"],
        )
        results.add(backend=backend, case="generate", runs=n, seconds=round(history.seconds, 1))
    history = generate_history(
        tracking_uri=uri,
        out=workdir / "gen",
        runs=PORTFOLIO_RUNS,
        records=PORTFOLIO_RUNS * RECORDS_PER_RUN,
        names=[f"p-{i:03d}" for i in range(PORTFOLIO_SYSTEMS)],
    )
    results.add(
        backend=backend,
        case="generate",
        runs=PORTFOLIO_SYSTEMS * PORTFOLIO_RUNS,
        seconds=round(history.seconds, 1),
    )


def run_sqlite(workdir: Path, growth: Sequence[int], repeat: int, results: Results) -> None:
    uri = f"sqlite:///{workdir / 'mlflow.db'}"
    marker = workdir / ".populated"  # --workdir: a second run reuses the sqlite history
    if not marker.exists():
        populate(uri, workdir, growth, results, "sqlite")
        marker.touch()
    measure(results, backend="sqlite", uri=uri, workdir=workdir, growth=growth, repeat=repeat)


def run_postgres(
    workdir: Path, growth: Sequence[int], repeat: int, results: Results, workers: int
) -> None:
    from tests.postgres_fixtures import PostgresCluster, PostgresMlflowServer, find_pg_bindir

    bindir = find_pg_bindir()
    if bindir is None:
        print("postgres: binaries missing (bash scripts/postgres.sh); skipped", file=sys.stderr)
        return
    cluster = PostgresCluster(bindir=bindir)
    server: PostgresMlflowServer | None = None
    try:
        cluster.start()
        db_uri = cluster.create_database("bench")
        # tables first (as the server would), then the history straight into the database
        populate(db_uri, workdir, growth, results, "postgres")
        server = PostgresMlflowServer(workdir, backend_uri=db_uri, workers=workers)
        server.start()
        measure(
            results,
            backend=f"postgres via mlflow server ({workers} workers)",
            uri=server.uri,
            workdir=workdir,
            growth=growth,
            repeat=repeat,
        )
        measure(
            results,
            backend="postgres direct",
            uri=db_uri,
            workdir=workdir,
            growth=growth,
            repeat=repeat,
        )
    finally:
        if server is not None:
            server.stop()
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--growth", default="100,1000,10000", help="runs per growth system")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="mlflow server workers")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="keep (and reuse) the sqlite history here"
    )
    args = parser.parse_args()
    growth = [int(n) for n in args.growth.split(",") if n]
    results = Results()
    with tempfile.TemporaryDirectory(prefix="aims-bench-summary-") as tmp:
        for backend in args.backends.split(","):
            workdir = (args.workdir or Path(tmp)) / backend
            workdir.mkdir(parents=True, exist_ok=True)
            if backend == "sqlite":
                run_sqlite(workdir, growth, args.repeat, results)
            elif backend == "postgres":
                run_postgres(workdir, growth, args.repeat, results, args.workers)
            else:
                parser.error(f"unknown backend {backend!r}")
    if args.json is not None:
        args.json.write_text(json.dumps(results.rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
